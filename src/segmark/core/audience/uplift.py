"""Uplift modelling: whom a campaign moves, estimated from a randomised treatment/control test,
and how well a ranking by estimated uplift finds them (Qini curve, AUUC).

- ``TwoModelUplift``: one classifier per arm; uplift = P(y | x, treated) - P(y | x, control).
- ``XLearnerUplift`` (Künzel, Sekhon, Bickel & Yu 2019, "Metalearners for estimating heterogeneous
  treatment effects", PNAS): outcome models per arm, imputed effects (treated: y - mu0(x);
  control: mu1(x) - y) regressed on x per arm, blended with the treated share g:
  tau(x) = g tau0(x) + (1 - g) tau1(x) (a randomised test has a constant propensity).

Both follow scikit-learn's conventions (parameters stored in ``__init__``, ``fit`` returns self,
learned attributes end in ``_``) and take any scikit-learn estimator. The kept libraries were not
taken as dependencies: causalml brings some twenty hard dependencies (xgboost, lightgbm, shap,
seaborn, graphviz, black...), and scikit-uplift's last release (0.5.1, 2022) calls a scikit-learn
helper deprecated in 1.8 and due to go in 1.10; the two learners are a few lines over scikit-learn.
The curves below are checked in the tests against scikit-uplift's (a development dependency).

Qini curve (Radcliffe 2007): users ranked by estimated uplift; after the top k,
Q(k) = Y_t(k) - Y_c(k) N_t(k) / N_c(k), the treated conversions beyond what control's rate
predicts. Uplift curve: U(k) = (Y_t(k)/N_t(k) - Y_c(k)/N_c(k)) (N_t(k) + N_c(k)). Ties in the
score are taken as one step. Areas are on the fraction-targeted axis, random targeting's being
the straight line to the last point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.integrate import trapezoid
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor


def _default_classifier() -> BaseEstimator:
    return HistGradientBoostingClassifier(max_iter=50, learning_rate=0.1, max_leaf_nodes=15, random_state=0)


def _default_regressor() -> BaseEstimator:
    return HistGradientBoostingRegressor(max_iter=50, learning_rate=0.1, max_leaf_nodes=15, random_state=0)


def _check(X: Any, treatment: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    t = np.asarray(treatment).astype(bool)
    y = np.asarray(y).astype(float)
    if X.ndim != 2 or len(X) != len(t) or len(t) != len(y):
        raise ValueError("X, treatment and y must have one row per user")
    if t.all() or not t.any():
        raise ValueError("uplift needs users in both the treatment and the control group")
    return X, t, y


def _proba(model: BaseEstimator, X: np.ndarray) -> np.ndarray:
    classes = list(model.classes_)
    if 1.0 not in classes and 1 not in classes:
        return np.zeros(len(X))
    return model.predict_proba(X)[:, classes.index(1.0 if 1.0 in classes else 1)]


class TwoModelUplift(BaseEstimator):
    """Uplift as the difference of two outcome classifiers, one per arm."""

    def __init__(self, estimator: BaseEstimator | None = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, treatment: Any, y: Any) -> TwoModelUplift:
        X, t, y = _check(X, treatment, y)
        base = self.estimator if self.estimator is not None else _default_classifier()
        self.model_t_ = clone(base).fit(X[t], y[t])
        self.model_c_ = clone(base).fit(X[~t], y[~t])
        return self

    def predict(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return _proba(self.model_t_, X) - _proba(self.model_c_, X)


class XLearnerUplift(BaseEstimator):
    """Künzel et al.'s X-learner with a constant propensity (a randomised test)."""

    def __init__(self, outcome_estimator: BaseEstimator | None = None,
                 effect_estimator: BaseEstimator | None = None) -> None:
        self.outcome_estimator = outcome_estimator
        self.effect_estimator = effect_estimator

    def fit(self, X: Any, treatment: Any, y: Any) -> XLearnerUplift:
        X, t, y = _check(X, treatment, y)
        outcome = self.outcome_estimator if self.outcome_estimator is not None else _default_classifier()
        effect = self.effect_estimator if self.effect_estimator is not None else _default_regressor()
        mu1 = clone(outcome).fit(X[t], y[t])
        mu0 = clone(outcome).fit(X[~t], y[~t])
        d1 = y[t] - _proba(mu0, X[t])
        d0 = _proba(mu1, X[~t]) - y[~t]
        self.tau1_ = clone(effect).fit(X[t], d1)
        self.tau0_ = clone(effect).fit(X[~t], d0)
        self.propensity_ = float(t.mean())
        return self

    def predict(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        g = self.propensity_
        return g * self.tau0_.predict(X) + (1 - g) * self.tau1_.predict(X)


METHODS = {"two-model": TwoModelUplift, "x-learner": XLearnerUplift}


def _cumulative(y: np.ndarray, t: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, ...]:
    y, t, score = np.asarray(y, dtype=float), np.asarray(t).astype(bool), np.asarray(score, dtype=float)
    order = np.argsort(-score, kind="stable")
    y, t, s = y[order], t[order], score[order]
    n_t = np.cumsum(t)
    n_c = np.cumsum(~t)
    y_t = np.cumsum(y * t)
    y_c = np.cumsum(y * ~t)
    last = np.r_[s[1:] != s[:-1], True]  # the end of each run of tied scores
    k = np.arange(1, len(y) + 1)[last]
    return k, n_t[last], n_c[last], y_t[last], y_c[last]


def qini_curve(y: Any, treatment: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    """(users targeted, Qini value) from 0 to all users, ranked by ``score`` (highest first)."""
    k, n_t, n_c, y_t, y_c = _cumulative(np.asarray(y), np.asarray(treatment), np.asarray(score))
    with np.errstate(divide="ignore", invalid="ignore"):
        q = y_t - np.where(n_c > 0, y_c * n_t / n_c, 0.0)
    return np.r_[0, k], np.r_[0.0, q]


def uplift_curve(y: Any, treatment: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    """(users targeted, incremental conversions) from 0 to all users, ranked by ``score``."""
    k, n_t, n_c, y_t, y_c = _cumulative(np.asarray(y), np.asarray(treatment), np.asarray(score))
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_t = np.where(n_t > 0, y_t / np.maximum(n_t, 1), 0.0)
        rate_c = np.where(n_c > 0, y_c / np.maximum(n_c, 1), 0.0)
    return np.r_[0, k], np.r_[0.0, (rate_t - rate_c) * (n_t + n_c)]


def _area(x: np.ndarray, v: np.ndarray) -> float:
    """Trapezoid area on the fraction-targeted axis, per user."""
    n = float(x[-1])
    return float(trapezoid(v, x / n) / n) if n else 0.0  # scipy's: np.trapezoid needs NumPy 2


def uplift_scores(y: Any, treatment: Any, score: Any) -> dict[str, float]:
    """Areas of the Qini and uplift curves against random targeting, per user targeted.

    ``qini``: area between the Qini curve and the random line; ``auuc``: area under the uplift
    curve; ``auuc_random``: the same for random targeting (half the overall incremental
    conversions per user). Both areas are divided by the number of users, so they read as
    incremental conversions per user.
    """
    x, q = qini_curve(y, treatment, score)
    xu, u = uplift_curve(y, treatment, score)
    qini_random = float(q[-1] / 2 / x[-1]) if x[-1] else 0.0
    return {"qini": _area(x, q) - qini_random, "qini_area": _area(x, q), "qini_random": qini_random,
            "auuc": _area(xu, u), "auuc_random": float(u[-1] / 2 / xu[-1]) if xu[-1] else 0.0,
            "users": int(x[-1])}
