"""``SegmentModel``: preprocessing, the chosen clustering and assignment of new users, as one
scikit-learn estimator that is fitted once, stored, and reused without refitting.

How it scales (``sample_size`` rows, 5,000 by default, drawn once with ``random_state``):

- model selection runs on the sample (see :mod:`segmark.core.segment.selection`);
- k-means, mini-batch k-means and GMM are then refitted on *all* rows, started from the sample
  solution (a few passes over the data);
- agglomerative, HDBSCAN and DBSCAN keep their fit on the sample (their cost is quadratic) and
  every other user takes the majority segment of its 5 nearest sample users;
- k-prototypes is fitted on 1,500 users of the sample and assigns the rest by the cost it minimises
  (squared distance on numeric features plus gamma times mismatched categories), vectorised.

Segment ids are 0..k-1 in decreasing size on the fitted data, so "0" is always the largest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from segmark.core.segment._random import stream
from segmark.core.segment.methods import (
    AUTO_METHODS,
    METHODS,
    check_method,
    kprototypes_assign,
    make_assigner,
    warm_refit,
)
from segmark.core.segment.metrics import cluster_scores
from segmark.core.segment.preprocess import make_preprocessor, rate_bases, split_columns
from segmark.core.segment.selection import Selection, select_model
from segmark.errors import NoStructureError

__all__ = ["NoStructureError", "SegmentModel", "check_n_clusters"]


MIN_USERS = 10
"""Fewest users a clustering is fitted on: below it no segment of two users or more can be told
from chance."""


def check_n_clusters(value: object) -> int | str:
    """A number of segments as given by a user (setting, option or argument): ``"auto"`` or a
    whole number of at least 2, as an int (``"6"`` -> 6). Raises ``ValueError`` otherwise.

    The one check of k: the settings, the command line and :class:`SegmentModel` all use it.
    """
    if value == "auto":
        return "auto"
    if isinstance(value, str) and value.strip().lstrip("+").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 2:
        raise ValueError(f"k must be auto or a whole number of segments of at least 2, not {value!r}")
    return int(value)


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= size else np.sort(rng.choice(n, size=size, replace=False))


class SegmentModel(ClusterMixin, BaseEstimator):
    """Segment users from a feature table (one row per user).

    Parameters
    ----------
    method : "auto" or one of :data:`segmark.core.segment.methods.METHODS`.
    n_clusters : "auto" or a number of segments (ignored by hdbscan and dbscan).
    features : columns to use (default: every column of ``X``); text columns are categorical.
    pca : optional number of components (or variance share) after preprocessing.
    methods : methods searched when ``method="auto"``.
    k_min, k_max : the range of k searched when ``n_clusters="auto"``.
    min_share, min_stability, min_gain, finer_ratio : the selection rule's thresholds (see
        :mod:`segmark.core.segment.selection`).
    sample_size : rows used for selection and by the sample-fitted methods.
    silhouette_sample : rows (within the sample) the silhouette is computed on.
    spread : how features are scaled after the log, "std" or "iqr" (see
        :class:`~segmark.core.segment.preprocess.SpreadScaler`).

    Rates whose base count is in ``X`` (see :data:`~segmark.core.segment.shrink.RATE_BASES`) are
    shrunk by their evidence; ``X`` given to ``predict`` then needs those counts too.
    """

    def __init__(self, method: str = "auto", n_clusters: int | str = "auto", *,
                 features: Sequence[str] | None = None, pca: int | float | None = None,
                 methods: Sequence[str] = AUTO_METHODS, k_min: int = 2, k_max: int = 10,
                 min_share: float = 0.02, min_stability: float = 0.6, min_gain: float = 0.05,
                 finer_ratio: float = 0.8,
                 sample_size: int = 5000, silhouette_sample: int = 1000, n_resamples: int = 4,
                 skew_threshold: float = 1.0, spread: str = "std", random_state: int = 0) -> None:
        self.method = method
        self.n_clusters = n_clusters
        self.features = features
        self.pca = pca
        self.methods = methods
        self.k_min = k_min
        self.k_max = k_max
        self.min_share = min_share
        self.min_stability = min_stability
        self.min_gain = min_gain
        self.finer_ratio = finer_ratio
        self.sample_size = sample_size
        self.silhouette_sample = silhouette_sample
        self.n_resamples = n_resamples
        self.skew_threshold = skew_threshold
        self.spread = spread
        self.random_state = random_state

    # -- fitting ---------------------------------------------------------------------------------

    def _check_params(self) -> tuple[bool, list[str], list[int]]:
        if self.method != "auto":
            check_method(self.method)
        n_clusters = check_n_clusters(self.n_clusters)
        auto_k = n_clusters == "auto"
        if not 2 <= self.k_min <= self.k_max:
            raise ValueError("need 2 <= k_min <= k_max")
        methods = list(self.methods) if self.method == "auto" else [self.method]
        for m in methods:
            check_method(m)
        needs_k = any(METHODS[m].needs_k for m in methods)
        k_values = list(range(self.k_min, self.k_max + 1)) if auto_k or not needs_k else [int(n_clusters)]
        forced = self.method != "auto" and not auto_k
        return forced, methods, k_values

    def fit(self, X: pd.DataFrame, y: Any = None) -> SegmentModel:
        """Preprocess, select (or take) a method and k, fit, and label every row of ``X``.

        Raises :class:`NoStructureError` when the method or k is automatic and the data show no
        real segments.
        """
        if not isinstance(X, pd.DataFrame):
            raise TypeError("SegmentModel expects a DataFrame with one row per user")
        if len(X) < MIN_USERS:
            raise ValueError(f"need at least {MIN_USERS} users to segment, got {len(X)}")
        forced, methods, k_values = self._check_params()
        features = list(self.features) if self.features is not None else list(X.columns)
        missing = [f for f in features if f not in X.columns]
        if missing:
            raise KeyError(f"features not in the table: {missing}")
        self.numeric_, self.categorical_ = split_columns(X, features)
        self.feature_names_in_ = np.asarray(features, dtype=object)
        self.bases_ = rate_bases(self.numeric_, list(X.columns))
        self.preprocessor_ = make_preprocessor(self.numeric_, self.categorical_, pca=self.pca,
                                               skew_threshold=self.skew_threshold,
                                               random_state=self.random_state, bases=self.bases_,
                                               spread=self.spread)
        Z = self.preprocessor_.fit_transform(X)
        mixed = None
        cat_idx: list[int] = []
        if self.categorical_ and self.method == "auto" and "kprototypes" not in methods:
            methods.append("kprototypes")  # the one method that takes categories as they are
        if self.categorical_ and any(METHODS[m].mixed for m in methods):
            self.text_preprocessor_ = make_preprocessor(self.numeric_, self.categorical_, encoding="text",
                                                        skew_threshold=self.skew_threshold, bases=self.bases_,
                                                        spread=self.spread).fit(X)
            mixed = self.text_preprocessor_.transform(X)
            cat_idx = list(range(len(self.numeric_), len(self.numeric_) + len(self.categorical_)))
        else:
            methods = [m for m in methods if not METHODS[m].mixed] or methods

        rng = stream(self.random_state, "sample")
        rows = _sample(len(X), self.sample_size, rng)
        sil_rows = _sample(len(rows), self.silhouette_sample, rng)
        selection = select_model(
            Z[rows], methods=methods, k_values=k_values, min_share=self.min_share,
            min_stability=self.min_stability, min_gain=self.min_gain, finer_ratio=self.finer_ratio,
            n_resamples=self.n_resamples,
            silhouette_rows=sil_rows, random_state=self.random_state,
            mixed=None if mixed is None else mixed[rows], categorical_idx=cat_idx or None, force=forced,
        )
        self.selection_ = selection
        if selection.method is None or (not forced and not selection.structure_found):
            raise NoStructureError(selection)
        self.method_ = selection.method
        self.k_ = selection.k
        raw = self._fit_final(Z, rows, mixed, cat_idx, selection)

        ids, counts = np.unique(raw, return_counts=True)
        order = ids[np.argsort(-counts, kind="stable")]
        self.label_map_ = np.zeros(int(raw.max()) + 1, dtype=np.int64)
        self.label_map_[order] = np.arange(len(order))
        self.labels_ = self.label_map_[raw]
        self.n_clusters_ = len(order)
        counts = np.bincount(self.labels_, minlength=self.n_clusters_)
        self.centers_ = np.vstack([np.bincount(self.labels_, weights=Z[:, j], minlength=self.n_clusters_)
                                   for j in range(Z.shape[1])]).T / counts[:, None]
        self.scores_ = cluster_scores(Z[rows], self.labels_[rows], silhouette_rows=sil_rows)
        self.scores_["stability"] = selection.stability
        return self

    def _fit_final(self, Z, rows, mixed, cat_idx, selection: Selection) -> np.ndarray:
        spec = METHODS[self.method_]
        self.assigner_ = None
        if spec.inductive and not spec.mixed:
            self.estimator_ = warm_refit(self.method_, selection.estimator, Z, random_state=self.random_state)
            return np.asarray(self.estimator_.predict(Z), dtype=np.int64)
        self.estimator_ = selection.estimator
        if spec.mixed:
            return self._kproto_predict(mixed)
        raw = np.empty(len(Z), dtype=np.int64)
        raw[rows] = selection.labels
        self.assigner_ = make_assigner(Z[rows], selection.labels)
        rest = np.setdiff1d(np.arange(len(Z)), rows, assume_unique=True)
        if len(rest):
            raw[rest] = self.assigner_.predict(Z[rest])
        return raw

    def _kproto_predict(self, mixed: np.ndarray) -> np.ndarray:
        n_num = len(self.numeric_)
        return kprototypes_assign(mixed[:, :n_num].astype(np.float64), mixed[:, n_num:],
                                  self.estimator_.cluster_centroids_, n_num, float(self.estimator_.gamma))

    # -- using the fitted model ------------------------------------------------------------------

    def transform_features(self, X: pd.DataFrame) -> np.ndarray:
        """The preprocessed matrix the model works in."""
        check_is_fitted(self, "label_map_")
        return self.preprocessor_.transform(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Segment of each row of ``X`` without refitting (new or changed users)."""
        check_is_fitted(self, "label_map_")
        Z = self.preprocessor_.transform(X)
        if self.assigner_ is not None:
            raw = self.assigner_.predict(Z)
        elif METHODS[self.method_].mixed:
            raw = self._kproto_predict(self.text_preprocessor_.transform(X))
        else:
            raw = self.estimator_.predict(Z)
        raw = np.asarray(raw, dtype=np.int64)
        known = raw < len(self.label_map_)
        return np.where(known, self.label_map_[np.where(known, raw, 0)], 0)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Distance of each row to each segment's centre (mean of its users, preprocessed space)."""
        Z = self.transform_features(X)
        return np.sqrt(((Z[:, None, :] - self.centers_[None, :, :]) ** 2).sum(axis=2))

    def compact(self) -> SegmentModel:
        """Drop the per-row arrays of the fit (labels of every training user) before the model is
        stored: ``predict`` and ``transform`` do not need them, and at 1M users they are most of
        the bytes. Returns self."""
        self.labels_ = None
        if hasattr(self.estimator_, "labels_"):
            self.estimator_.labels_ = None
        return self

    @property
    def log_features_(self) -> list[str]:
        if not self.numeric_:
            return []
        tail = self.preprocessor_.named_steps["columns"].named_transformers_["num"].named_steps["log"]
        return [self.numeric_[i] for i in tail.log_columns_]
