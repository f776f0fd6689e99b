"""The quick checkpoint evaluation scores exactly what the model adapter's loglikelihood scores."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from modgap_eval.models.base import RuntimeOptions  # noqa: E402
from modgap_eval.models.paper_lslm import PaperLSLM  # noqa: E402
from modgap_eval.reference.evaluate import CachedFrontEnd, above_chance_p, fast_loglikelihood  # noqa: E402
from modgap_eval.types import LoglikelihoodRequest, Modality, Prompt, Waveform  # noqa: E402
from tests.models.test_paper_lslm import build_checkpoint  # noqa: E402
from tests.models.tiny import tone  # noqa: E402


@pytest.mark.parametrize("lm_input", ["adapter", "ctc-embeddings"])
def test_fast_loglikelihood_equals_the_adapter(tmp_path, lm_input):
    folder, _ = build_checkpoint(tmp_path, lm_input, seed=2)
    model = PaperLSLM.from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=2))
    model.front_end = CachedFrontEnd(model.front_end)
    prompts = [Prompt(Modality.SPEECH, "Q: ", "", audio=Waveform(tone(1.4, seed=1), 16_000)),
               Prompt(Modality.TEXT, "Q: ", "", text="How many legs does a spider have?")]
    memo: dict = {}
    for prompt in prompts * 2:  # the second round reuses the memoised prefix
        request = LoglikelihoodRequest(prompt, ("eight", " the quick brown", "Paris"))
        expected = model.loglikelihood([request])[0].logprobs
        assert fast_loglikelihood(model, request, memo) == pytest.approx(list(expected), abs=1e-4)
    assert len(memo) == 1  # one system prompt + user header, shared by text and speech
    assert len(model.front_end.memo) == 1


def test_above_chance_p_by_hand():
    # two items, each guessed right with probability 1/2: P(at least 1) = 3/4, P(2) = 1/4
    assert above_chance_p(1, [0.5, 0.5]) == pytest.approx(0.75)
    assert above_chance_p(2, [0.5, 0.5]) == pytest.approx(0.25)
    assert above_chance_p(0, [0.25, 0.5, 0.1]) == pytest.approx(1.0)
    assert above_chance_p(3, [0.25, 0.5, 0.1]) == pytest.approx(0.25 * 0.5 * 0.1)
