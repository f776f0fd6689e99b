"""The response cache survives what a crash or a stray editor can leave in its file."""

from __future__ import annotations

import json

from modgap_eval.cache import ResponseCache
from modgap_eval.types import Generation, Loglikelihood


def _line(key: str, text: str) -> bytes:
    return (json.dumps({"key": key, "output": {"kind": "generate", "text": text, "extras": {}}}) + "\n").encode()


def test_undecodable_and_torn_lines_are_skipped_and_counted(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    good = _line("a", "Zürich")
    torn = json.dumps(
        {"key": "b", "output": {"kind": "generate", "text": "Zürich", "extras": {}}}, ensure_ascii=False
    ).encode()
    cut = torn[: torn.index("ü".encode()) + 1]  # torn inside the two bytes of ü
    (folder / "m.jsonl").write_bytes(good + b"\xff\xfe garbage \x80\n" + cut + b"\n" + b"[1, 2]\n" + _line("c", "ok"))
    cache = ResponseCache(folder, stem="m")
    assert cache.get("a") == Generation("Zürich") and cache.get("c") == Generation("ok") and cache.get("b") is None
    assert (cache.loaded, cache.skipped) == (2, 3)
    # a later run appends after the bad lines and reads everything good back
    cache.put_many([("d", Loglikelihood(logprobs=(-1.5, -0.25), token_counts=(1, 2), extras={"w": "é"}))])
    again = ResponseCache(folder, stem="m")
    assert again.get("d") == Loglikelihood(logprobs=(-1.5, -0.25), token_counts=(1, 2), extras={"w": "é"})
    assert again.skipped == 3


def test_lines_are_written_ascii_only(tmp_path):
    cache = ResponseCache(tmp_path, stem="m")
    cache.put_many([("k", Generation("日本語 — naïve", extras={"transcript": "ü"}))])
    cache.put_record("r", {"summary": {"x": float("nan"), "y": 0.1 + 0.2}})
    raw = (tmp_path / "m.jsonl").read_bytes()
    assert raw.isascii() and raw.count(b"\n") == 2
    again = ResponseCache(tmp_path, stem="m")
    assert again.get("k") == Generation("日本語 — naïve", extras={"transcript": "ü"})
    record = again.get_record("r")
    assert record["summary"]["y"] == 0.1 + 0.2 and record["summary"]["x"] != record["summary"]["x"]  # exact, NaN kept
    assert again.get("r") is None and again.get_record("k") is None
