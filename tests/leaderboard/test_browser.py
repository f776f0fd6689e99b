"""The built site in a real headless Chromium (Debian's), opened from file:// with no server.

Needs ``apt-get install chromium`` and ``pip install playwright`` (never ``playwright install``).
Skips only when Chromium is absent and ``CI`` is unset; in CI a missing browser fails the test, and
wherever Chromium is present a missing playwright fails it too.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from modgap_eval.leaderboard.entries import read_incoming
from modgap_eval.leaderboard.merge import merge_all
from modgap_eval.leaderboard.schema import Leaderboard
from modgap_eval.leaderboard.site import build_site
from modgap_eval.paths import REPO_ROOT
from modgap_eval.results import read_results
from tests.extras import extra
from tests.leaderboard.builders import SCRIPT_NAME, representation, run_results, task_result, write_run
from tests.leaderboard.reading_board import (
    GROUP,
    HOSTILE_READING,
    INHERITED_NAME,
    LL_RUNS,
    LL_TASK,
    MCQ_TASK,
    ONE_READING_TASK,
    SPEECH,
    by_hand,
    reading_board,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


def require_browser():
    if CHROMIUM is None and not os.environ.get("CI"):
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    if not os.environ.get("CI"):
        pytest.importorskip("playwright", reason=extra("playwright", "dev"))
    assert CHROMIUM is not None, "CI must install Debian's chromium for the leaderboard browser test"


def build_board(tmp_path: Path) -> Path:
    files = []
    for label, name, text, speech, offset in [
        ("a", "alpha", 60.0, 45.0, 0.10),  # gap 15
        ("b", "beta", 70.0, 60.0, 0.20),  # gap 10
        ("c", SCRIPT_NAME, 55.0, 35.0, 0.00),  # gap 20
    ]:
        tasks = [
            task_result("gk", text, speech, rep=representation(offset)),
            task_result("arith", text + 10, speech + 12, rep=representation(offset / 2)),
        ]
        files.append(write_run(tmp_path, label, run_results(name, tasks)))
    files.append(REPO_ROOT / "leaderboard" / "reported" / "xiang2025_qwen2_audio.yaml")
    board = merge_all(Leaderboard(), [read_incoming(f, tmp_path / "lb") for f in files]).board
    return build_site(board, tmp_path / "lb" / "site")


@contextmanager
def opened(tmp_path: Path, index: Path) -> Iterator[tuple[object, list[str]]]:
    """A page of headless Chromium at ``index``, with every page error, console error and dialog recorded."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900},
        )
        try:
            page = context.new_page()
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on(
                "console",
                lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
            )
            page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
            page.goto(index.as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=10_000)
            yield page, problems
        finally:
            context.close()


def column(page, key: str) -> list[float]:
    return [
        float(v)
        for v in page.eval_on_selector_all(
            f'#board tbody td[data-key="{key}"]', "tds => tds.map(td => td.dataset.value)"
        )
    ]


def texts(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "nodes => nodes.map(n => n.textContent)")


def header(page, key: str) -> list[str]:
    """A column header's lines as shown: its label, then the reading its numbers are (if the view has readings)."""
    return page.inner_text(f'#board th[data-key="{key}"]').split("\n")


def cell(page, model: str, key: str) -> float:
    return float(page.get_attribute(f'#board tbody tr[data-model="{model}"] td[data-key="{key}"]', "data-value"))


def test_site_renders_sorts_plots_and_escapes(tmp_path):
    require_browser()
    index = build_board(tmp_path)
    with opened(tmp_path, index) as (page, problems):
        # The table renders: the default view is the group most models report, three reproduced models.
        assert page.text_content("#scope-title") == "Group suite"
        assert page.locator("#board tbody tr").count() == 3
        # Default order: GAP ascending (lower is better); the group's GAP is the mean of its tasks'.
        assert column(page, "gap") == [9.0, 14.0, 19.0]
        page.click('#board th[data-key="gap"]')
        assert column(page, "gap") == [19.0, 14.0, 9.0]
        assert page.get_attribute('#board th[data-key="gap"]', "aria-sort") == "descending"
        page.click('#board th[data-key="text"]')
        assert column(page, "text") == [60.0, 65.0, 75.0]
        names = page.eval_on_selector_all("#board tbody .name", "ns => ns.map(n => n.textContent)")
        assert names == [SCRIPT_NAME, "alpha", "beta"]

        # A task view: every plot is drawn as inline SVG.
        page.select_option("#scope", "task:gk")
        assert page.text_content("#scope-title") == "Task gk"
        assert page.locator("#gap-bars g.bar rect").count() == 3
        assert page.locator("#gap-bars line.whisker").count() == 9
        assert page.locator("#layer-curves g.curve polyline").count() == 6
        assert page.locator("#gap-aps g.point circle").count() == 3
        title = page.get_attribute('#board tbody tr:first-child td[data-key="aps"]', "title")
        assert title.startswith("matched ") and "mismatched" in title and "excess" in title
        assert "McNemar p 0.23" in page.get_attribute('#board tbody tr:first-child td[data-key="gap"]', "title")
        page.click('#board th[data-key="aps"]')
        aps = column(page, "aps")
        assert aps == sorted(aps) and len(aps) == 3

        # The hostile model name is shown as text and ran nothing.
        assert page.evaluate("typeof window.__pwned") == "undefined"
        # the page's own three: the data, the declared metrics, app.js
        assert page.locator("script").count() == 3
        # the table's representation columns come from the declared metrics (one per family)
        assert [
            th.split(" ")[0] for th in page.eval_on_selector_all("#board th", "ths => ths.map(t => t.textContent)")
        ][6:10] == ["Sim", "APS", "Monotonicity", "Consistency"]
        assert "higher is better" in page.get_attribute('#board th[data-key="aps"]', "title")
        assert page.locator("#board img").count() == 0
        assert SCRIPT_NAME in page.eval_on_selector_all("#board tbody .name", "ns => ns.map(n => n.textContent)")

        # The paper's numbers are labelled.
        page.select_option("#scope", "group:voicebench_core5")
        assert page.locator("#board tbody tr.reported .badge").text_content() == "reported, not reproduced"
        assert column(page, "gap") == [13.3]
        page.select_option("#scope", "task:gk")

        shot = tmp_path / "leaderboard.png"
        page.screenshot(path=str(shot), full_page=True)

        # An empty leaderboard says how to fill it, without errors.
        empty = build_site(Leaderboard(), tmp_path / "empty")
        page.goto(empty.as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=10_000)
        assert page.is_visible("#empty") and page.locator("#board tbody tr").count() == 0

        # A link to a view opens it (the default is the group most models report).
        page.goto(index.as_uri() + "#group:voicebench_core5")
        page.wait_for_selector("body[data-ready='1']", timeout=10_000)
        assert page.text_content("#scope-title") == "Group voicebench_core5"
        assert page.input_value("#scope") == "group:voicebench_core5"
    assert not problems, problems
    assert shot.stat().st_size > 10_000
    artifacts = os.environ.get("MODGAP_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / "leaderboard.png")


def test_site_opens_on_the_suite_most_models_report_in_full(tmp_path):
    """The shipped board: three published VoiceBench rows report the voicebench group with speech only (no
    gap), cascade and reference report offline_default with a gap: the site opens on offline_default (most
    models with a gap first), not on the group with the most rows. Its readings (acc, acc_norm, pmi) are
    offered; the group's own numbers are each task's primary (acc, and pmi for weekday_neighbour)."""
    require_browser()
    from modgap_eval.leaderboard.merge import load_leaderboard

    board = load_leaderboard(REPO_ROOT / "leaderboard" / "leaderboard.json")
    reporting = {g: sum(g in m.groups for m in board.models) for g in ("voicebench", "offline_default")}
    assert reporting == {"voicebench": 3, "offline_default": 2}  # more rows, but none with a gap
    reproduced = [m for m in board.models if "offline_default" in m.groups]
    weekday = "generated_weekday_neighbour"
    primaries = {n for m in reproduced for n, r in m.tasks[weekday].readings.items() if r.primary}
    assert primaries == {"pmi"}
    # The shipped folder itself (test_site checks it is the build of leaderboard.json).
    with opened(tmp_path, REPO_ROOT / "leaderboard" / "site" / "index.html") as (page, problems):
        assert page.text_content("#scope-title") == "Group offline_default"
        assert page.locator("#board tbody tr").count() == 2
        assert texts(page, "#reading option") == ["primary (each task's own)", "acc", "acc_norm", "pmi"]
        for m in reproduced:
            assert cell(page, m.id, "gap") == pytest.approx(m.groups["offline_default"].gap, abs=1e-12)
        page.select_option("#reading", "pmi")
        assert header(page, "speech") == ["Speech", "pmi"]
        for m in reproduced:
            pmi = m.groups["offline_default"].readings["pmi"]
            assert cell(page, m.id, "speech") == pytest.approx(pmi.speech, abs=1e-12)
            assert cell(page, m.id, "gap") == pytest.approx(pmi.text - pmi.speech, abs=1e-12)
        # A task whose primary is pmi: the chosen pmi is that task's primary, shown with its CI.
        page.select_option("#scope", "task:" + weekday)
        assert texts(page, "#reading option") == ["pmi (primary)", "acc", "acc_norm"]
        assert page.input_value("#reading") == ""
        assert page.locator("#gap-bars line.whisker").count() == 3 * len(reproduced)
        # acc there: each row's CI is acc's own, as the shipped run's results file has it
        page.select_option("#reading", "acc")
        for m in reproduced:
            run = m.runs[m.tasks[weekday].run]
            acc = read_results(REPO_ROOT / "leaderboard" / run.results_path).tasks[weekday].readings["acc"].stats
            assert acc is not None and ci_cell(page, m.id) == pytest.approx((acc.ci_low, acc.ci_high), abs=0.005)
            assert cell(page, m.id, "ci") == pytest.approx(acc.ci_low, abs=1e-12)
        assert page.locator("#gap-bars line.whisker").count() == 3 * len(reproduced)
    assert not problems, problems


def reading_page(tmp_path: Path):
    board, results = reading_board(tmp_path)
    index = build_site(board, tmp_path / "site")
    return board, results, index, opened(tmp_path, index)


READING_OF = 'tbody tr[data-model="{}"] td[data-key="reading"]'


def test_reading_selector_shows_the_chosen_reading_and_names_it(tmp_path):
    """VoiceBench-style readings scored for real (strict, primary; voicebench): choosing voicebench puts its
    values (by hand from the responses) in the text/speech/gap cells, the headers and the Reading column name
    it, the CI (the primary's) is withdrawn, and the published row says "as published"."""
    require_browser()
    board, results, _, page_of = reading_page(tmp_path)
    ids = {m.name: m.id for m in board.models}
    for name in SPEECH:  # the readings differ on the fixture, or the test could not fail
        assert by_hand(name, "voicebench") != by_hand(name, "strict")
    with page_of as (page, problems):
        page.select_option("#scope", "task:" + MCQ_TASK)
        assert page.is_visible("#reading")
        assert texts(page, "#reading option") == ["strict (primary)", "voicebench", HOSTILE_READING, INHERITED_NAME]
        assert header(page, "speech") == ["Speech", "strict"]
        for name in SPEECH:
            assert cell(page, ids[name], "speech") == pytest.approx(by_hand(name, "strict"), abs=1e-9)
            assert page.text_content(READING_OF.format(ids[name])) == "strict (primary)"
        assert page.text_content(READING_OF.format(ids["GPT-4o-Audio"])) == "as published"
        assert page.locator("#gap-bars line.whisker").count() == 3 * len(SPEECH)

        page.select_option("#reading", "voicebench")
        assert [header(page, k) for k in ("text", "speech", "gap")] == [
            ["Text", "voicebench"],
            ["Speech", "voicebench"],
            ["GAP", "voicebench"],
        ]
        for name in SPEECH:
            text = results[name].tasks[MCQ_TASK].text.score  # clean written answers: both readings agree
            assert cell(page, ids[name], "speech") == pytest.approx(by_hand(name, "voicebench"), abs=1e-9)
            assert cell(page, ids[name], "gap") == pytest.approx(text - by_hand(name, "voicebench"), abs=1e-9)
            assert page.text_content(READING_OF.format(ids[name])) == "voicebench"
            assert page.text_content(f'tbody tr[data-model="{ids[name]}"] td[data-key="ci"]') == "—"
        assert cell(page, ids["GPT-4o-Audio"], "speech") == 80.25  # the published number, labelled as such
        assert page.locator("#gap-bars line.whisker").count() == 0
        assert "voicebench reading" in page.text_content("#reading-note")
    assert not problems, problems


def test_reading_carries_over_to_a_group_and_hostile_reading_names_stay_text(tmp_path):
    """A link names a view and a reading; a group's reading is the mean of its tasks under it (a one-reading
    task with its score); a reading named like markup is an option's and a header's text; a view without
    readings has no selector."""
    require_browser()
    board, results, index, page_of = reading_page(tmp_path)
    ids = {m.name: m.id for m in board.models}
    with page_of as (page, problems):
        # A link opens a view under a reading; the address follows the choices.
        page.goto("about:blank")
        page.goto(index.as_uri() + f"#task:{MCQ_TASK}&reading=voicebench")
        page.wait_for_selector("body[data-ready='1']", timeout=10_000)
        assert page.input_value("#reading") == "voicebench"
        assert cell(page, ids["alpha"], "speech") == pytest.approx(by_hand("alpha", "voicebench"), abs=1e-9)
        page.select_option("#scope", "group:" + GROUP)
        assert page.url.endswith(f"#group:{GROUP}&reading=voicebench")
        assert page.input_value("#reading") == "voicebench"
        for name, r in results.items():
            expected = (by_hand(name, "voicebench") + r.tasks[ONE_READING_TASK].speech.score) / 2
            assert cell(page, ids[name], "speech") == pytest.approx(expected, abs=1e-9)

        page.select_option("#reading", HOSTILE_READING)
        assert header(page, "gap") == ["GAP", HOSTILE_READING]
        beta = next(m for m in board.models if m.name == "beta").groups[GROUP]
        assert cell(page, ids["beta"], "gap") == pytest.approx(beta.readings[HOSTILE_READING].gap)
        assert page.text_content(READING_OF.format(ids["alpha"])) == "no " + HOSTILE_READING + " reading"
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator("img").count() == 0
        page.select_option("#reading", INHERITED_NAME)
        assert page.text_content(READING_OF.format(ids["alpha"])) == "no constructor reading"
        assert cell(page, ids["beta"], "gap") == pytest.approx(beta.readings[INHERITED_NAME].gap)

        page.select_option("#scope", "task:voicebench_bbh")
        assert not page.is_visible("#reading") and page.locator('#board th[data-key="reading"]').count() == 0

        # A link with a broken % escape opens the default view (decodeURIComponent would throw).
        page.goto("about:blank")
        page.goto(index.as_uri() + "#task:%E0%A4%A&reading=%")
        page.wait_for_selector("body[data-ready='1']", timeout=10_000)
        assert page.text_content("#scope-title") == "Group " + GROUP
    assert not problems, problems


def ci_cell(page, model: str) -> tuple[float, float]:
    """The GAP CI cell of a row as shown: "[low, high]" (its data-value is the low end, unrounded)."""
    shown = page.text_content(f'tbody tr[data-model="{model}"] td[data-key="ci"]')
    low, high = (float(v) for v in shown.strip("[]").split(", "))
    assert cell(page, model, "ci") == pytest.approx(low, abs=0.005)
    return cell(page, model, "ci"), high


def test_a_chosen_reading_shows_its_own_ci_or_says_it_has_none(tmp_path):
    """pmi on the log-likelihood task: the CI cells, McNemar p and whiskers are pmi's own statistics from the
    run (ReadingResult.stats), not the primary's; VoiceBench's reading says it has no paired statistics."""
    require_browser()
    board, results, _, page_of = reading_page(tmp_path)
    ids = {m.name: m.id for m in board.models}
    with page_of as (page, problems):
        page.select_option("#scope", "task:" + LL_TASK)
        assert texts(page, "#reading option") == ["acc (primary)", "acc_norm", "pmi"]
        page.select_option("#reading", "pmi")
        for name in LL_RUNS:
            pmi, primary = results[name].tasks[LL_TASK].readings["pmi"].stats, results[name].tasks[LL_TASK].gap
            assert (pmi.ci_low, pmi.ci_high) != (primary.ci_low, primary.ci_high)  # or the test could not fail
            low, high = ci_cell(page, ids[name])
            assert low == pytest.approx(pmi.ci_low, abs=1e-12) and high == pytest.approx(pmi.ci_high, abs=0.005)
            gap_title = page.get_attribute(f'tbody tr[data-model="{ids[name]}"] td[data-key="gap"]', "title")
            mcnemar = re.search(r"McNemar p ([0-9.e-]+);", gap_title)  # three significant digits
            assert mcnemar and float(mcnemar.group(1)) == pytest.approx(pmi.mcnemar_p, rel=5e-3)
            assert f"text only {pmi.text_only}, speech only {pmi.speech_only}" in gap_title
        assert page.locator("#gap-bars line.whisker").count() == 3 * len(LL_RUNS)
        assert "no paired statistics" not in page.text_content("#reading-note")

        page.select_option("#scope", "task:" + MCQ_TASK)
        page.select_option("#reading", "voicebench")
        for name in LL_RUNS:
            ci = f'tbody tr[data-model="{ids[name]}"] td[data-key="ci"]'
            assert page.text_content(ci) == "—"
            assert page.get_attribute(ci, "title") == "no paired statistics for this reading"
        assert "no paired statistics for this reading." in page.text_content("#reading-note")
        assert page.locator("#gap-bars line.whisker").count() == 0
    assert not problems, problems
