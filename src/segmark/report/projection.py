"""The 2-D map of users: a sample of users in the clustering's own feature space, flattened to two axes.

The features go through the same preprocessing the clustering uses (fill rules per feature, log of
heavy tails, robust scaling, one-hot categories), so distances on the map are the distances the
clustering saw, then PCA keeps the two directions of largest variance. UMAP is used instead when
``umap-learn`` is installed and asked for (it keeps neighbourhoods rather than variance, and so
separates segments better, at the cost of axes without units).

The sample is drawn per segment in proportion to its size, with at least a few users of every
segment, so small segments stay visible and the page stays small.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from segmark.core.segment.preprocess import make_preprocessor, split_columns
from segmark.report.model import MapPoints

MAX_POINTS = 5000
MIN_PER_SEGMENT = 30


def umap_available() -> bool:
    return importlib.util.find_spec("umap") is not None


def sample_quotas(sizes: pd.Series, max_points: int = MAX_POINTS) -> pd.Series:
    """Users to draw per segment: proportional to its size, at least ``MIN_PER_SEGMENT`` (or all of it).

    The total may pass ``max_points`` by at most ``MIN_PER_SEGMENT`` per small segment.
    """
    sizes = sizes.astype(np.int64)
    n = int(sizes.sum())
    if n <= max_points:
        return sizes
    return np.maximum(np.minimum(sizes, MIN_PER_SEGMENT), np.floor(sizes * max_points / n)).astype(np.int64)


def sample_rows(labels: pd.Series, max_points: int = MAX_POINTS, *, random_state: int = 0) -> np.ndarray:
    """Positions of the rows drawn by :func:`sample_quotas`, in their original order."""
    n = len(labels)
    if n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    codes, uniques = pd.factorize(labels.astype(str))
    quota = sample_quotas(pd.Series(np.bincount(codes, minlength=len(uniques))), max_points)
    picked = [rng.choice(np.flatnonzero(codes == c), size=int(q), replace=False) for c, q in enumerate(quota)]
    return np.sort(np.concatenate(picked))


def project_users(features: pd.DataFrame, labels: pd.Series, columns: Sequence[str], *,
                  max_points: int = MAX_POINTS, method: str = "pca", random_state: int = 0,
                  n_total: int | None = None) -> MapPoints:
    """Place a sample of users (rows of ``features``, segment in ``labels``) on two axes.

    ``method`` is "pca", "umap", or "auto" (UMAP when installed, else PCA). ``n_total`` is the
    number of users the rows were drawn from, when the caller has sampled them already.
    """
    labels = labels.reindex(features.index)
    known = labels.notna().to_numpy()
    features, labels = features.loc[known], labels.loc[known]
    columns = [c for c in columns if c in features.columns]
    if not columns:
        raise ValueError("none of the clustering features are in the feature table")
    if method == "auto":
        method = "umap" if umap_available() else "pca"
    if method == "umap" and not umap_available():
        raise ValueError("a UMAP map needs the umap-learn package (pip install 'segmark[umap]'); use PCA otherwise")
    rows = sample_rows(labels, max_points, random_state=random_state)
    sample = features.iloc[rows]
    n_total = len(labels) if n_total is None else n_total
    numeric, categorical = split_columns(sample, columns)
    Z = make_preprocessor(numeric, categorical, random_state=random_state).fit_transform(sample[columns])
    Z = np.asarray(Z, dtype=np.float64)
    explained: tuple[float, float] | None = None
    if method == "umap":
        import umap  # optional dependency

        xy = umap.UMAP(n_components=2, random_state=random_state).fit_transform(Z)
    elif method == "pca":
        n_comp = min(2, Z.shape[1], Z.shape[0])
        pca = PCA(n_components=n_comp, random_state=random_state).fit(Z)
        xy = pca.transform(Z)
        ratios = list(pca.explained_variance_ratio_) + [0.0] * (2 - n_comp)
        explained = (float(ratios[0]), float(ratios[1]))
        if n_comp < 2:
            xy = np.column_stack([xy, np.zeros(len(xy))])
    else:
        raise ValueError(f"unknown projection {method!r}: use pca, umap or auto")
    points = pd.DataFrame({"user_id": sample.index.astype(str), "x": xy[:, 0], "y": xy[:, 1],
                           "segment": labels.iloc[rows].astype(str).to_numpy()})
    return MapPoints(points, method, explained, len(columns), n_total)
