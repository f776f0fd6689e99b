"""The GPU paths, checked against the CPU on the same tiny models: run only where CUDA is available.

Every check here compares a CUDA run with the CPU run of the same weights and inputs (float32, TF32
off), so a device-specific bug (a tensor left on the wrong device, a dtype cast, a cache gathered on
the wrong device) shows as a failure, not as a different number nobody looks at.
"""

from __future__ import annotations

import json

import pytest

from tests.extras import extra

torch = pytest.importorskip("torch", reason=extra("torch", "models"))
pytest.importorskip("transformers", reason=extra("transformers", "models"))
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (these check the GPU paths)")

from modgap_eval.models import MODELS, RuntimeOptions  # noqa: E402
from modgap_eval.models.hf_common import Batcher  # noqa: E402
from modgap_eval.types import HiddenStatesRequest, LoglikelihoodRequest, Modality, Prompt, Waveform  # noqa: E402
from tests.conftest import make_task_dir  # noqa: E402
from tests.models.tiny import build_tiny_audioflamingo3, build_tiny_qwen2_audio, tone  # noqa: E402


@pytest.fixture(autouse=True)
def _exact_float32():
    # TF32 would make CUDA differ from the CPU by ~1e-3 for reasons unrelated to the code under test.
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def prompts() -> list[Prompt]:
    out = []
    for i, (seconds, content) in enumerate([(1.0, "What is the capital of France?"), (2.3, "yes"), (0.5, "How many")]):
        out.append(
            Prompt(Modality.SPEECH, "Listen: ", " Answer.", audio=Waveform(tone(seconds, 180 + 50 * i, seed=i), 16_000))
        )
        out.append(Prompt(Modality.TEXT, "Listen: ", " Answer.", text=content))
    return out


def both_devices(name: str, folder, batch_size: int | None = 4):
    load = MODELS.get(name).from_args
    return (
        load({"pretrained": str(folder), "dtype": "float32"}, RuntimeOptions(batch_size=batch_size, device="cpu")),
        load({"pretrained": str(folder), "dtype": "float32"}, RuntimeOptions(batch_size=batch_size, device="cuda")),
    )


@pytest.mark.parametrize(
    "name,build", [("qwen2-audio", build_tiny_qwen2_audio), ("audioflamingo3", build_tiny_audioflamingo3)]
)
def test_speech_lm_on_cuda_matches_cpu(name, build, tmp_path):
    cpu, gpu = both_devices(name, build(tmp_path / name))
    assert next(gpu.model.parameters()).device.type == "cuda"
    requests = [LoglikelihoodRequest(p, ("B", " the red planet", " no")) for p in prompts()]
    for a, b in zip(cpu.loglikelihood(requests), gpu.loglikelihood(requests)):
        assert b.token_counts == a.token_counts
        assert b.logprobs == pytest.approx(a.logprobs, abs=2e-3)
    hidden = [HiddenStatesRequest(p) for p in prompts()]
    for a, b in zip(cpu.hidden_states(hidden), gpu.hidden_states(hidden)):
        assert b.states.device.type == "cpu" and b.states.shape == a.states.shape
        scale = float(a.states.abs().max())
        assert torch.allclose(b.states, a.states, atol=1e-4 * max(1.0, scale))


def test_paper_lslm_checkpoint_on_cuda_matches_cpu(tmp_path):
    from tests.models.test_paper_lslm import build_checkpoint

    folder, _ = build_checkpoint(tmp_path, "ctc-embeddings")
    cpu, gpu = both_devices("paper-lslm", folder)
    requests = [LoglikelihoodRequest(p, ("B", " yes")) for p in prompts()]
    for a, b in zip(cpu.loglikelihood(requests), gpu.loglikelihood(requests)):
        assert b.logprobs == pytest.approx(a.logprobs, abs=2e-3)


def test_auto_batch_size_halves_on_a_real_out_of_memory():
    free, _ = torch.cuda.mem_get_info()
    share = free // 3  # a chunk of 3 or more items cannot be allocated at once

    def allocate(chunk):
        block = torch.empty(len(chunk) * share, dtype=torch.uint8, device="cuda")
        del block
        return [item * 2 for item in chunk]

    batcher = Batcher(None)
    assert batcher.run(list(range(10)), allocate) == [2 * i for i in range(10)]
    assert batcher.size <= 2
    with pytest.raises(torch.OutOfMemoryError):
        Batcher(8).run(list(range(10)), allocate)  # a fixed size is never changed behind the user's back


def test_reference_trainer_learns_on_cuda(tmp_path):
    from tests.reference.test_train import run, synthetic_setup

    log = run(synthetic_setup(), tmp_path, steps=60, device="cuda")
    assert log[-1]["heldout_wer"] < 0.1 and log[-1]["loss"] < log[0]["loss"]


def test_runner_on_cuda_gives_the_cpu_numbers(tmp_path):
    from modgap_eval.cli import main
    from modgap_eval.results import read_results

    folder = build_tiny_qwen2_audio(tmp_path / "model")
    task_dir = make_task_dir(tmp_path / "tasks").parent
    out = {}
    for device, batch in (("cpu", "2"), ("cuda", "auto")):
        rc = main(
            [
                "--model",
                "qwen2-audio",
                "--model_args",
                f"pretrained={folder},dtype=float32",
                "--tasks",
                "arith",
                "--include_path",
                str(task_dir),
                "--output_path",
                str(tmp_path / device),
                "--no_progress",
                "--device",
                device,
                "--batch_size",
                batch,
                "--bootstrap_iters",
                "50",
            ]
        )
        assert rc == 0
        path = next((tmp_path / device).rglob("results.json"))
        out[device] = read_results(path).tasks["arith"]
        assert json.loads(path.read_text())["model"]["args"]["device"] == device
    cpu, gpu = out["cpu"], out["cuda"]
    assert (gpu.text.score, gpu.speech.score) == (cpu.text.score, cpu.speech.score)
    assert gpu.representations is not None
    assert gpu.representations.sim_cos.matched == pytest.approx(cpu.representations.sim_cos.matched, abs=1e-3)
    assert gpu.representations.aps_cos.matched == pytest.approx(cpu.representations.aps_cos.matched, abs=1e-3)
