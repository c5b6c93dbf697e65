"""Campaign readout: conversion and revenue of treatment against control, with intervals and checks.

Conversion (a user bought at least once in the window):

- absolute lift p_t - p_c with Newcombe's hybrid score interval (Newcombe 1998, method 10: Wilson
  intervals of each rate combined), which keeps near-nominal coverage for small rates and groups
  where the Wald interval does not;
- relative lift p_t / p_c - 1 with the log risk-ratio (Katz) interval;
- an exact permutation test of "no difference": with the users' outcomes fixed, re-drawing which
  users were treated makes the treated conversions hypergeometric, so the permutation distribution
  is computed exactly rather than sampled;
- a bootstrap interval of the absolute lift (each group resampled; for 0/1 outcomes that is a
  binomial draw at the observed rate) as a check on the analytic one.

Revenue per user (net spend in the window, zero for users who did not buy): difference of means with
Welch's interval and a percentile bootstrap interval.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import hypergeom, norm
from scipy.stats import t as student_t

BOOTSTRAP_DRAWS = 2000
MAX_BOOTSTRAP_WORK = 100_000_000
"""Resampled values per revenue bootstrap at most: large groups get fewer draws (at least 200)."""


def wilson(x: int, n: int, z: float) -> tuple[float, float]:
    """Wilson's score interval of a proportion x / n."""
    if n == 0:
        return (math.nan, math.nan)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def newcombe(x_t: int, n_t: int, x_c: int, n_c: int, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval of p_t - p_c."""
    z = float(norm.ppf(0.5 + confidence / 2))
    p_t, p_c = x_t / n_t, x_c / n_c
    l_t, u_t = wilson(x_t, n_t, z)
    l_c, u_c = wilson(x_c, n_c, z)
    d = p_t - p_c
    return d - math.sqrt((p_t - l_t) ** 2 + (u_c - p_c) ** 2), d + math.sqrt((u_t - p_t) ** 2 + (p_c - l_c) ** 2)


def relative_interval(x_t: int, n_t: int, x_c: int, n_c: int, confidence: float = 0.95) -> tuple[float, float]:
    """The interval of p_t / p_c - 1 from the log risk ratio (NaN when a group has no conversions)."""
    if x_t == 0 or x_c == 0:
        return (math.nan, math.nan)
    z = float(norm.ppf(0.5 + confidence / 2))
    log_rr = math.log((x_t / n_t) / (x_c / n_c))
    se = math.sqrt(1 / x_t - 1 / n_t + 1 / x_c - 1 / n_c)
    return math.exp(log_rr - z * se) - 1, math.exp(log_rr + z * se) - 1


def permutation_p(x_t: int, n_t: int, x_c: int, n_c: int) -> float:
    """Two-sided exact permutation p-value of "treatment does not change conversion".

    Under the null every split of the ``x_t + x_c`` converters between the groups is equally likely,
    so the treated converters follow Hypergeometric(N, K, n_t); the p-value sums the splits whose
    rate difference is at least as large as the observed one.
    """
    N, K = n_t + n_c, x_t + x_c
    if K in (0, N):
        return 1.0
    k = np.arange(max(0, K - n_c), min(K, n_t) + 1)
    diffs = np.abs(k / n_t - (K - k) / n_c)
    observed = abs(x_t / n_t - x_c / n_c)
    probs = hypergeom.pmf(k, N, K, n_t)
    return float(min(1.0, probs[diffs >= observed - 1e-12].sum()))


def _bootstrap_rates(x_t: int, n_t: int, x_c: int, n_c: int, draws: int, rng: np.random.Generator,
                     confidence: float) -> tuple[float, float]:
    d = rng.binomial(n_t, x_t / n_t, draws) / n_t - rng.binomial(n_c, x_c / n_c, draws) / n_c
    a = (1 - confidence) / 2
    return float(np.quantile(d, a)), float(np.quantile(d, 1 - a))


def _bootstrap_means(y_t: np.ndarray, y_c: np.ndarray, rng: np.random.Generator, confidence: float,
                     draws: int = BOOTSTRAP_DRAWS) -> tuple[float, float]:
    n = len(y_t) + len(y_c)
    draws = max(200, min(draws, MAX_BOOTSTRAP_WORK // max(n, 1)))
    out = np.empty(draws)
    chunk = max(1, 5_000_000 // max(n, 1))
    for start in range(0, draws, chunk):
        m = min(chunk, draws - start)
        it = rng.integers(0, len(y_t), size=(m, len(y_t)))
        ic = rng.integers(0, len(y_c), size=(m, len(y_c)))
        out[start:start + m] = y_t[it].mean(axis=1) - y_c[ic].mean(axis=1)
    a = (1 - confidence) / 2
    return float(np.quantile(out, a)), float(np.quantile(out, 1 - a))


def welch(y_t: np.ndarray, y_c: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Welch's interval of mean(y_t) - mean(y_c)."""
    n_t, n_c = len(y_t), len(y_c)
    if n_t < 2 or n_c < 2:
        return (math.nan, math.nan)
    v_t, v_c = y_t.var(ddof=1) / n_t, y_c.var(ddof=1) / n_c
    se = math.sqrt(v_t + v_c)
    d = float(y_t.mean() - y_c.mean())
    if se == 0:
        return d, d
    dof = (v_t + v_c) ** 2 / (v_t ** 2 / (n_t - 1) + v_c ** 2 / (n_c - 1))
    q = float(student_t.ppf(0.5 + confidence / 2, dof))
    return d - q * se, d + q * se


def _finite(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def group_summary(converted: np.ndarray, revenue: np.ndarray) -> dict[str, Any]:
    n = len(converted)
    x = int(np.asarray(converted, dtype=bool).sum())
    total = float(np.asarray(revenue, dtype=float).sum())
    return {"users": n, "conversions": x, "conversion_rate": _finite(x / n) if n else None,
            "revenue": total, "revenue_per_user": _finite(total / n) if n else None}


def readout(converted_t: np.ndarray, revenue_t: np.ndarray, converted_c: np.ndarray, revenue_c: np.ndarray, *,
            confidence: float = 0.95, seed: int = 0, bootstrap: bool = True) -> dict[str, Any]:
    """Treatment against control: each group's figures, the conversion lift and the revenue lift.

    Keys: ``treatment`` and ``control`` (users, conversions, conversion_rate, revenue,
    revenue_per_user), ``lift`` (absolute, relative, ci_low, ci_high — the interval of the absolute
    lift —, relative_ci_low, relative_ci_high, p_value, bootstrap_ci_low, bootstrap_ci_high) and
    ``revenue_lift`` (absolute, relative, ci_low, ci_high, bootstrap_ci_low, bootstrap_ci_high).
    Figures that a group's size makes undefined are None.
    """
    y_t, y_c = np.asarray(revenue_t, dtype=float), np.asarray(revenue_c, dtype=float)
    t, c = group_summary(converted_t, y_t), group_summary(converted_c, y_c)
    out: dict[str, Any] = {"treatment": t, "control": c, "confidence": confidence}
    n_t, n_c, x_t, x_c = t["users"], c["users"], t["conversions"], c["conversions"]
    if n_t == 0 or n_c == 0:
        out["lift"] = dict.fromkeys(("absolute", "relative", "ci_low", "ci_high", "relative_ci_low",
                                     "relative_ci_high", "p_value", "bootstrap_ci_low", "bootstrap_ci_high"))
        out["revenue_lift"] = dict.fromkeys(("absolute", "relative", "ci_low", "ci_high", "bootstrap_ci_low",
                                             "bootstrap_ci_high"))
        return out
    rng = np.random.default_rng(seed)
    p_t, p_c = x_t / n_t, x_c / n_c
    lo, hi = newcombe(x_t, n_t, x_c, n_c, confidence)
    rlo, rhi = relative_interval(x_t, n_t, x_c, n_c, confidence)
    blo, bhi = _bootstrap_rates(x_t, n_t, x_c, n_c, BOOTSTRAP_DRAWS, rng, confidence) if bootstrap else (None, None)
    out["lift"] = {"absolute": p_t - p_c, "relative": _finite(p_t / p_c - 1) if p_c > 0 else None,
                   "ci_low": lo, "ci_high": hi, "relative_ci_low": _finite(rlo), "relative_ci_high": _finite(rhi),
                   "p_value": permutation_p(x_t, n_t, x_c, n_c),
                   "bootstrap_ci_low": _finite(blo) if blo is not None else None,
                   "bootstrap_ci_high": _finite(bhi) if bhi is not None else None}
    m_t, m_c = float(y_t.mean()), float(y_c.mean())
    wlo, whi = welch(y_t, y_c, confidence)
    rb = _bootstrap_means(y_t, y_c, rng, confidence) if bootstrap and n_t > 1 and n_c > 1 else (math.nan, math.nan)
    out["revenue_lift"] = {"absolute": m_t - m_c, "relative": _finite(m_t / m_c - 1) if m_c > 0 else None,
                           "ci_low": _finite(wlo), "ci_high": _finite(whi),
                           "bootstrap_ci_low": _finite(rb[0]), "bootstrap_ci_high": _finite(rb[1])}
    return out


def readout_by(strata: np.ndarray, treated: np.ndarray, converted: np.ndarray, revenue: np.ndarray, *,
               confidence: float = 0.95, seed: int = 0) -> dict[str, dict[str, Any]]:
    """``readout`` within each stratum (segment), keyed by stratum, largest first."""
    strata = np.asarray(strata, dtype=object)
    treated = np.asarray(treated, dtype=bool)
    out: dict[str, dict[str, Any]] = {}
    values, counts = np.unique(strata.astype(str), return_counts=True)
    for value in values[np.argsort(-counts, kind="stable")]:
        m = strata.astype(str) == value
        out[str(value)] = readout(converted[m & treated], revenue[m & treated], converted[m & ~treated],
                                  revenue[m & ~treated], confidence=confidence, seed=seed)
    return out
