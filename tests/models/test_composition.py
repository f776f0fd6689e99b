"""The adapters' shape: registered HF models are settings on one engine, easy families are tiny files,
one memo class."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))

from modgap_eval.models import MODELS
from modgap_eval.models.memo import BoundedMemo

EASY_FAMILIES = [
    "qwen2-audio",
    "audioflamingo3",
    "qwen2.5-omni",
    "qwen3-omni",
    "granite-speech",
    "phi4-multimodal",
    "gemma3n",
    "text-lm",
]


def hf_models() -> list[str]:
    from modgap_eval.models.hf_engine import HFModel

    return [name for name in MODELS.names() if issubclass(MODELS.get(name), HFModel)]


def test_registered_hf_models_override_nothing():
    from modgap_eval.models.hf_engine import HFModel

    names = hf_models()
    assert {"qwen2-audio", "voxtral", "paper-lslm", "reference", "text-lm"} <= set(names)
    for name in names:
        cls = MODELS.get(name)
        assert cls.__bases__ == (HFModel,), name  # one level: the engine, configured
        own = [k for k, v in vars(cls).items() if inspect.isfunction(v) or isinstance(v, (classmethod, property))]
        assert own == [], f"{name} overrides {own}"
        assert cls.name == cls.family.name == name


@pytest.mark.parametrize("name", EASY_FAMILIES)
def test_easy_families_are_one_short_file(name):
    path = Path(inspect.getfile(MODELS.get(name)))
    assert len(path.read_text().splitlines()) < 40, path


def test_bounded_memo_drops_least_recently_used_beyond_its_budget():
    memo = BoundedMemo(10)
    memo.put("a", 1, 4)
    memo.put("b", 2, 4)
    assert memo.get("a") == 1  # a is now the most recently used
    memo.put("c", 3, 4)  # 12 bytes > 10: b goes
    assert (memo.get("a"), memo.get("b"), memo.get("c"), memo.size) == (1, None, 3, 8)
    off = BoundedMemo(0)
    off.put("a", 1, 1)
    assert not off.enabled and off.get("a") is None
