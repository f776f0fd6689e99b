"""The static site: untrusted names stay text, embedded JSON cannot end its script element, builds are deterministic."""

from __future__ import annotations

import json
import re

import pytest

from modgap_eval.leaderboard.entries import read_incoming
from modgap_eval.leaderboard.merge import merge_all
from modgap_eval.leaderboard.schema import Leaderboard
from modgap_eval.leaderboard.site import build_site, render_index, script_safe_json
from tests.leaderboard.builders import SCRIPT_NAME, representation, run_results, task_result, write_run
from tests.leaderboard.reading_board import (
    GROUP,
    HOSTILE_READING,
    MCQ_TASK,
    ONE_READING_TASK,
    by_hand,
    reading_board,
)

NASTY = ["</script><script>alert(1)</script>", "<!-- <script>", "a\u2028b\u2029c", "&amp; & <b>", '"quoted" \\ back']


def board_with(tmp_path, name: str) -> Leaderboard:
    file = write_run(tmp_path, "run", run_results(name, [task_result("gk", 60.0, 45.0, rep=representation(0.1))]))
    return merge_all(Leaderboard(), [read_incoming(file, tmp_path)]).board


def embedded_data(html: str) -> str:
    match = re.search(r'<script id="leaderboard-data" type="application/json">(.*?)</script>', html, re.S)
    assert match is not None
    return match.group(1)


def test_script_safe_json_escapes_and_round_trips():
    text = json.dumps(NASTY, ensure_ascii=False)
    safe = script_safe_json(text)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in safe
    assert json.loads(safe) == NASTY


def test_model_name_with_script_is_data_not_markup(tmp_path):
    html = render_index(board_with(tmp_path, SCRIPT_NAME))
    # Only the three script elements of the template: the data, the declared metrics and app.js.
    assert len(re.findall(r"<script", html, re.I)) == 3
    assert "window.__pwned" in html  # the name is there ...
    assert SCRIPT_NAME not in html  # ... but never as raw markup
    data = json.loads(embedded_data(html))
    assert data["models"][0]["name"] == SCRIPT_NAME


def test_nasty_strings_everywhere_survive_embedding(tmp_path):
    board = board_with(tmp_path, "m")
    model = board.models[0]
    model.details = {"note": NASTY}
    model.args = {"k</script>": "v\u2028"}
    html = render_index(board)
    assert len(re.findall(r"</script", html, re.I)) == 3  # data, declared metrics, app.js
    data = json.loads(embedded_data(html))
    assert data["models"][0]["details"]["note"] == NASTY
    assert data["models"][0]["args"] == {"k</script>": "v\u2028"}


def test_app_never_uses_inner_html():
    from importlib import resources

    app = resources.files("modgap_eval.leaderboard").joinpath("static", "app.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", app)


def test_build_is_deterministic_and_self_contained(tmp_path):
    board = board_with(tmp_path, "alpha")
    first = build_site(board, tmp_path / "site1").parent
    second = build_site(board, tmp_path / "site2").parent
    names = sorted(p.name for p in first.iterdir())
    assert names == ["app.js", "index.html", "style.css"]
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes()
    html = (first / "index.html").read_text()
    # Nothing loaded from the network: every src/href is a local file.
    for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"[a-z]+:|//", ref), ref


def test_page_data_carries_each_entrys_readings_with_the_primary_marked(tmp_path):
    """What app.js reads for the reading selector: per task each declared reading and which is primary (the
    entry's own numbers), per group each reading's mean; a hostile reading name cannot end its script."""
    board, results = reading_board(tmp_path)
    html = render_index(board)
    assert len(re.findall(r"</script", html, re.I)) == 3
    assert '<select id="reading">' in html and '<span id="reading-control" hidden>' in html
    data = {m["name"]: m for m in json.loads(embedded_data(html))["models"]}
    for name, run in results.items():
        task, entry = run.tasks[MCQ_TASK], data[name]["tasks"][MCQ_TASK]
        assert [n for n, r in entry["readings"].items() if r["primary"]] == [task.primary_reading] == ["strict"]
        primary = entry["readings"]["strict"]
        assert (primary["text"], primary["speech"], primary["gap"]) == (entry["text"], entry["speech"], entry["gap"])
        for reading in ("strict", "voicebench"):
            assert entry["readings"][reading]["speech"] == pytest.approx(by_hand(name, reading))
        group = data[name]["groups"][GROUP]["readings"]
        # members without a reading enter with their one score (aggregate._group_readings)
        one = run.tasks[ONE_READING_TASK].speech.score
        assert group["voicebench"]["speech"] == pytest.approx((by_hand(name, "voicebench") + one) / 2)
        assert group["strict"]["speech"] == pytest.approx(data[name]["groups"][GROUP]["speech"])
    assert HOSTILE_READING in data["beta"]["tasks"][MCQ_TASK]["readings"]
    assert HOSTILE_READING not in html  # present only with its < > escaped
    assert data["GPT-4o-Audio"]["tasks"][MCQ_TASK]["readings"] == {}  # a published row: its only numbers


def test_shipped_site_is_the_build_of_the_shipped_board(tmp_path):
    """leaderboard/site/ is exactly what `modgap-eval leaderboard build` makes from leaderboard/leaderboard.json."""
    from modgap_eval.leaderboard.merge import load_leaderboard
    from modgap_eval.paths import REPO_ROOT

    shipped = REPO_ROOT / "leaderboard" / "site"
    built = build_site(load_leaderboard(REPO_ROOT / "leaderboard" / "leaderboard.json"), tmp_path / "site").parent
    assert sorted(p.name for p in shipped.iterdir()) == sorted(p.name for p in built.iterdir())
    for file in built.iterdir():
        assert (shipped / file.name).read_bytes() == file.read_bytes(), f"{file.name}: run `leaderboard build`"
