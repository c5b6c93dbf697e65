"""Rates shrunk toward the shop's rate by how much evidence each user's rate rests on.

A rate over a handful of events is mostly noise: one cart out of two views reads 50%, one bought
item out of one carted reads 100%, and a user with no carts has no cart-to-purchase rate at all
(filling it with 0 would call them a cart abandoner). Clustered raw, such rates put users with
little history at the extremes, where they look like the types a marketer cares about most.

:class:`RateShrinker` replaces each rate ``k / n`` by its empirical-Bayes estimate under a
beta-binomial model (Efron & Morris 1975; the "empirical Bayes batting average"):

    (k + a * p) / (n + a)

``p`` is the shop's pooled rate (sum of k over sum of n) and ``a`` the prior's strength in
pseudo-events, estimated by the method of moments from how much more the users' rates vary than
binomial noise alone would make them (Kleinman 1973). A user with ``n = 0`` gets ``p``: no
evidence, the shop's rate. Where rates vary no more than noise, ``a`` is large and every user
gets close to ``p`` (the feature carries nothing); where users differ a lot, ``a`` is small and a
rate over many events is left almost as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

RATE_BASES: dict[str, str] = {
    "view_to_cart_rate": "views_total",
    "cart_to_purchase_rate": "carted_items",
    "cart_abandonment_rate": "carted_items",
    "active_week_share": "weeks_observed",
}
"""Rate feature -> the count it is a share of (both in the feature table, see the funnel and
activity families)."""

MIN_STRENGTH = 1.0
"""Least prior strength: even where users differ widely, a rate over one event is pulled halfway."""
MAX_STRENGTH = 1e4
"""Most prior strength: a rate that varies no more than noise is the shop's rate for everyone."""


def prior_strength(k: np.ndarray, n: np.ndarray, p: float) -> float:
    """Method-of-moments strength ``a`` of a Beta(a p, a (1 - p)) prior from counts ``k`` of ``n``.

    Under the beta-binomial model the rate ``k / n`` of a user with ``n`` events varies around
    ``p`` with variance ``p (1 - p) (rho + (1 - rho) / n)``, ``rho = 1 / (a + 1)`` being the share of
    the variance that is between users. Averaging over users with ``n >= 1`` and solving for
    ``rho`` gives ``a``, clipped to [:data:`MIN_STRENGTH`, :data:`MAX_STRENGTH`].
    """
    seen = n >= 1
    if seen.sum() < 2 or not 0.0 < p < 1.0:
        return MAX_STRENGTH
    r = k[seen] / n[seen]
    spread = float(np.mean((r - p) ** 2)) / (p * (1.0 - p))
    noise = float(np.mean(1.0 / n[seen]))
    if noise >= 1.0:  # every user has exactly one event: nothing tells noise from difference
        return MAX_STRENGTH
    rho = (spread - noise) / (1.0 - noise)
    if rho <= 0.0:
        return MAX_STRENGTH
    return float(np.clip(1.0 / rho - 1.0, MIN_STRENGTH, MAX_STRENGTH))


class RateShrinker(TransformerMixin, BaseEstimator):
    """Shrink the rate columns of a frame toward their pooled rate (see the module docstring).

    ``bases`` maps a rate column to the count column it is a share of; pairs whose columns are not
    both in the frame are left alone. ``drop`` lists columns to drop after shrinking (the counts,
    when they were only brought in as bases). Input and output are DataFrames.
    """

    def __init__(self, bases: Mapping[str, str] | None = None, drop: Sequence[str] = ()) -> None:
        self.bases = bases
        self.drop = drop

    def _pairs(self, columns: Sequence[str]) -> dict[str, str]:
        bases = RATE_BASES if self.bases is None else self.bases
        return {rate: base for rate, base in bases.items() if rate in columns and base in columns}

    def fit(self, X: pd.DataFrame, y=None):
        if not isinstance(X, pd.DataFrame):
            raise TypeError("RateShrinker expects a DataFrame (rates are found by column name)")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.prior_ = {}
        for rate, base in self._pairs(list(X.columns)).items():
            r = pd.to_numeric(X[rate], errors="coerce").to_numpy(dtype=np.float64)
            n = pd.to_numeric(X[base], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
            ok = ~np.isnan(r) & (n > 0)
            k = np.where(ok, r * n, 0.0)
            total = n[ok].sum()
            p = float(k.sum() / total) if total > 0 else float("nan")
            if np.isnan(p):
                continue
            # Rates above 1 (more carts than views) are kept as they are; the prior is on [0, 1].
            a = prior_strength(k[ok], n[ok], min(max(p, 0.0), 1.0))
            self.prior_[rate] = (base, p, a)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "prior_")
        out = X.copy()
        for rate, (base, p, a) in self.prior_.items():
            r = pd.to_numeric(out[rate], errors="coerce").to_numpy(dtype=np.float64)
            n = pd.to_numeric(out[base], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
            k = np.where(np.isnan(r) | (n <= 0), 0.0, r * np.maximum(n, 0))
            out[rate] = (k + a * p) / (np.maximum(n, 0) * ~np.isnan(r) + a)
        return out.drop(columns=[c for c in self.drop if c in out.columns])

    def get_feature_names_out(self, input_features=None):
        return np.asarray([c for c in self.feature_names_in_ if c not in set(self.drop)], dtype=object)
