"""METHOD.md §3–§4 functions against hand-computed cases and the plain-loop reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))

import torch
from scipy import stats

from modgap_eval.analysis import alignment, similarity
from modgap_eval.analysis.alignment import compare_states

from . import loop_reference as ref


def two_layers(layer):
    """Use the same layer as layer 0 and block 1, so the block average equals that layer."""
    t = torch.tensor(layer, dtype=torch.float32)
    return torch.stack([t, t])


def nan_as_none(values: torch.Tensor) -> list:
    return [None if v != v else v for v in values.tolist()]


def test_hand_computed_case():
    speech = two_layers([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    text = two_layers([[1.0, 0.0], [0.0, 2.0]])
    r = compare_states(speech, text)
    assert r.path_cos[1].tolist() == [0, 1]
    assert r.path_euc[1].tolist() == [0, 1]
    assert r.values["aps_cos"] == pytest.approx(1.0)
    assert r.values["aps_euc"] == pytest.approx(0.5)  # distances 0 and 1
    # pooled: hs = (2/3, 2/3), ht = (1/2, 1)
    assert r.values["sim_cos"] == pytest.approx(3 / math.sqrt(10), abs=1e-6)
    assert r.values["sim_euc"] == pytest.approx(math.sqrt(5) / 6, abs=1e-6)
    assert r.values["monotonicity_cos"] == pytest.approx(1.0)
    assert r.values["consistency"] == pytest.approx(1.0)


def test_token_matrices_by_hand():
    s = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    t = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    h = 1 / math.sqrt(2)
    f64 = torch.float64  # the alignment path is computed in float64 (issue 12)
    a_cos, a_euc = similarity.token_matrices(s, t)
    assert torch.allclose(a_cos, torch.tensor([[1.0, 0.0], [0.0, 1.0], [h, h]], dtype=f64))
    r2 = math.sqrt(2)
    expected = torch.tensor([[0.0, math.sqrt(5)], [r2, 1.0], [1.0, r2]], dtype=f64)
    assert torch.allclose(a_euc, expected, atol=1e-6)


def test_ties_take_the_first_index():
    # frames 0 and 2 are identical: equal cosine and distance for every column
    speech = two_layers([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    text = two_layers([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]])
    r = compare_states(speech, text)
    assert r.path_cos[1].tolist() == [0, 1, 0]  # column 2 ties all frames at 1/sqrt2: first wins
    assert r.path_euc[1].tolist() == [0, 1, 0]
    m = torch.tensor([[0.5, 0.2], [0.5, 0.9], [0.1, 0.9]])
    assert alignment.alignment_path(m, True).tolist() == [0, 1]
    assert alignment.alignment_path(m, False).tolist() == [2, 0]


def test_one_text_token_and_one_speech_frame():
    one_token = compare_states(torch.randn(3, 5, 4), torch.randn(3, 1, 4))
    assert one_token.values["monotonicity_cos"] is None and one_token.values["monotonicity_euc"] is None
    assert one_token.excluded_layers("monotonicity_cos") == 2
    one_frame = compare_states(torch.randn(3, 1, 4), torch.randn(3, 6, 4))
    assert one_frame.path_cos.eq(0).all() and one_frame.path_euc.eq(0).all()
    assert one_frame.values["monotonicity_cos"] is None  # constant path
    assert one_frame.values["consistency"] == 1.0


def test_constant_path_is_excluded_and_counted():
    speech = two_layers([[1.0, 0.0], [0.0, 1.0]])
    text = two_layers([[1.0, 0.1], [1.0, 0.2], [1.0, -0.1]])  # all nearest to frame 0
    r = compare_states(speech, text)
    assert r.path_cos[1].tolist() == [0, 0, 0]
    assert r.values["monotonicity_cos"] is None
    assert r.excluded_layers("monotonicity_cos") == 1


def test_zero_vectors_have_no_cosine_and_are_counted():
    # issue 12: a zero vector has no cosine; its frames are excluded and counted, never read as cosine 0
    speech = torch.zeros(3, 4, 5)
    text = torch.randn(3, 2, 5)
    r = compare_states(speech, text)
    assert (
        r.layer_cos.isnan().all()
        and r.values["sim_cos"] is None
        and r.values["aps_cos"] is None
        and r.values["consistency"] is None
    )
    assert r.values["monotonicity_cos"] is None
    assert r.zero_states == 2 * 4  # layers 1..2, four zero frames each
    expected = torch.linalg.vector_norm(text.double(), dim=-1).mean(-1)[1:].mean()
    assert r.values["aps_euc"] == pytest.approx(float(expected), rel=1e-12)  # distances stay defined
    both_zero = compare_states(torch.zeros(2, 3, 4), torch.zeros(2, 2, 4))
    assert (
        both_zero.values["aps_cos"] is None
        and both_zero.values["sim_euc"] == 0.0
        and both_zero.values["aps_euc"] == 0.0
    )
    assert both_zero.zero_states == 5
    assert math.isnan(similarity.cosine(torch.zeros(4), torch.ones(4)).item())


def test_a_zero_frame_is_never_on_the_cosine_path():
    # frame 0 is zero; with "cosine 0" it would win column 1 (all other cosines there are negative)
    speech = two_layers([[0.0, 0.0], [-1.0, 0.2], [0.3, -1.0]])
    text = two_layers([[-1.0, 0.0], [1.0, 1.0], [0.0, -1.0]])
    r = compare_states(speech, text)
    assert r.path_cos[1].tolist() == [1, 2, 2]
    assert r.zero_states == 1
    # a zero text token: its column has no cosine path entry and leaves APS^cos, monotonicity, consistency
    text_zero = two_layers([[-1.0, 0.0], [0.0, 0.0], [0.0, -1.0]])
    z = compare_states(speech, text_zero)
    cos_1 = float(similarity.cosine(speech[1, 1], text_zero[1, 0]))
    cos_2 = float(similarity.cosine(speech[1, 2], text_zero[1, 2]))
    assert z.values["aps_cos"] == pytest.approx((cos_1 + cos_2) / 2, rel=1e-12)
    assert z.path_score_cos[1].isnan().tolist() == [False, True, False]
    assert z.values["monotonicity_cos"] == pytest.approx(1.0)  # columns 0 and 2 -> frames 1 and 2
    assert z.zero_states == 2  # the zero frame and the zero token


def test_spearman_matches_scipy_with_ties():
    path = torch.tensor([[0, 2, 2, 1, 5, 5, 3], [4, 3, 2, 1, 0, 0, 0]])
    rho = alignment.spearman_with_position(path)
    assert not rho.isnan().any()
    for row, value in zip(path.tolist(), rho.tolist()):
        assert value == pytest.approx(stats.spearmanr(range(len(row)), row).statistic, abs=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_matches_loop_reference_on_random_states(seed):
    g = torch.Generator().manual_seed(seed)
    layers = 2 + seed % 3
    t_s = [1, 2, 7, 13][seed % 4]
    t_t = [1, 3, 6][seed % 3]
    d = 3 + seed % 5
    speech = torch.randn(layers, t_s, d, generator=g) * (1 + seed)
    text = torch.randn(layers, t_t, d, generator=g) + 0.3 * seed
    if seed % 4 == 3:
        speech[1, 0] = 0.0  # a zero frame among others
        text[-1, -1] = 0.0
    r = compare_states(speech, text)
    want = ref.compare(ref.to_lists(speech), ref.to_lists(text))
    assert nan_as_none(r.layer_cos) == pytest.approx(want["layer_cos"], abs=1e-5)
    assert r.layer_euc.tolist() == pytest.approx(want["layer_euc"], rel=1e-5, abs=1e-5)
    assert r.path_cos.tolist() == [[0 if i is None else i for i in row] for row in want["path_cos"]]
    assert r.path_euc.tolist() == want["path_euc"]
    assert nan_as_none(r.by_layer["aps_cos"]) == pytest.approx(want["aps_cos"], abs=1e-5)
    assert r.by_layer["aps_euc"].tolist() == pytest.approx(want["aps_euc"], rel=1e-4, abs=1e-4)
    assert r.values["sim_cos"] == pytest.approx(want["sim_cos"], abs=1e-5)
    assert r.values["sim_euc"] == pytest.approx(want["sim_euc"], rel=1e-5, abs=1e-5)
    assert r.values["aps_cos"] == pytest.approx(want["APS_cos"], abs=1e-5)
    assert r.values["aps_euc"] == pytest.approx(want["APS_euc"], rel=1e-4, abs=1e-4)
    assert r.values["consistency"] == pytest.approx(want["Consistency"], abs=1e-6)
    assert r.zero_states == want["zero_states"]
    for got, expected in (
        (r.values["monotonicity_cos"], want["monotonicity_cos"]),
        (r.values["monotonicity_euc"], want["monotonicity_euc"]),
    ):
        assert (got is None) == (expected is None)
        if got is not None:
            assert got == pytest.approx(expected, abs=1e-5)


def test_float_precision_with_a_large_common_component():
    g = torch.Generator().manual_seed(0)
    common = torch.randn(1, 1, 64, generator=g) * 1000.0  # deep LLM states share a huge direction
    speech = common + torch.randn(2, 9, 64, generator=g)
    text = common + torch.randn(2, 5, 64, generator=g)
    got = similarity.token_matrices(speech, text)[1]
    exact = torch.cdist(speech.double(), text.double(), compute_mode="donot_use_mm_for_euclid_dist")
    assert torch.allclose(got.double(), exact, rtol=1e-4)


@pytest.mark.parametrize("seed", [6, 8])
def test_float64_path_where_float32_flips_argmax(seed):
    """issue 12: states with a few dimensions of size ~600 (as real LLMs have) make float32 flip argmax
    choices; the path must agree with an independent numpy float64 reference everywhere."""
    g = torch.Generator().manual_seed(seed)
    speech, text = torch.randn(3, 40, 256, generator=g), torch.randn(3, 12, 256, generator=g)
    speech[..., :3] += 600.0
    text[..., :3] += 600.0
    s, t = speech.double().numpy(), text.double().numpy()
    cos64 = np.einsum("lid,ljd->lij", s, t) / (
        np.linalg.norm(s, axis=-1)[:, :, None] * np.linalg.norm(t, axis=-1)[:, None, :]
    )
    want = cos64.argmax(axis=1)
    dots32 = speech @ text.transpose(-1, -2)
    norms32 = torch.linalg.vector_norm(speech, dim=-1).unsqueeze(-1) * torch.linalg.vector_norm(text, dim=-1).unsqueeze(
        -2
    )
    assert ((dots32 / norms32).argmax(dim=-2).numpy() != want).any()  # the case is one float32 gets wrong
    r = compare_states(speech, text)
    assert (r.path_cos.numpy() == want).all()
    aps64 = np.take_along_axis(cos64, want[:, None, :], axis=1)[:, 0, :].mean(axis=-1)[1:].mean()
    assert r.values["aps_cos"] == pytest.approx(float(aps64), rel=1e-12)


def test_centering_changes_cosine_not_distance():
    g = torch.Generator().manual_seed(1)
    speech, text = torch.randn(3, 4, 6, generator=g) + 5, torch.randn(3, 3, 6, generator=g) + 5
    center = torch.full((3, 6), 5.0)
    plain, centered = compare_states(speech, text), compare_states(speech, text, center)
    assert centered.values["sim_euc"] == pytest.approx(plain.values["sim_euc"], rel=1e-5)
    assert centered.values["sim_cos"] < plain.values["sim_cos"]
    want = ref.compare(ref.to_lists(speech - 5), ref.to_lists(text - 5))
    assert centered.values["sim_cos"] == pytest.approx(want["sim_cos"], abs=1e-5)


def test_bad_shapes_raise():
    with pytest.raises(ValueError):
        compare_states(torch.randn(3, 4, 5), torch.randn(2, 4, 5))
    with pytest.raises(ValueError):
        compare_states(torch.randn(1, 4, 5), torch.randn(1, 4, 5))
    with pytest.raises(ValueError):
        compare_states(torch.randn(3, 0, 5), torch.randn(3, 4, 5))
