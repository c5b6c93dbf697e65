"""Predictions at scale, each beside the plain way in the same run.

    python -m benchmarks.predict [--users 1000000] [--features 40] [--repeat 1] [--seed 0]

- ``train``: ``PredictiveModel.fit`` with model choice (tree, logistic, SVM, MLP, gradient boosting
  and their ensemble, 5-fold out-of-fold on a 20,000-row sample, permutation importance, the winner
  refitted on every row) beside **one** ``HistGradientBoostingClassifier()`` fit with scikit-learn's
  defaults on the same matrix; target: at most 10 times.
- ``score``: the fitted model scoring every user (encoding included) beside the plain
  ``HistGradientBoostingClassifier.predict_proba`` on the ready matrix; target: at most 10 s.
- ``clv fit``: BG/NBD on every customer's (x, t_x, T) in whole days — the likelihood summed over unique
  rows with weights — beside the same likelihood over every customer row, minimised the same way;
  target: at most 10 s.

The data are generated: users with a planted logistic rule over heavy-tailed behaviour features
(plus noise features) for the classifiers, and customers from a BG/NBD process counted in days for
the lifetime-value fit. Peak memory is the process's resident high-water mark after each step.
Timings come from a shared machine: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from scipy import optimize
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from benchmarks.common import timed
from segmark.core.predict.btyd import BetaGeoModel, Summary
from segmark.core.predict.model import PredictiveModel, prepare


def planted_users(n: int, n_features: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Heavy-tailed counts and amounts; the label follows a logistic rule on a few of them."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"f{i:02d}": rng.lognormal(0, 1, n) * (rng.random(n) < 0.7) for i in range(n_features)})
    X["recency_days"] = rng.exponential(60, n)
    X["segment"] = rng.choice(["a", "b", "c", "d"], n)
    z = (1.2 * np.log1p(X["f00"]) - 0.02 * X["recency_days"] + 0.8 * (X["segment"] == "b")
         + 0.6 * np.log1p(X["f01"]) * np.log1p(X["f02"]) - 1.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y


def bgnbd_customers(n: int, seed: int, days: int = 364) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers of a BG/NBD process (r 0.25, alpha 4 weeks, a 0.8, b 2.5) counted in whole days,
    first purchases spread over the first quarter, in weeks."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.25, 1 / 4.0, n) / 7.0  # purchases per day
    p = rng.beta(0.8, 2.5, n)
    first = rng.integers(0, 91, n)
    T = days - first
    x = np.zeros(n, dtype=int)
    last = np.zeros(n)
    t = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    for _ in range(60):  # enough steps: almost every customer has dropped out or passed T
        gap = rng.exponential(1 / np.maximum(lam, 1e-9))
        t = t + gap
        ok = alive & (t <= T)
        x = x + ok
        last = np.where(ok, np.floor(t), last)
        alive = ok & (rng.random(n) >= p)
    return x.astype(float), last / 7.0, T / 7.0


def plain_bgnbd_fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    """The same likelihood over every row (no unique-row weights), minimised the same way."""
    model = BetaGeoModel()
    s = Summary(x, t_x, T, np.ones(len(x)))

    def negll(logp: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            v = -model._loglik(np.exp(logp), s).sum() / len(x)
        return float(v) if np.isfinite(v) else 1e300

    first = optimize.minimize(negll, np.zeros(4), method="Nelder-Mead",
                              options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-9})
    optimize.minimize(negll, first.x, method="L-BFGS-B", options={"maxiter": 500})
    return float(first.fun)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    console = Console()
    n = args.users
    X, y = planted_users(n, args.features, args.seed)
    numeric = [c for c in X.columns if c != "segment"]
    console.print(f"{n:,} users x {X.shape[1]} inputs, {y.mean():.1%} positive (planted logistic rule)")
    table = Table(title=f"predictions at {n:,} users (seconds, median of {args.repeat}; shared machine)")
    for col in ("step", "segmark", "plain way", "ratio", "target", "peak RSS (MB)"):
        table.add_column(col, justify="left" if col in ("step", "target") else "right")

    t_train, model = timed(lambda: PredictiveModel(numeric=numeric, categorical=["segment"]).fit(X, y), args.repeat)
    mem_train = peak_mb()
    ready = pd.get_dummies(prepare(X, numeric, ["segment"]), columns=["segment"], dtype=float)
    t_hgb, hgb = timed(lambda: HistGradientBoostingClassifier().fit(ready, y), args.repeat)
    table.add_row(f"train with model choice (winner: {model.algorithm_})", f"{t_train:.1f}",
                  f"{t_hgb:.1f} (one HGB fit)", f"{t_train / t_hgb:.1f}x", "<= 10x", f"{mem_train:,.0f}")
    t_score, p = timed(lambda: model.score(X), args.repeat)
    t_plain_score, p_plain = timed(lambda: hgb.predict_proba(ready)[:, 1], args.repeat)
    table.add_row("score every user", f"{t_score:.1f}", f"{t_plain_score:.1f} (HGB predict_proba)",
                  f"{t_score / t_plain_score:.1f}x", "<= 10 s", f"{peak_mb():,.0f}")

    x, t_x, T = bgnbd_customers(n, args.seed)
    t_clv, bg = timed(lambda: BetaGeoModel().fit(x, t_x, T), args.repeat)
    mem_clv = peak_mb()
    t_plain_clv, _ = timed(lambda: plain_bgnbd_fit(x, t_x, T), args.repeat)
    table.add_row(f"CLV fit, BG/NBD ({len(Summary.of(x, t_x, T).x):,} unique rows)", f"{t_clv:.1f}",
                  f"{t_plain_clv:.1f} (every row)", f"{t_clv / t_plain_clv:.2f}x", "<= 10 s", f"{mem_clv:,.0f}")
    console.print(table)
    auc, auc_plain = roc_auc_score(y, p), roc_auc_score(y, p_plain)
    console.print(f"in-sample ROC-AUC: chosen model {auc:.3f}, one HGB fit {auc_plain:.3f}; out-of-fold ROC-AUC of "
                  f"the winner {model.evaluation_['roc_auc']:.3f}")
    console.print("BG/NBD recovered: " + ", ".join(f"{k} {v:.3f}" for k, v in bg.params_.items())
                  + " (planted r 0.25, alpha 4, a 0.8, b 2.5)")
    verdict = "within" if t_train / t_hgb <= 10 else "outside"
    console.print(f"training with model choice costs {t_train / t_hgb:.1f}x one HGB fit: {verdict} the 10x target; "
                  f"scoring {n:,} users {t_score:.1f} s, CLV fit {t_clv:.1f} s")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    Console().print(f"total {time.perf_counter() - start:.0f} s")
