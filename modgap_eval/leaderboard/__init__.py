"""Leaderboards: merge results files into ``leaderboard.json`` and render it as a static site.

``entries`` reads and converts results files and reported-numbers files, ``merge`` applies the
comparability and replacement rules, ``site`` renders the folder, ``hub`` publishes the JSON.
"""

from modgap_eval.leaderboard.schema import LEADERBOARD_SCHEMA_VERSION, Leaderboard, Provenance

__all__ = ["LEADERBOARD_SCHEMA_VERSION", "Leaderboard", "Provenance"]
