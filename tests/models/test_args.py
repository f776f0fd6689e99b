"""--model_args and --device checked per model before any weights load: one ConfigError line naming the argument."""

from __future__ import annotations

import pytest

from modgap_eval.errors import ConfigError
from modgap_eval.models import MODELS, RuntimeOptions
from modgap_eval.models.args import check_device
from modgap_eval.models.base import parse_model_args
from tests.extras import extra


def one_line_error(name: str, args: dict, runtime: RuntimeOptions | None = None) -> str:
    runtime = runtime if runtime is not None else RuntimeOptions()
    with pytest.raises(ConfigError) as caught:
        MODELS.get(name).from_args(args, runtime)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_duplicate_keys_are_an_error_not_last_wins():
    assert parse_model_args("layers=2, width=8") == {"layers": "2", "width": "8"}
    with pytest.raises(ConfigError, match="'a' is given twice"):
        parse_model_args("a=1,a=2")
    with pytest.raises(ConfigError, match="not key=value"):
        parse_model_args("a=1,b")


def test_dummy_args_are_typed_and_ranged():
    model = MODELS.get("dummy").from_args({"layers": "2", "width": "8", "delay": "0"}, RuntimeOptions())
    assert (model.layers, model.width, model.delay) == (2, 8, 0.0)
    assert "unknown key 'layrs'; did you mean 'layers'" in one_line_error("dummy", {"layrs": "2"})
    assert "layers='two'" in one_line_error("dummy", {"layers": "two"})
    assert "layers='0'" in one_line_error("dummy", {"layers": "0"}) and "greater than or equal to 1" in one_line_error(
        "dummy", {"layers": "0"}
    )
    assert "delay='-1'" in one_line_error("dummy", {"delay": "-1"})


@pytest.mark.parametrize("name", ["text-lm", "qwen2-audio", "voxtral", "paper-lslm", "granite-speech"])
def test_hf_args_refused_before_any_load(name):
    pytest.importorskip("torch", reason=extra("torch", "models"))  # the HF families import torch
    assert "did you mean 'pretrained'" in one_line_error(name, {"pretrianed": "x"})
    assert "dtype='float64'" in one_line_error(name, {"pretrained": "/nonexistent", "dtype": "float64"})
    assert "--model_args device 'tpu9'" in one_line_error(name, {"pretrained": "/nonexistent", "device": "tpu9"})
    assert "--device 'tpu9'" in one_line_error(name, {"pretrained": "/nonexistent"}, RuntimeOptions(device="tpu9"))
    assert "device_map='nowhere'" in one_line_error(name, {"pretrained": "/nonexistent", "device_map": "nowhere"})


def test_cascade_and_reference_args():
    pytest.importorskip("torch", reason=extra("torch", "models"))  # the HF families import torch
    assert "asr_max_new_tokens='0'" in one_line_error("cascade", {"asr_max_new_tokens": "0"})
    assert "did you mean 'asr'" in one_line_error("cascade", {"asrr": "x"})
    assert "did you mean 'checkpoint'" in one_line_error("reference", {"checkpont": "final"})
    assert "unknown key 'pretrained'" in one_line_error("reference", {"pretrained": "x"})


def test_devices_torch_lacks_are_config_errors_naming_the_flag():
    pytest.importorskip("torch", reason=extra("torch", "models"))  # the HF families import torch
    import torch

    assert check_device("cpu") == "cpu"
    for bad in ("tpu9", "cuda:banana"):
        with pytest.raises(ConfigError, match=f"^--device '{bad}'"):
            check_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(
            ConfigError, match="^--device 'cuda': this torch .* offers no such device .*available here: cpu"
        ):
            check_device("cuda")
        assert "--device 'cuda'" in one_line_error("dummy", {}, RuntimeOptions(device="cuda"))
    else:
        with pytest.raises(ConfigError, match="offers no such device"):
            check_device(f"cuda:{torch.cuda.device_count()}")


def test_model_info_records_the_device_used(tmp_path):
    pytest.importorskip("torch", reason=extra("torch", "models"))  # the HF families import torch
    from tests.models.tiny import build_tiny_causal_lm

    assert MODELS.get("dummy").from_args({}, RuntimeOptions()).info().device == "cpu"
    folder = build_tiny_causal_lm(tmp_path / "lm")
    info = MODELS.get("text-lm").from_args({"pretrained": str(folder)}, RuntimeOptions()).info()
    assert info.device == "cpu" and info.args["device"] == "cpu"


def test_speech_span_is_gemma3ns_and_checked():
    pytest.importorskip("torch", reason=extra("torch", "models"))  # the HF families import torch
    message = one_line_error("gemma3n", {"pretrained": "/nonexistent", "speech_span": "padded"})
    assert "--model_args for 'gemma3n': speech_span='padded'" in message and "'encoded' or 'all'" in message
    assert "did you mean 'speech_span'" in one_line_error("gemma3n", {"speech_spam": "all"})
    assert "unknown key 'speech_span'" in one_line_error("qwen2-audio", {"speech_span": "all"})
