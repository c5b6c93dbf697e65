"""The clustering methods: scikit-learn estimators (and kmodes' k-prototypes), built in one place.

Each method is described by a :class:`MethodSpec`: whether it needs k, whether it can assign new
points itself (``inductive``), and whether it takes categorical columns as text. Methods that
cannot assign new points (agglomerative, HDBSCAN, DBSCAN) are fitted on a sample and every other
user is assigned by a nearest-neighbour vote among the fitted sample (:func:`make_assigner`):
their cost grows with the square of the rows they fit, so a sample is the only way to 1M users.
DBSCAN and HDBSCAN leave some points as noise; those are attached to the segment of their nearest
clustered neighbour, so a segmentation always covers every user (the noise share is recorded).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, ward
from sklearn.base import BaseEstimator
from sklearn.cluster import DBSCAN, HDBSCAN, AgglomerativeClustering, KMeans, MiniBatchKMeans
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors


@dataclass(frozen=True)
class MethodSpec:
    name: str
    needs_k: bool
    inductive: bool
    mixed: bool = False
    description: str = ""


METHODS: dict[str, MethodSpec] = {
    m.name: m
    for m in (
        MethodSpec("kmeans", True, True, description="k-means (Lloyd, k-means++ start)"),
        MethodSpec("minibatch-kmeans", True, True, description="mini-batch k-means, for very large data"),
        MethodSpec("gmm", True, True, description="Gaussian mixture, full covariances"),
        MethodSpec("gmm-tied", True, True, description="Gaussian mixture, one covariance shared by every segment"),
        MethodSpec("agglomerative", True, False, description="Ward hierarchical clustering, on a sample"),
        MethodSpec("hdbscan", False, False, description="HDBSCAN density clustering, on a sample"),
        MethodSpec("dbscan", False, False,
                   description="DBSCAN, eps from the k-distance quantile, on a sample"),
        MethodSpec("kprototypes", True, True, mixed=True,
                   description="k-prototypes for numeric and categorical features together"),
    )
}

AUTO_METHODS: tuple[str, ...] = ("kmeans", "gmm", "gmm-tied", "agglomerative", "hdbscan")
"""Methods tried by automatic selection on numeric features (k-prototypes joins them when the
features include categorical ones). The tied-covariance GMM is there for types that overlap along
correlated features (buying often goes with viewing often): it draws the borders k-means draws
with one shared ellipse instead of a sphere, and needs far fewer parameters than full covariances.
DBSCAN is left out: its one parameter, eps, is a density scale that no default gets right across
data sets; ask for it explicitly."""

KPROTOTYPES_FIT_ROWS = 1500
"""Rows k-prototypes is fitted on (kmodes' loops are in Python); the others are assigned."""

GMM_REG_COVAR = 1e-3
"""Variance added to GMM covariances: zero-inflated features (every non-buyer has frequency 0)
otherwise give components a zero variance and an infinite density."""


def check_method(method: str) -> MethodSpec:
    try:
        return METHODS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)} or auto") from None


def min_cluster_size(n_samples: int, min_share: float) -> int:
    """Smallest cluster HDBSCAN may report: the minimum segment share of the rows it sees."""
    return max(5, math.ceil(min_share * n_samples))


def dbscan_eps(Z: np.ndarray, min_samples: int, quantile: float = 0.9) -> float:
    """DBSCAN radius from the k-distance curve: the ``quantile`` of each point's distance to its
    ``min_samples``-th neighbour (so ~90% of points are core points of some dense region)."""
    nn = NearestNeighbors(n_neighbors=min(min_samples, len(Z) - 1) + 1).fit(Z)
    dist, _ = nn.kneighbors(Z)
    return float(np.quantile(dist[:, -1], quantile)) or 1e-9


def make_estimator(method: str, k: int | None, *, random_state: int = 0, n_samples: int = 0,
                   n_features: int = 2, min_share: float = 0.02, eps: float | None = None,
                   n_init: int = 1) -> BaseEstimator:
    """An unfitted estimator for ``method``; ``k`` is ignored by the density methods."""
    spec = check_method(method)
    if spec.needs_k and (k is None or k < 1):
        raise ValueError(f"{method} needs a number of clusters")
    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=n_init, random_state=random_state)
    if method == "minibatch-kmeans":
        return MiniBatchKMeans(n_clusters=k, n_init=max(n_init, 3), batch_size=4096,
                               random_state=random_state)
    if method == "gmm":
        return GaussianMixture(n_components=k, covariance_type="full", reg_covar=GMM_REG_COVAR,
                               n_init=n_init, random_state=random_state)
    if method == "gmm-tied":
        return GaussianMixture(n_components=k, covariance_type="tied", reg_covar=GMM_REG_COVAR,
                               n_init=n_init, random_state=random_state)
    if method == "agglomerative":
        return AgglomerativeClustering(n_clusters=k, linkage="ward")
    if method == "hdbscan":
        return HDBSCAN(min_cluster_size=min_cluster_size(n_samples, min_share),
                       min_samples=10, copy=True)
    if method == "dbscan":
        return DBSCAN(eps=eps if eps is not None else 0.5, min_samples=max(5, 2 * n_features))
    if method == "kprototypes":
        from kmodes.kprototypes import KPrototypes

        return KPrototypes(n_clusters=k, init="Cao", n_init=n_init, max_iter=50, random_state=random_state)
    raise AssertionError(method)


def kprototypes_assign(num: np.ndarray, cat: np.ndarray, centroids: np.ndarray, n_numeric: int,
                       gamma: float, chunk: int = 200_000) -> np.ndarray:
    """Nearest k-prototypes centroid: squared distance on numeric columns plus ``gamma`` per
    mismatched category, the cost k-prototypes minimises (kmodes' own ``predict`` loops in Python)."""
    c_num = centroids[:, :n_numeric].astype(np.float64)
    c_cat = centroids[:, n_numeric:].astype(str)
    out = np.empty(len(num), dtype=np.int64)
    for start in range(0, len(num), chunk):
        x = num[start:start + chunk]
        cost = ((x[:, None, :] - c_num[None, :, :]) ** 2).sum(axis=2)
        if c_cat.shape[1]:
            cost += gamma * (cat[start:start + chunk, None, :].astype(str) != c_cat[None, :, :]).sum(axis=2)
        out[start:start + chunk] = cost.argmin(axis=1)
    return out


def attach_noise(Z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Give each noise point (-1) the label of its nearest clustered point."""
    noise = labels < 0
    if not noise.any():
        return labels
    if noise.all():
        return np.zeros_like(labels)
    knn = KNeighborsClassifier(n_neighbors=1).fit(Z[~noise], labels[~noise])
    out = labels.copy()
    out[noise] = knn.predict(Z[noise])
    return out


def fit_labels(method: str, k: int | None, Z: np.ndarray, *, random_state: int = 0,
               min_share: float = 0.02, eps: float | None = None, n_init: int = 1,
               mixed: np.ndarray | None = None, categorical_idx: list[int] | None = None,
               ) -> tuple[BaseEstimator, np.ndarray, float]:
    """Fit ``method`` on the rows of ``Z`` (or ``mixed`` for k-prototypes).

    Returns the fitted estimator, one label per row (noise attached) and the noise share.
    """
    spec = check_method(method)
    n, d = Z.shape
    if method == "dbscan" and eps is None:
        eps = dbscan_eps(Z, max(5, 2 * d))
    est = make_estimator(method, k, random_state=random_state, n_samples=n, n_features=d,
                         min_share=min_share, eps=eps, n_init=n_init)
    if spec.mixed:
        if mixed is None or not categorical_idx:
            raise ValueError("kprototypes needs categorical features")
        # kmodes loops over rows in Python: fit on an evenly spread part, assign the rest by the
        # same cost, vectorised.
        step = max(1, -(-n // KPROTOTYPES_FIT_ROWS))
        est.fit(mixed[::step], categorical=categorical_idx)
        n_num = categorical_idx[0]
        labels = kprototypes_assign(mixed[:, :n_num].astype(np.float64), mixed[:, n_num:],
                                    est.cluster_centroids_, n_num, float(est.gamma))
    else:
        labels = np.asarray(est.fit_predict(Z), dtype=np.int64)
    noise_share = float(np.mean(labels < 0))
    return est, attach_noise(Z, labels), noise_share


def ward_cuts(Z: np.ndarray, k_values: list[int]) -> dict[int, np.ndarray]:
    """Ward's tree built once and cut at every k: the partitions ``AgglomerativeClustering(
    linkage="ward")`` gives for each k, for the cost of one fit instead of one per k."""
    tree = ward(Z)
    return {k: fcluster(tree, t=k, criterion="maxclust").astype(np.int64) - 1 for k in k_values}


def make_assigner(Z: np.ndarray, labels: np.ndarray, n_neighbors: int = 5) -> KNeighborsClassifier:
    """Assign new points by a vote of their nearest fitted points (for non-inductive methods)."""
    return KNeighborsClassifier(n_neighbors=min(n_neighbors, len(Z))).fit(Z, labels)


STARTABLE = frozenset({"kmeans", "minibatch-kmeans", "gmm", "gmm-tied"})
"""Methods that can be fitted from a given start (centres, or a mixture's parameters)."""


def fit_from(method: str, Z: np.ndarray, centres: np.ndarray, *, weights: np.ndarray | None = None,
             precisions: np.ndarray | None = None, random_state: int = 0) -> BaseEstimator:
    """``method`` fitted on ``Z`` from a given start instead of searching again: k-means from
    ``centres``, a GMM from them as its means (with ``weights`` and ``precisions`` when known).
    The start is a solution already found (on a sample, or segments combined), so the fit
    converges in a few passes and keeps it."""
    if method not in STARTABLE:
        raise ValueError(f"{method} cannot be started from given centres")
    est = make_estimator(method, len(centres), random_state=random_state)
    if method in ("gmm", "gmm-tied"):
        est.set_params(means_init=centres, weights_init=weights, precisions_init=precisions)
    else:
        est.set_params(init=centres, n_init=1)
    return est.fit(Z)


def warm_refit(method: str, est: BaseEstimator, Z: np.ndarray, *, random_state: int = 0) -> BaseEstimator:
    """Refit a sample-fitted k-means or GMM on all rows, started from the sample solution."""
    if method in ("gmm", "gmm-tied"):
        return fit_from(method, Z, est.means_, weights=est.weights_, precisions=est.precisions_,
                        random_state=random_state)
    if method in STARTABLE:
        return fit_from(method, Z, est.cluster_centers_, random_state=random_state)
    raise ValueError(f"{method} is not refitted on all rows")
