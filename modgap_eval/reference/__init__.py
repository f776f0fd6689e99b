"""The reference LSLM: its training recipe (corpus, data, train, recipe), evaluation and shipped checkpoints."""
