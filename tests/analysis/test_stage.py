"""The representation stage on the dummy model, whose states are a documented function of the input."""

from __future__ import annotations

import hashlib
import math
import re

import numpy as np
import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))

import torch

from modgap_eval.analysis.stage import RepresentationOptions, analyse_task
from modgap_eval.errors import DataError
from modgap_eval.models.dummy import DummyModel
from modgap_eval.types import Audio, Modality, Prompt, PromptPair, Sample, Waveform

from . import loop_reference as ref
from .test_baseline import mismatched_partner

TEXTS = [
    "How many legs do horses have",
    "what is the capital of France",
    "Name a colour of the sky",
    "hello",  # one text token: monotonicity undefined
    "Which planet is the largest in our solar system",
    "two plus two",
    "Who wrote Hamlet",
]
SECONDS = [1.23, 0.85, 0.4, 0.62, 1.5, 0.05, 0.31]  # 0.05 s: a single speech frame (constant path)


ALL_TEXTS = len(TEXTS)


def make_samples(n=ALL_TEXTS):
    return [
        Sample(id=f"q{i}", text=TEXTS[i], audio=Audio(data=b"unused"), metadata={"seconds": SECONDS[i]})
        for i in range(n)
    ]


def make_prompts(sample: Sample) -> PromptPair:
    rate = 16_000
    wave = Waveform(np.zeros(int(round(sample.metadata["seconds"] * rate)), dtype=np.float32), rate)
    return PromptPair(
        text=Prompt(Modality.TEXT, prefix="Q: ", suffix="", text=sample.text),
        speech=Prompt(Modality.SPEECH, prefix="Q: ", suffix="", audio=wave),
    )


# --- the dummy's construction, re-derived from its docstring (not from its code) -------------------


def unit(key: str, width: int) -> list[float]:
    seed = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16)
    v = np.random.default_rng(seed).standard_normal(width)
    return list(v / np.linalg.norm(v))


def constructed_states(keys, layers, width):
    return [[[(depth + 1) * x for x in unit(k, width)] for k in keys] for depth in range(layers + 1)]


def speech_states(sample, layers, width):
    frames = max(1, math.floor(sample.metadata["seconds"] * 10))
    return constructed_states([f"frame:{i}" for i in range(frames)], layers, width)


def text_states(sample, layers, width):
    return constructed_states(re.findall(r"\w+", sample.text.lower()), layers, width)


def mean(values):
    return sum(values) / len(values)


@pytest.fixture(scope="module")
def dummy():
    return DummyModel(layers=3, width=12)


def test_dummy_run_reports_what_its_construction_implies(dummy):
    samples = make_samples()
    result = analyse_task(dummy, samples, make_prompts, RepresentationOptions(derangement_seed=5, batch_size=3))
    partner = mismatched_partner([s.id for s in samples], 5)
    by_id = {s.id: s for s in samples}
    matched = [ref.compare(speech_states(s, 3, 12), text_states(s, 3, 12)) for s in samples]
    mismatched = [ref.compare(speech_states(s, 3, 12), text_states(by_id[partner[s.id]], 3, 12)) for s in samples]
    summary = result.summary
    assert summary.n_samples == 7 and summary.num_layers == 3 and not summary.centering

    for name, key, lower in (
        ("sim_cos", "sim_cos", False),
        ("sim_euc", "sim_euc", True),
        ("aps_cos", "APS_cos", False),
        ("aps_euc", "APS_euc", True),
    ):
        got = getattr(summary, name)
        m, x = mean([r[key] for r in matched]), mean([r[key] for r in mismatched])
        assert got.matched == pytest.approx(m, abs=1e-5), name
        assert got.mismatched == pytest.approx(x, abs=1e-5), name
        assert got.excess == pytest.approx((x - m) if lower else (m - x), abs=1e-5), name
    for curve, key in ((summary.layer_cos, "layer_cos"), (summary.layer_euc, "layer_euc")):
        for side, rows in ((curve.matched, matched), (curve.mismatched, mismatched)):
            per_layer = np.array([r[key] for r in rows])
            assert side.mean == pytest.approx(per_layer.mean(0).tolist(), abs=1e-5)
            assert side.std == pytest.approx(per_layer.std(0).tolist(), abs=1e-5)
    # the construction scales layer l by (l + 1): cosines are flat over depth, distances grow linearly
    assert np.ptp(summary.layer_cos.matched.mean) < 1e-5
    euc = summary.layer_euc.matched.mean
    assert euc[3] == pytest.approx(4 * euc[0], rel=1e-5)

    mono = [r["monotonicity_cos"] for r in matched]
    assert summary.monotonicity_excluded_cos == sum(v is None for v in mono) >= 2  # "hello" and the 1-frame clip
    assert summary.monotonicity_cos == pytest.approx(mean([v for v in mono if v is not None]), abs=1e-5)
    assert summary.consistency == pytest.approx(mean([r["Consistency"] for r in matched]), abs=1e-6)
    assert summary.consistency_mismatched == pytest.approx(mean([r["Consistency"] for r in mismatched]), abs=1e-6)

    for s, r, x in zip(samples, matched, mismatched):
        record = result.per_sample[s.id]
        assert record["aps_cos"] == pytest.approx(r["APS_cos"], abs=1e-5)
        assert record["aps_euc_mismatched"] == pytest.approx(x["APS_euc"], abs=1e-5)
        assert ("monotonicity_cos" in record) == (r["monotonicity_cos"] is not None)
        assert all(math.isfinite(v) for v in record.values())
    assert all(math.isfinite(v) for v in summary.layer_cos.excess + summary.layer_euc.excess)


def test_identical_numbers_for_any_batch_size(dummy):
    samples = make_samples()
    runs = [analyse_task(dummy, samples, make_prompts, RepresentationOptions(batch_size=b)) for b in (1, 2, 3, 4, 64)]
    for run in runs[1:]:
        assert run.summary == runs[0].summary
        assert run.per_sample == runs[0].per_sample


def test_centering_subtracts_the_mean_pooled_state(dummy):
    samples = make_samples(5)
    result = analyse_task(dummy, samples, make_prompts, RepresentationOptions(centering=True, batch_size=2))
    assert result.summary.centering and result.summary.centering_reference
    layers, width = 3, 12
    pooled = [
        [mean_rows(speech_states(s, layers, width)[depth]) for s in samples]
        + [mean_rows(text_states(s, layers, width)[depth]) for s in samples]
        for depth in range(layers + 1)
    ]
    center = [mean_rows(rows) for rows in pooled]

    def centered(states):
        return [[[x - c for x, c in zip(v, center[depth])] for v in layer] for depth, layer in enumerate(states)]

    want = mean(
        [ref.compare(centered(speech_states(s, 3, 12)), centered(text_states(s, 3, 12)))["sim_cos"] for s in samples]
    )
    assert result.summary.sim_cos.matched == pytest.approx(want, abs=1e-5)
    plain = analyse_task(dummy, samples, make_prompts, RepresentationOptions(batch_size=2))
    assert result.summary.sim_euc.matched == pytest.approx(
        plain.summary.sim_euc.matched, rel=1e-5
    )  # distances unchanged
    assert result.summary.sim_cos.matched != pytest.approx(plain.summary.sim_cos.matched, abs=1e-3)


def mean_rows(rows):
    return [sum(col) / len(rows) for col in zip(*rows)]


def test_examples_hold_the_token_matrix_and_paths(dummy):
    samples = make_samples(3)
    result = analyse_task(dummy, samples, make_prompts, RepresentationOptions(examples=1, example_layers=(2,)))
    (example,) = result.examples
    assert example.sample_id == "q0" and example.layer == 2
    assert example.text_tokens == ["how", "many", "legs", "do", "horses", "have"]
    want = ref.compare(speech_states(samples[0], 3, 12), text_states(samples[0], 3, 12))
    assert example.path_cos == want["path_cos"][2] and example.path_euc == want["path_euc"][2]
    assert len(example.cosine) == 12 and len(example.cosine[0]) == 6  # floor(1.23 s * 10) frames
    assert result.per_sample["q0"]["speech_frames"] == 12 and result.per_sample["q0"]["text_tokens"] == 6


def test_too_few_samples_and_bad_clips_raise(dummy):
    with pytest.raises(DataError, match="at least 2"):
        analyse_task(dummy, make_samples(1), make_prompts, RepresentationOptions())

    def broken(sample):
        raise DataError(f"sample {sample.id}: clip unreadable")

    with pytest.raises(DataError, match="unreadable"):
        analyse_task(dummy, make_samples(3), broken, RepresentationOptions())


def test_empty_content_span_is_a_clear_error(dummy):
    class NoTokens(DummyModel):
        def hidden_states(self, requests):
            out = super().hidden_states(requests)
            return [
                type(o)(states=torch.zeros(4, 0, 12)) if r.prompt.modality is Modality.TEXT else o
                for o, r in zip(out, requests)
            ]

    with pytest.raises(DataError, match="empty content span"):
        analyse_task(NoTokens(layers=3, width=12), make_samples(2), make_prompts, RepresentationOptions())


def test_examples_at_chosen_layers(dummy):
    sample = make_samples(2)[0]
    options = RepresentationOptions(examples=1, example_layers=(3, 0))
    examples = analyse_task(dummy, make_samples(2), make_prompts, options).examples
    assert [(e.sample_id, e.layer) for e in examples] == [(sample.id, 0), (sample.id, 3)]
    want = ref.compare(speech_states(sample, 3, 12), text_states(sample, 3, 12))
    assert examples[1].path_euc == want["path_euc"][3]
    assert examples[0].cosine[0] == pytest.approx([round(v, 5) for v in ref_cosine_row(sample, 0)], abs=1e-5)


def ref_cosine_row(sample, frame):
    s = speech_states(sample, 3, 12)[0][frame]
    return [ref.cos(s, t) for t in text_states(sample, 3, 12)[0]]


def test_analyse_states_in_memory():
    from modgap_eval.analysis.stage import analyse_states

    g = torch.Generator().manual_seed(2)
    speech = [torch.randn(3, n, 5, generator=g) for n in (4, 6, 2)]
    text = [torch.randn(3, n, 5, generator=g) for n in (3, 1, 5)]
    result = analyse_states(speech, text, ids=["a", "b", "c"])
    assert result.per_sample["b"]["aps_cos"] == pytest.approx(
        ref.compare(ref.to_lists(speech[1]), ref.to_lists(text[1]))["APS_cos"], abs=1e-5
    )
    with pytest.raises(DataError):
        analyse_states(speech, text[:2])
    with pytest.raises(DataError, match="'c'"):
        analyse_states(speech, [text[0], text[1], torch.zeros(3, 0, 5)], ids=["a", "b", "c"])


def test_non_finite_states_are_refused_not_averaged():
    from modgap_eval.analysis.stage import analyse_states

    speech = [torch.ones(2, 3, 4), torch.ones(2, 3, 4)]
    speech[1][1, 0, 0] = float("inf")
    with pytest.raises(DataError, match="non-finite"):
        analyse_states(speech, [torch.ones(2, 2, 4), torch.ones(2, 2, 4)])
