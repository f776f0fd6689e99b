"""Loading paired samples from local JSONL/CSV/Parquet sources and the hub mirror."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.tasks.loader import content_hash, discover, load_samples
from tests.conftest import write_wav
from tests.extras import extra

YAML = """\
task: t
version: 1
source: {source}
fields: {{id: id, text: "{{question}}\\n{{choices}}", choices: {choices}, answer: answer, metadata: [extra]}}
speech: {{column: audio}}
output_type: loglikelihood
scorer: {{name: mc_loglikelihood}}
"""


def setup(
    tmp_path: Path, rows: list[dict], source: str = "{kind: jsonl, path: d.jsonl}", choices: str = "choices"
) -> Path:
    write_wav(tmp_path / "a.wav", 0.5)
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "t.yaml").write_text(YAML.format(source=source, choices=choices))
    return tmp_path


def load(folder: Path, **kwargs):
    return load_samples(discover([folder], builtin=False).tasks["t"], **kwargs)


ROW = {"id": 7, "question": "Q?", "choices": ["x", "y"], "answer": "B", "audio": "a.wav", "extra": {"k": 1}}


def test_jsonl_row_becomes_paired_sample(tmp_path):
    (sample,) = load(setup(tmp_path, [ROW]))
    assert sample.id == "7" and sample.text == "Q?\nA. x\nB. y" and sample.answer_index == 1
    assert sample.audio.path == (tmp_path / "a.wav").resolve() and sample.metadata == {"extra": {"k": 1}}


@pytest.mark.parametrize(("answer", "index"), [(0, 0), ("1", 1), ("a", 0), ("y", 1)])
def test_answer_as_index_letter_or_text(tmp_path, answer, index):
    (sample,) = load(setup(tmp_path, [{**ROW, "answer": answer}]))
    assert sample.answer_index == index


def test_bad_answer_and_missing_column_name_sample_and_field(tmp_path):
    with pytest.raises(DataError, match=r"sample 7: field 'fields.answer': 'Z'"):
        load(setup(tmp_path, [{**ROW, "answer": "Z"}]))
    row = dict(ROW)
    del row["question"]
    with pytest.raises(DataError, match=r"sample 7: field 'fields.text' uses \{question\}"):
        load(setup(tmp_path, [row]))
    with pytest.raises(DataError, match="duplicate sample id"):
        load(setup(tmp_path, [ROW, ROW]))


def test_columns_as_choices_csv_and_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow", reason=extra("pyarrow", "data"))
    import pyarrow.parquet as pq

    write_wav(tmp_path / "a.wav", 0.5)
    rows = [{"id": "r1", "question": "Q?", "c1": "x", "c2": "y", "answer": "x", "audio": "a.wav", "extra": "e"}]
    (tmp_path / "d.csv").write_text("id,question,c1,c2,answer,audio,extra\nr1,Q?,x,y,x,a.wav,e\n")
    (tmp_path / "t.yaml").write_text(YAML.format(source="{kind: csv, path: d.csv}", choices="[c1, c2]"))
    (csv_sample,) = load(tmp_path)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    (tmp_path / "t.yaml").write_text(YAML.format(source="{kind: parquet, path: d.parquet}", choices="[c1, c2]"))
    (pq_sample,) = load(tmp_path)
    assert (
        csv_sample.choices == pq_sample.choices == ("x", "y") and csv_sample.answer_index == pq_sample.answer_index == 0
    )


def test_hub_mirror_with_audio_bytes(tmp_path):
    pa = pytest.importorskip("pyarrow", reason=extra("pyarrow", "data"))
    import pyarrow.parquet as pq

    wav = write_wav(tmp_path / "clip.wav", 0.3).read_bytes()
    mirror = tmp_path / "mirror" / "org" / "set" / "cfg"
    mirror.mkdir(parents=True)
    row = {**ROW, "audio": {"bytes": wav, "path": "clip.wav"}, "extra": "e"}
    pq.write_table(pa.Table.from_pylist([row]), mirror / "test.parquet")
    setup(tmp_path, [], source="{kind: hf, path: org/set, name: cfg, split: test}")
    (sample,) = load(tmp_path, data_dir=tmp_path / "mirror")
    assert sample.audio.data == wav


def test_paths_cannot_escape_the_task_folder(tmp_path):
    folder = tmp_path / "inner"
    folder.mkdir()
    setup(folder, [ROW], source="{kind: jsonl, path: ../../etc/passwd}")
    with pytest.raises(ConfigError, match="leaves the task folder"):
        load(folder)


def test_limit_and_content_hash(tmp_path):
    folder = setup(tmp_path, [ROW, {**ROW, "id": 8}])
    task = discover([folder], builtin=False).tasks["t"]
    assert [s.id for s in load_samples(task, limit=1)] == ["7"]
    before = content_hash(task, load_samples(task))
    write_wav(tmp_path / "a.wav", 0.6)  # the audio changed: the hash must change
    assert content_hash(task, load_samples(task)) != before
