"""Data of known structure for the segmentation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs


def blobs_frame(n: int, centers: int | np.ndarray, n_features: int = 2, std: float = 0.6,
                seed: int = 0, spread: float = 10.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Well-separated Gaussian blobs as a feature table (columns f0, f1, ...) and the true group."""
    if isinstance(centers, int):
        rng = np.random.default_rng(seed)
        # Centres on a grid-like spread so that every pair is at least ``spread`` apart.
        pts: list[np.ndarray] = []
        while len(pts) < centers:
            c = rng.uniform(-spread * centers, spread * centers, size=n_features)
            if all(np.linalg.norm(c - p) >= spread for p in pts):
                pts.append(c)
        centers = np.array(pts)
    X, y = make_blobs(n_samples=n, centers=centers, cluster_std=std, random_state=seed)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])],
                         index=pd.Index([f"u{i}" for i in range(n)], name="user_id"))
    return frame, y


@pytest.fixture(scope="session")
def three_blobs() -> tuple[pd.DataFrame, np.ndarray]:
    return blobs_frame(600, 3, seed=1)
