"""Render the leaderboard as a static folder that works from ``file://`` and GitHub Pages.

``index.html`` embeds the data as JSON in a ``<script type="application/json">`` element (a ``fetch``
of a local file fails under ``file://``), and beside it the declared metrics (``modgap_eval.metrics``)
from which ``app.js`` builds the table's columns; ``app.js`` draws the table and the inline-SVG plots
with plain DOM calls. Where a view's entries declare readings (``TaskEntry.readings``: strict and
voicebench, acc/acc_norm/pmi) a selector picks the one shown, the primary by default, with the reading's own
paired CI where the entry keeps one (``ReadingEntry``). The output is a pure function of the leaderboard: the
same data gives the same bytes.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from modgap_eval.leaderboard.merge import dump_leaderboard, write_if_changed
from modgap_eval.leaderboard.schema import Leaderboard
from modgap_eval.metrics import GAP_METRICS, REPRESENTATION_METRICS

STATIC_FILES = ("app.js", "style.css")

# Inside a script element only "</script" (and "<!--") can end or confuse it, and a JS parser of
# old treats U+2028/2029 as line ends; every one of these can only occur inside a JSON string, where
# its \\u escape means the same thing.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}

INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
  content="default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:">
<title>modgap-eval leaderboard</title>
<link rel="stylesheet" href="style.css">
</head>
<body>
<h1>modgap-eval leaderboard</h1>
<p class="lead">Speech-vs-text modality gap of speech language models: the same items, written and spoken, through
the same prompt. GAP = text − speech in points (lower is better). Sim and APS come with their chance level
(mismatched pairs) and the excess over it. Rows marked <span class="badge">reported, not reproduced</span> copy a
publication's numbers; they were not run by this project and use the publication's own task definitions.</p>
<div class="controls">
  <span><label for="scope">View</label> <select id="scope"></select></span>
  <span id="reading-control" hidden><label for="reading">Reading</label> <select id="reading"></select></span>
  <span><label for="metric">Similarity</label> <select id="metric"><option value="cos">cosine</option>
    <option value="euc">Euclidean</option></select></span>
  <span><label for="variant">Shown as</label> <select id="variant"><option value="excess">excess over chance</option>
    <option value="matched">matched pairs</option>
    <option value="mismatched">mismatched pairs (chance)</option></select></span>
</div>
<h2 id="scope-title"></h2>
<p id="reading-note" class="note" hidden></p>
<div class="table-scroll"><table id="board"></table></div>
<p id="empty" class="note" hidden>No entries yet: add results with
<code>modgap-eval leaderboard add RESULTS...</code>.</p>
<h2>GAP with confidence intervals</h2>
<svg id="gap-bars" class="plot" role="img" aria-label="GAP per model with bootstrap confidence intervals"></svg>
<h2>Per-layer similarity</h2>
<svg id="layer-curves" class="plot" role="img"
  aria-label="Per-layer similarity between speech and text states"></svg>
<h2>GAP vs APS</h2>
<svg id="gap-aps" class="plot" role="img" aria-label="GAP against Alignment Path Score"></svg>
<h2>Runs behind these rows</h2>
<ul id="runs"></ul>
<footer>Built by <code>modgap-eval leaderboard build</code> from <code>leaderboard.json</code>
(schema version @SCHEMA@).</footer>
<script id="leaderboard-data" type="application/json">@DATA@</script>
<script id="metrics-data" type="application/json">@METRICS@</script>
<script src="app.js"></script>
</body>
</html>
"""


def script_safe_json(text: str) -> str:
    """Make JSON text safe to place between ``<script>`` tags without changing what it parses to."""
    return "".join(_SCRIPT_ESCAPES.get(ch, ch) for ch in text)


def render_index(board: Leaderboard) -> str:
    # Compact, canonical JSON (same order as leaderboard.json) so equal boards give equal pages.
    data = json.dumps(json.loads(dump_leaderboard(board)), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    metrics = json.dumps(
        {"gap": [m.as_json() for m in GAP_METRICS], "representation": [m.as_json() for m in REPRESENTATION_METRICS]},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    page = INDEX_TEMPLATE.replace("@SCHEMA@", str(board.schema_version)).replace("@METRICS@", script_safe_json(metrics))
    return page.replace("@DATA@", script_safe_json(data))  # last: the data may hold any text


def build_site(board: Leaderboard, out_dir: Path) -> Path:
    """Write ``index.html``, ``app.js`` and ``style.css`` into ``out_dir``; return the index path."""
    static = resources.files("modgap_eval.leaderboard").joinpath("static")
    for name in STATIC_FILES:
        write_if_changed(out_dir / name, static.joinpath(name).read_text(encoding="utf-8"))
    index = out_dir / "index.html"
    write_if_changed(index, render_index(board))
    return index
