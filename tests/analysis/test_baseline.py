"""The seeded derangement behind the mismatched-pair baseline (METHOD.md §4b)."""

from __future__ import annotations

import pytest

from modgap_eval.analysis.baseline import derangement_blocks


def mismatched_partner(sample_ids, seed):
    """speech sample id -> id of the sample whose text it is compared with."""
    return {sample_ids[s]: sample_ids[t] for block in derangement_blocks(sample_ids, seed) for s, t in block.partners()}


@pytest.mark.parametrize("n", [2, 3, 4, 5, 10, 11])
def test_a_derangement_in_blocks_of_two_and_one_of_three(n):
    ids = [f"s{i}" for i in range(n)]
    blocks = derangement_blocks(ids, seed=7)
    sizes = sorted(len(b.members) for b in blocks)
    assert sizes == [2] * (n // 2 - 1) + ([3] if n % 2 else [2])
    partner = mismatched_partner(ids, seed=7)
    assert sorted(partner) == sorted(ids)
    assert sorted(partner.values()) == sorted(ids)  # every text used once
    assert all(k != v for k, v in partner.items())  # no sample meets itself
    for block in blocks:  # partners stay within their block
        members = {ids[m] for m in block.members}
        assert all(partner[ids[s]] in members for s, _ in block.partners())


def test_depends_on_ids_and_seed_not_order():
    ids = [f"item-{i}" for i in range(9)]
    assert mismatched_partner(ids, 3) == mismatched_partner(list(reversed(ids)), 3)
    assert mismatched_partner(ids, 3) == mismatched_partner(ids, 3)
    assert any(mismatched_partner(ids, s) != mismatched_partner(ids, 3) for s in range(4, 10))


def test_needs_two_unique_samples():
    with pytest.raises(ValueError):
        derangement_blocks(["a"], 0)
    with pytest.raises(ValueError):
        derangement_blocks(["a", "a"], 0)
