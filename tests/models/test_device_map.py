"""device_map= (accelerate's big-model placement): a model split by an explicit map gives the single-device numbers."""

from __future__ import annotations

import json

import pytest

from tests.extras import extra

torch = pytest.importorskip("torch", reason=extra("torch", "models"))
pytest.importorskip("transformers", reason=extra("transformers", "models"))

from modgap_eval.errors import ConfigError
from modgap_eval.models import MODELS, RuntimeOptions
from modgap_eval.types import GenerateRequest, HiddenStatesRequest, LoglikelihoodRequest, Modality, Prompt
from tests.models.tiny import build_tiny_causal_lm

CONTENTS = ["What is the capital of France?", "How many legs does a spider have?", "Mars"]
SPLIT = {
    "model.embed_tokens": "cpu",
    "model.rotary_emb": "cpu",
    "model.layers.0": "cpu",
    "model.layers.1": "disk",
    "model.norm": "cpu",
    "lm_head": "cpu",
}
"""Every module placed by name, as a map for several GPUs would be ("cuda:0" for the first layer, "cuda:1" ...);
on a CPU-only machine the second place is accelerate's disk offload, which runs through the same dispatch hooks
(weights moved onto the execution device as their module runs)."""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return build_tiny_causal_lm(tmp_path_factory.mktemp("causal_lm"))


def prompt(content: str) -> Prompt:
    return Prompt(Modality.TEXT, "Question: ", "\nAnswer:", None, text=content)


def run_all(model) -> tuple:
    prompts = [prompt(c) for c in CONTENTS]
    texts = [g.text for g in model.generate([GenerateRequest(p, max_new_tokens=6) for p in prompts])]
    scores = [r.logprobs for r in model.loglikelihood([LoglikelihoodRequest(p, ("A", " Paris is")) for p in prompts])]
    states = [h.states for h in model.hidden_states([HiddenStatesRequest(p) for p in prompts])]
    return texts, scores, states


def test_explicit_split_map_equals_single_device(folder, tmp_path):
    (tmp_path / "map.json").write_text(json.dumps(SPLIT))
    runtime = RuntimeOptions(batch_size=2)
    single = MODELS.get("text-lm").from_args({"pretrained": str(folder)}, runtime)
    split = MODELS.get("text-lm").from_args(
        {"pretrained": str(folder), "device_map": str(tmp_path / "map.json")}, runtime
    )
    assert split.model.hf_device_map == SPLIT  # placed by the map, module by module
    info = split.info()
    assert info.device == "cpu,disk" and info.details["device_map"] == SPLIT
    assert split.model.model.layers[1].self_attn.q_proj.weight.device.type == "meta"  # really not held in memory
    (texts_a, scores_a, states_a), (texts_b, scores_b, states_b) = run_all(single), run_all(split)
    assert texts_a == texts_b
    for a, b in zip(scores_a, scores_b):
        assert a == pytest.approx(b, abs=1e-5)
    for a, b in zip(states_a, states_b):
        assert torch.allclose(a, b, atol=1e-4)


def test_auto_placement_and_bad_maps(folder, tmp_path):
    auto = MODELS.get("text-lm").from_args({"pretrained": str(folder), "device_map": "auto"}, RuntimeOptions())
    assert auto.info().details["device_map"] == "auto" and auto.info().device == "cpu"  # no GPU: all on the CPU
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**SPLIT, "lm_head": "tpu9"}))
    with pytest.raises(ConfigError, match=r"bad\.json \(lm_head\) 'tpu9'"):
        MODELS.get("text-lm").from_args({"pretrained": str(folder), "device_map": str(bad)}, RuntimeOptions())
    bad.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="expected a non-empty object"):
        MODELS.get("text-lm").from_args({"pretrained": str(folder), "device_map": str(bad)}, RuntimeOptions())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU (scripts/gpu_check.sh runs it)")
def test_split_between_gpu_and_cpu_equals_cpu(folder, tmp_path):
    split_map = {**SPLIT, "model.embed_tokens": "cuda:0", "model.layers.0": "cuda:0", "model.layers.1": "cpu"}
    (tmp_path / "gpu.json").write_text(json.dumps(split_map))
    runtime = RuntimeOptions(batch_size=2)
    cpu = MODELS.get("text-lm").from_args({"pretrained": str(folder), "dtype": "float32"}, runtime)
    split = MODELS.get("text-lm").from_args(
        {"pretrained": str(folder), "dtype": "float32", "device": "cuda:0", "device_map": str(tmp_path / "gpu.json")},
        runtime,
    )
    assert split.info().device == "cpu,cuda:0"
    (texts_a, scores_a, states_a), (texts_b, scores_b, states_b) = run_all(cpu), run_all(split)
    assert texts_a == texts_b
    for a, b in zip(scores_a, scores_b):
        assert a == pytest.approx(b, abs=1e-3)
    for a, b in zip(states_a, states_b):
        assert torch.allclose(a, b, atol=1e-2, rtol=1e-4)
