"""CLI subcommands, one module each (see modgap_eval.cli.COMMANDS)."""
