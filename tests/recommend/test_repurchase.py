"""Repeat rates and the repurchase decision, on purchase days counted by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from segmark.core.recommend import repeat_rates, repurchase_policy


def _days() -> tuple[sp.csr_matrix, np.ndarray]:
    # items 0-1 rice, 2 tv, 3 no category; 40 users buy rice item 0 (20 of them on 2 days), 40 buy
    # tv item 2 once, 2 users buy item 3 (one on 3 days) and a cup (item 4, 'cups') once
    rows, cols, vals = [], [], []
    for u in range(40):
        rows += [u, u]
        cols += [0, 2]
        vals += [2 if u < 20 else 1, 1]
    rows += [40, 41, 41]
    cols += [3, 3, 4]
    vals += [3, 1, 1]
    m = sp.csr_matrix((vals, (rows, cols)), shape=(42, 5))
    return m, np.array(["rice", "rice", "tv", None, "cups"], dtype=object)


def test_rates_per_category_and_for_the_shop() -> None:
    m, cats = _days()
    rates, shop = repeat_rates(m, cats, min_pairs=30)
    by = rates.set_index(rates["category"].fillna("(shop)"))
    assert shop == pytest.approx(21 / 83)  # 20 rice pairs + 1 uncategorised pair repeated, of 83
    assert by.loc["rice", "pairs"] == 40 and by.loc["rice", "rate"] == pytest.approx(0.5)
    assert by.loc["tv", "rate"] == pytest.approx(0.0) and by.loc["tv", "source"] == "category"
    # one pair is too few to measure: the shop's rate stands in
    assert by.loc["cups", "source"] == "shop" and by.loc["cups", "rate"] == pytest.approx(shop)


def test_auto_allows_rice_and_excludes_tv() -> None:
    m, cats = _days()
    policy = repurchase_policy("auto", m, cats, min_rate=0.1, min_pairs=30)
    # rice 0.5 >= 0.1; tv 0; uncategorised and cups take the shop's 0.25
    assert policy.allowed.tolist() == [True, True, False, True, True]
    assert repurchase_policy("auto", m, cats, min_rate=0.3).allowed.tolist() == [True, True, False, False, False]
    assert repurchase_policy("allow", m, cats).allowed.all()
    assert not repurchase_policy("exclude", m, cats).allowed.any()
    assert policy.summary()["categories_allowed"] == 2  # rice and cups
    with pytest.raises(ValueError, match="auto, allow or exclude"):
        repurchase_policy("sometimes", m, cats)
