"""Fold plans for small or lopsided labelled sets."""

from __future__ import annotations

import pytest

from models.folds import fold_groups


def test_strata_big_enough_are_kept_and_rare_ones_pooled():
    strata = ["a"] * 6 + ["b"] * 5 + ["c"] * 2 + ["d"] * 1
    groups, k = fold_groups(strata, 5)
    assert groups[:11] == strata[:11] and set(groups[11:]) == {"(rare)"}
    assert k == 3   # the pool of three calls is the smallest group


def test_a_pool_too_small_to_split_makes_one_group():
    groups, k = fold_groups(["a"] * 9 + ["b"], 2)
    assert set(groups) == {"(all)"} and k == 2


def test_fewer_than_two_items_cannot_be_cross_validated():
    with pytest.raises(ValueError, match="at least 2 labelled calls"):
        fold_groups(["a"], 5)
