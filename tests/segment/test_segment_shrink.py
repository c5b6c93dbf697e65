"""Rates over little evidence pulled toward the shop's rate, with the prior worked out by hand.

Four users of ten weeks each, active in 2, 8, 2 and 8 of them: the pooled share is p = 20/40 = 0.5.
Their shares vary by mean((r - p)^2) / (p (1 - p)) = 0.09 / 0.25 = 0.36 in units of one-event
binomial variance, of which binomial noise over ten weeks explains mean(1/n) = 0.1. So the share of
the variance between users is rho = (0.36 - 0.1) / (1 - 0.1) = 13/45, and the prior's strength is
a = 1/rho - 1 = 32/13 pseudo-weeks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmark.core.segment.shrink import MAX_STRENGTH, RateShrinker, prior_strength

FIT = pd.DataFrame({"active_week_share": [0.2, 0.8, 0.2, 0.8], "weeks_observed": [10, 10, 10, 10]})


def test_prior_strength_by_the_method_of_moments() -> None:
    k, n = np.array([2.0, 8.0, 2.0, 8.0]), np.full(4, 10.0)
    assert prior_strength(k, n, 0.5) == pytest.approx(32 / 13)


def test_rates_that_vary_no_more_than_noise_get_the_shop_rate() -> None:
    # 1 and 3 of 4: spread 0.0625 / 0.25 = 0.25, exactly the noise of four events
    assert prior_strength(np.array([1.0, 3.0, 1.0, 3.0]), np.full(4, 4.0), 0.5) == MAX_STRENGTH


def test_share_of_weeks_active_is_shrunk_by_the_weeks_observed() -> None:
    shrinker = RateShrinker(drop=("weeks_observed",)).fit(FIT)
    assert shrinker.prior_["active_week_share"] == ("weeks_observed", 0.5, pytest.approx(32 / 13))
    new = pd.DataFrame({"active_week_share": [1.0, np.nan, 0.2], "weeks_observed": [1, 0, 10]})
    out = shrinker.transform(new)
    assert list(out.columns) == ["active_week_share"]  # the base is dropped once used
    # (k + a p) / (n + a): a newcomer's one week of one is (1 + 16/13) / (1 + 32/13) = 29/45, not 1;
    # no events is the shop's share; 2 of 10 weeks (42/13) / (162/13) = 7/27, near its own 0.2
    assert out["active_week_share"].tolist() == pytest.approx([29 / 45, 0.5, 7 / 27])
