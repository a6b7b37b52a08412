"""How to split a small labelled set into cross-validation folds without sklearn refusing it."""

from __future__ import annotations


def fold_groups(strata: list[str], folds: int) -> tuple[list[str], int]:
    """(groups to stratify by, number of folds) for ``strata`` (one per item) and the folds wanted.

    Strata too small to appear in every fold are pooled together, and everything is one group when
    even the pool is too small (a corpus of a few calls, a label only one call has); the folds are
    then as many as the smallest group allows, at least 2. Fewer than 2 items cannot be split.
    """
    if len(strata) < 2:
        raise ValueError(f"cross-validation needs at least 2 labelled calls, got {len(strata)}")
    groups = [s if strata.count(s) >= folds else "(rare)" for s in strata]
    if min(groups.count(g) for g in groups) < 2:
        groups = ["(all)"] * len(strata)
    return groups, max(2, min(folds, min(groups.count(g) for g in groups)))
