"""The pure statistics against published or independently computed values: Newcombe's intervals,
the permutation test, sample sizes, the stratified holdout, Qini curves, uplift on planted effects,
and the readout interval's coverage over repeated simulated campaigns."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import fisher_exact, ttest_ind
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from segmark.core.audience.holdout import control_counts, stratified_holdout
from segmark.core.audience.lift import newcombe, permutation_p, readout, relative_interval, wilson
from segmark.core.audience.power import sample_size
from segmark.core.audience.uplift import (
    TwoModelUplift,
    XLearnerUplift,
    qini_curve,
    uplift_curve,
    uplift_scores,
)
from segmark.demo.campaign import simulate_outcomes


def test_wilson_and_newcombe_match_the_paper() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10
    assert newcombe(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert newcombe(9, 10, 3, 10) == pytest.approx((0.1705, 0.8090), abs=5e-5)
    # Wilson's interval for 81 of 263 (Newcombe's single-proportion table): 0.2553 to 0.3662
    assert wilson(81, 263, 1.959964) == pytest.approx((0.2553, 0.3662), abs=5e-5)


def test_relative_interval_is_the_log_risk_ratio() -> None:
    lo, hi = relative_interval(120, 1000, 90, 1000)
    se = np.sqrt(1 / 120 - 1 / 1000 + 1 / 90 - 1 / 1000)
    assert lo == pytest.approx(np.exp(np.log(120 / 90) - 1.959964 * se) - 1, rel=1e-6)
    assert hi == pytest.approx(np.exp(np.log(120 / 90) + 1.959964 * se) - 1, rel=1e-6)


@pytest.mark.parametrize(("x_t", "n_t", "x_c", "n_c"), [(9, 20, 3, 20), (30, 200, 18, 150), (0, 10, 2, 12)])
def test_the_exact_permutation_p_value(x_t: int, n_t: int, x_c: int, n_c: int) -> None:
    y_t = np.r_[np.ones(x_t), np.zeros(n_t - x_t)]
    y_c = np.r_[np.ones(x_c), np.zeros(n_c - x_c)]
    rng = np.random.default_rng(0)
    pooled = np.r_[y_t, y_c]
    observed = abs(y_t.mean() - y_c.mean())
    draws = np.array([rng.permutation(pooled) for _ in range(20_000)])
    diffs = np.abs(draws[:, :n_t].mean(axis=1) - draws[:, n_t:].mean(axis=1))
    sampled = (diffs >= observed - 1e-12).mean()  # the definition, by brute force
    assert permutation_p(x_t, n_t, x_c, n_c) == pytest.approx(sampled, abs=0.012)
    if n_t == n_c:  # with equal groups the ordering by difference is Fisher's by probability
        assert permutation_p(x_t, n_t, x_c, n_c) == pytest.approx(fisher_exact([[x_t, n_t - x_t],
                                                                                 [x_c, n_c - x_c]])[1], rel=1e-9)


def test_readout_figures_by_hand() -> None:
    conv_t = np.r_[np.ones(12), np.zeros(88)]
    rev_t = np.r_[np.full(12, 50.0), np.zeros(88)]
    conv_c = np.r_[np.ones(6), np.zeros(94)]
    rev_c = np.r_[np.full(6, 50.0), np.zeros(94)]
    r = readout(conv_t, rev_t, conv_c, rev_c)
    assert r["treatment"] == {"users": 100, "conversions": 12, "conversion_rate": 0.12, "revenue": 600.0,
                              "revenue_per_user": 6.0}
    assert r["lift"]["absolute"] == pytest.approx(0.06) and r["lift"]["relative"] == pytest.approx(1.0)
    assert (r["lift"]["ci_low"], r["lift"]["ci_high"]) == pytest.approx(newcombe(12, 100, 6, 100))
    assert r["revenue_lift"]["absolute"] == pytest.approx(3.0)
    welch = ttest_ind(rev_t, rev_c, equal_var=False).confidence_interval(0.95)
    assert (r["revenue_lift"]["ci_low"], r["revenue_lift"]["ci_high"]) == pytest.approx((welch.low, welch.high))
    assert r["lift"]["bootstrap_ci_low"] < 0.06 < r["lift"]["bootstrap_ci_high"]


def test_sample_sizes_match_fleiss_tables() -> None:
    # Fleiss, Levin & Paik (2003), table A.4 (no continuity correction), alpha 0.05 two-sided, power 0.80
    assert sample_size(0.10, 0.05)["control"] == 686
    assert sample_size(0.05, 0.05)["control"] == 435
    # by hand: p̄ = .35; (1.95996 sqrt(2 .35 .65) + 0.84162 sqrt(.21 + .24))² / .1² = 1.88666² / .01 = 355.97
    assert sample_size(0.30, 0.10)["control"] == 356
    relative = sample_size(0.10, 0.5, relative=True)
    assert relative["treatment_rate"] == pytest.approx(0.15) and relative["control"] == 686
    unequal = sample_size(0.10, 0.05, control_share=0.2)  # 4 treated per control: fewer controls, more in all
    assert unequal["treatment"] == pytest.approx(4 * unequal["control"], abs=4)
    assert unequal["control"] < 686 < unequal["treatment"] and unequal["total"] > 2 * 686
    with pytest.raises(ValueError):
        sample_size(0.95, 0.1)


def test_control_counts_sum_to_the_rounded_total() -> None:
    assert control_counts(np.array([4, 1, 1, 1, 1]), 0.5).tolist() == [2, 1, 1, 0, 0]
    assert control_counts(np.array([700, 300]), 0.1).tolist() == [70, 30]
    assert control_counts(np.array([3, 3, 3]), 0.1).sum() == 1


def test_holdout_is_stratified_reproducible_and_order_free() -> None:
    ids = np.array([f"u{i}" for i in range(10_000)])
    strata = np.where(np.arange(10_000) % 10 < 7, "a", np.where(np.arange(10_000) % 10 < 9, "b", None))
    c = stratified_holdout(ids, strata, 0.1, seed=5)
    assert c.sum() == 1000
    assert (c[strata == "a"].sum(), c[strata == "b"].sum(), c[strata == None].sum()) == (700, 200, 100)  # noqa: E711
    perm = np.random.default_rng(0).permutation(10_000)
    assert (stratified_holdout(ids[perm], strata[perm], 0.1, seed=5) == c[perm]).all()
    other = stratified_holdout(ids, strata, 0.1, seed=6)
    assert 0.05 < (other & c).sum() / 1000 < 0.2  # another seed is another (independent) draw
    # a user keeps their group when others leave the audience
    keep = np.arange(10_000) % 3 != 0
    sub = stratified_holdout(ids[keep], strata[keep], 0.1, seed=5)
    assert (sub & ~c[keep]).sum() < 0.02 * keep.sum()


def test_qini_and_uplift_curves_by_hand() -> None:
    y = [1, 0, 1, 0, 1, 0]
    t = [1, 1, 0, 0, 1, 0]
    s = [6, 5, 4, 3, 2, 1]
    x, q = qini_curve(y, t, s)
    # after k: treated conversions minus control conversions scaled by N_t / N_c
    assert x.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert q.tolist() == pytest.approx([0, 1, 1, 1 - 1 * 2 / 1, 1 - 1 * 2 / 2, 2 - 1 * 3 / 2, 2 - 1 * 3 / 3])
    _, u = uplift_curve(y, t, s)
    assert u[-1] == pytest.approx((2 / 3 - 1 / 3) * 6)
    # tied scores are one step
    x2, _ = qini_curve(y, t, [1, 1, 1, 0, 0, 0])
    assert x2.tolist() == [0, 3, 6]


def test_uplift_learners_find_the_planted_effect() -> None:
    rng = np.random.default_rng(0)
    n = 8000
    X = rng.normal(size=(n, 4))
    t = rng.random(n) < 0.5
    responds = X[:, 0] > 0.5  # only these users are moved, by +30 points
    y = rng.random(n) < 0.1 + 0.3 * (responds & t)
    train = np.arange(n) < n // 2
    small = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=7, random_state=0)
    with threadpool_limits(1):  # OpenMP threads on a busy 2-core machine only slow small fits down
        _planted(X, t, y, train, responds, rng, small)


def _planted(X, t, y, train, responds, rng, small) -> None:
    for model in (TwoModelUplift(small), XLearnerUplift(small, HistGradientBoostingRegressor(max_iter=30,
                                                                                             max_leaf_nodes=7))):
        model.fit(X[train], t[train], y[train])
        score = model.predict(X[~train])
        got = uplift_scores(y[~train], t[~train], score)
        random = uplift_scores(y[~train], t[~train], rng.random((~train).sum()))
        assert got["qini"] > 0.01 > abs(random["qini"])
        assert got["auuc"] > got["auuc_random"]
        top = np.argsort(-score)[: int(0.2 * len(score))]
        assert responds[~train][top].mean() > 0.8  # the top fifth are mostly the responsive users


def test_readout_interval_coverage_over_repeated_simulations() -> None:
    """400 simulated campaigns with baselines spread like a shop's and a planted +3 points: the 95%
    interval covers +3 points in about 95% of them (binomial sd 1.1 points at 400 runs)."""
    rng = np.random.default_rng(42)
    n = 2000
    baseline = np.clip(0.02 + 0.03 * rng.poisson(1.0, n), 0, 0.6)
    covered = covered_rel = 0
    for _ in range(400):
        treated = rng.random(n) < 0.5
        conv = simulate_outcomes(baseline, treated, 0.03, rng)
        r = readout(conv[treated], conv[treated] * 1.0, conv[~treated], conv[~treated] * 1.0, bootstrap=False)
        covered += r["lift"]["ci_low"] <= 0.03 <= r["lift"]["ci_high"]
        true_rel = (baseline[treated].mean() + 0.03) / baseline[~treated].mean() - 1
        covered_rel += r["lift"]["relative_ci_low"] <= true_rel <= r["lift"]["relative_ci_high"]
    assert 0.925 <= covered / 400 <= 0.975
    assert 0.92 <= covered_rel / 400 <= 0.98


def test_curves_match_scikit_uplift() -> None:
    """scikit-uplift's own qini_curve and uplift_curve, an independent implementation, on random data
    with ties."""
    from sklift.metrics import qini_curve as sklift_qini
    from sklift.metrics import uplift_curve as sklift_uplift

    rng = np.random.default_rng(3)
    y, t = rng.random(600) < 0.3, rng.random(600) < 0.5
    for score in (rng.normal(size=600), np.round(rng.normal(size=600), 1)):
        for ours, theirs in ((qini_curve, sklift_qini), (uplift_curve, sklift_uplift)):
            x1, v1 = ours(y, t, score)
            x2, v2 = theirs(y.astype(int), score, t.astype(int))
            assert np.array_equal(x1, x2) and np.allclose(v1, v2)
