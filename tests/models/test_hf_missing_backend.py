"""A package transformers needs for a checkpoint and cannot import (timm for Gemma 3n's vision tower,
torchvision for some processors) is a one-line DependencyError naming the model and the package,
not transformers' multi-line ImportError with a traceback."""

from __future__ import annotations

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))
transformers = pytest.importorskip("transformers", reason=extra("transformers", "models"))

from modgap_eval.errors import DependencyError  # noqa: E402
from modgap_eval.models import MODELS, RuntimeOptions  # noqa: E402
from tests.models import tiny  # noqa: E402


def test_missing_backend_is_one_line_naming_model_and_package(tmp_path, monkeypatch):
    folder = tiny.build_tiny_qwen2_audio(tmp_path / "qwen2_audio")

    def refuse(*args, **kwargs):
        # The message transformers' requires_backends writes, as Gemma 3n's load raised it without timm.
        raise ImportError(
            "\nTimmWrapperModel requires the timm library but it was not found in your environment. "
            "You can install it with pip:\n`pip install timm`. Please note that you may need to restart your "
            "runtime after installation.\n"
        )

    monkeypatch.setattr(transformers.AutoProcessor, "from_pretrained", refuse)
    with pytest.raises(DependencyError) as caught:
        MODELS.get("qwen2-audio").from_args({"pretrained": str(folder)}, RuntimeOptions())
    message = str(caught.value)
    assert "\n" not in message
    assert (
        message.startswith("model 'qwen2-audio': TimmWrapperModel requires the timm library")
        and "pip install timm" in message
    )
