"""How good a clustering is, separately from how it was made: plain functions returning figures.

- Internal indices from scikit-learn: silhouette (on a fixed sample of rows: its cost is quadratic),
  Calinski-Harabasz and Davies-Bouldin (linear, on every row given).
- Resampling stability (Ben-Hur, Elisseeff & Guyon 2002; Hennig 2007): refit on several random
  subsets of the rows and average the adjusted Rand index of every pair of fits over the rows
  both subsets share. Subsets are drawn without replacement (an m-out-of-n bootstrap) because a
  duplicated row would look like a dense spot to HDBSCAN and distort Ward's merges.
- A structureless reference (after Tibshirani, Walther & Hastie's gap statistic): rows drawn
  uniformly in the box spanned by the data's principal axes, clustered by k-means with the same
  number of clusters; its silhouette is what that many segments score on data without groups.
  It depends on k and on the dimension (about 0.4 at every k in two dimensions; from 0.3 at k=2
  down to 0.15 at k=10 in ten), which is why a raw silhouette favours few segments in many
  dimensions and the *gain* over the reference does not.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

from segmark.core.segment._random import stream


def shares(labels: np.ndarray) -> np.ndarray:
    """Share of rows per label, labels being 0..k-1."""
    counts = np.bincount(labels[labels >= 0])
    counts = counts[counts > 0]
    return counts / max(len(labels), 1)


def cluster_scores(Z: np.ndarray, labels: np.ndarray, *,
                   silhouette_rows: np.ndarray | None = None) -> dict[str, float]:
    """Silhouette (on ``silhouette_rows`` when given), Calinski-Harabasz, Davies-Bouldin, and the
    number of clusters with their smallest and largest share. NaN where undefined (one cluster)."""
    part = shares(labels)
    out = {"n_clusters": float(len(part)), "min_share": float(part.min()) if len(part) else 0.0,
           "max_share": float(part.max()) if len(part) else 0.0,
           "silhouette": float("nan"), "calinski_harabasz": float("nan"), "davies_bouldin": float("nan")}
    if len(part) < 2:
        return out
    rows = silhouette_rows if silhouette_rows is not None else np.arange(len(labels))
    if len(np.unique(labels[rows])) >= 2:
        out["silhouette"] = float(silhouette_score(Z[rows], labels[rows]))
    out["calinski_harabasz"] = float(calinski_harabasz_score(Z, labels))
    out["davies_bouldin"] = float(davies_bouldin_score(Z, labels))
    return out


def resample_stability(fit: Callable[[np.ndarray], np.ndarray], n_rows: int, *, n_resamples: int = 4,
                       fraction: float = 0.8, random_state: int = 0) -> float:
    """Mean pairwise adjusted Rand index of ``fit`` run on ``n_resamples`` random subsets.

    ``fit(rows)`` clusters the given row numbers and returns one label per row. 1.0 means every
    refit draws the same borders; values near 0 mean the borders are noise.
    """
    if n_resamples < 2:
        raise ValueError("stability needs at least two resamples")
    rng = stream(random_state, "stability")
    size = max(2, round(fraction * n_rows))
    draws = [np.sort(rng.choice(n_rows, size=size, replace=False)) for _ in range(n_resamples)]
    fits = [fit(rows) for rows in draws]
    aris = []
    for i, j in combinations(range(n_resamples), 2):
        _, a, b = np.intersect1d(draws[i], draws[j], assume_unique=True, return_indices=True)
        aris.append(adjusted_rand_score(fits[i][a], fits[j][b]))
    return float(np.mean(aris))


def reference_box(Z: np.ndarray, n_rows: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform rows in the data's bounding box aligned with its principal axes (Tibshirani's
    reference (b)): same extent and orientation as the data, no groups."""
    centred = Z - Z.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ vt.T
    lo, hi = rotated.min(axis=0), rotated.max(axis=0)
    return rng.uniform(lo, hi, size=(n_rows, len(lo))) @ vt + Z.mean(axis=0)


class ReferenceSilhouette:
    """Silhouette that k-means reaches with k clusters on structureless reference data shaped like
    ``Z``: the mean over ``n_references`` reference sets, drawn once and reused for every k (common
    random numbers, so differences between two k are not reference noise). Computed per k on
    first use."""

    def __init__(self, Z: np.ndarray, *, n_references: int = 3, random_state: int = 0) -> None:
        rng = stream(random_state, "reference")
        self.random_state = random_state
        self.references = [reference_box(Z, len(Z), rng) for _ in range(n_references)]
        self._cache: dict[int, float] = {}

    def __call__(self, k: int) -> float:
        if k not in self._cache:
            values = []
            for i, ref in enumerate(self.references):
                labels = KMeans(n_clusters=k, n_init=2, random_state=self.random_state + i).fit_predict(ref)
                values.append(silhouette_score(ref, labels) if len(np.unique(labels)) > 1 else 0.0)
            self._cache[k] = float(np.mean(values))
        return self._cache[k]
