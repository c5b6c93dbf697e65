"""Data of known structure for the segmentation tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from segmark.demo import generate_shop, write_shop
from segmark.pipeline.features import build_features
from segmark.pipeline.ingest import ingest_file
from segmark.workspace import init_workspace, open_workspace


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


@pytest.fixture(scope="session")
def shop_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the demo shop (3,000 users, seed 0) and two feature builds, as of
    2025-10-01 and as of the end of the data; the generator's truth is copied to truth.csv.
    Tests copy it rather than change it."""
    base = tmp_path_factory.mktemp("segshop")
    paths = write_shop(generate_shop(n_users=3_000, seed=0), base / "shop")
    root = init_workspace(base / "ws")
    with open_workspace(root) as ws:
        for table in ("users", "items", "events"):
            ingest_file(ws, table, paths[table])
        build_features(ws, as_of="2025-10-01")
        build_features(ws)
    shutil.copy(paths["truth"], root / "truth.csv")
    return root
