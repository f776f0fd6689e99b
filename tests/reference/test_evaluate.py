"""The quick checkpoint evaluation: frames cached across checkpoints change no score; exact chance p."""

from __future__ import annotations

import pytest

from tests.extras import extra

torch = pytest.importorskip("torch", reason=extra("torch", "models"))

from modgap_eval.models.base import RuntimeOptions  # noqa: E402
from modgap_eval.models.paper_lslm import PaperLSLM  # noqa: E402
from modgap_eval.reference.evaluate import CachedFrontEnd, above_chance_p  # noqa: E402
from modgap_eval.types import LoglikelihoodRequest, Modality, Prompt, Waveform  # noqa: E402
from tests.models.test_paper_lslm import build_checkpoint  # noqa: E402
from tests.models.tiny import tone  # noqa: E402


def test_cached_front_end_encodes_each_clip_once_with_equal_scores(tmp_path):
    folder, _ = build_checkpoint(tmp_path, "ctc-embeddings", seed=2)
    model = PaperLSLM.from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=2))
    prompt = Prompt(Modality.SPEECH, "Q: ", "", audio=Waveform(tone(1.4, seed=1), 16_000))
    request = LoglikelihoodRequest(prompt, ("eight", " the quick brown", "Paris"))
    plain = model.loglikelihood([request])[0].logprobs
    fresh = PaperLSLM.from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=2))
    fresh.part.front_end = CachedFrontEnd(fresh.part.front_end)
    for _ in range(2):  # a second checkpoint (model object) would reuse the same frames
        fresh.part.vectors_memo.entries.clear()
        assert fresh.loglikelihood([request])[0].logprobs == pytest.approx(plain, abs=1e-5)
    assert len(fresh.part.front_end.memo) == 1


def test_above_chance_p_by_hand():
    # two items, each guessed right with probability 1/2: P(at least 1) = 3/4, P(2) = 1/4
    assert above_chance_p(1, [0.5, 0.5]) == pytest.approx(0.75)
    assert above_chance_p(2, [0.5, 0.5]) == pytest.approx(0.25)
    assert above_chance_p(0, [0.25, 0.5, 0.1]) == pytest.approx(1.0)
    assert above_chance_p(3, [0.25, 0.5, 0.1]) == pytest.approx(0.25 * 0.5 * 0.1)


def test_evaluate_counts_equal_scoring_each_request_alone(tmp_path):
    """Chunked, batched evaluation gives the same per-task counts as one request at a time."""
    from modgap_eval.reference.evaluate import evaluate
    from modgap_eval.requests import make_prompt_pair, make_request
    from modgap_eval.tasks.loader import discover, load_samples
    from tests.conftest import make_task_dir

    folder, _ = build_checkpoint(tmp_path, "ctc-embeddings", seed=3)
    model = PaperLSLM.from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=3))
    make_task_dir(tmp_path / "tasks", task="arith")
    task = discover([tmp_path / "tasks"]).tasks["arith"]
    items = [(task, s, make_prompt_pair(task, s, 16_000)) for s in load_samples(task, progress=False)]
    results = evaluate(model, items, [Modality.TEXT, Modality.SPEECH], progress=False, chunk=3)["arith"]
    scorer = task.make_scorer()
    by_one = {
        m: sum(
            int(scorer.score(s, model.loglikelihood([make_request(task, s, getattr(pair, m.value))])[0]).value)
            for _, s, pair in items
        )
        for m in (Modality.TEXT, Modality.SPEECH)
    }
    assert (results.n, results.text_correct, results.speech_correct) == (
        len(items),
        by_one[Modality.TEXT],
        by_one[Modality.SPEECH],
    )
    assert len(results.transcripts) == len(items)
    assert sum(results.chance_probabilities) == pytest.approx(sum(1 / len(s.choices) for _, s, _ in items))


def test_evaluate_reads_pmi_with_the_neutral_prompt(tmp_path):
    """A pmi-primary task: the evaluate stage attaches the neutral-prompt log-probs as the runner does."""
    from modgap_eval.reference.evaluate import evaluate
    from modgap_eval.requests import make_prompt_pair, make_request
    from modgap_eval.scoring.choice import CALIBRATION_KEY
    from modgap_eval.tasks.loader import discover, load_samples
    from modgap_eval.types import Loglikelihood, LoglikelihoodRequest, Prompt
    from tests.conftest import make_task_dir

    folder, _ = build_checkpoint(tmp_path, "ctc-embeddings", seed=3)
    model = PaperLSLM.from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=3))
    make_task_dir(tmp_path / "tasks", task="arith", extra_yaml="  args: {primary: pmi}\ncontinuations: choices\n")
    task = discover([tmp_path / "tasks"]).tasks["arith"]
    items = [(task, s, make_prompt_pair(task, s, 16_000)) for s in load_samples(task, progress=False)]
    results = evaluate(model, items, [Modality.TEXT], progress=False, chunk=4)["arith"]
    right = 0
    for _, sample, pair in items:
        conditional = model.loglikelihood([make_request(task, sample, pair.text)])[0].logprobs
        neutral = model.loglikelihood(
            [LoglikelihoodRequest(Prompt(Modality.TEXT, "Q: ", "", text=""), sample.choices)]
        )[0]
        pmi = [c - n for c, n in zip(conditional, neutral.logprobs)]
        right += max(range(len(pmi)), key=lambda i: (pmi[i], -i)) == sample.answer_index
        assert task.make_scorer().score(
            sample, Loglikelihood(conditional, (1,) * len(pmi), {CALIBRATION_KEY: list(neutral.logprobs)})
        ).value == float(max(range(len(pmi)), key=lambda i: (pmi[i], -i)) == sample.answer_index)
    assert results.text_correct == right
