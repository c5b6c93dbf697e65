"""Small shops with planted behaviour for the prediction tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace

START = pd.Timestamp("2024-01-01")


def planted_events(n: int = 400, days: int = 240, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Purchases and views of ``n`` users over ``days`` days. Half are steady buyers (a purchase every
    5-9 days throughout), half stop buying after a random day in the first third: so whether a user
    buys after a cut is planted in their recency and recent activity. Returns the events and each
    user's type (True = steady)."""
    rng = np.random.default_rng(seed)
    rows = []
    steady = pd.Series(rng.random(n) < 0.5, index=[f"u{i:04d}" for i in range(n)])
    for user, is_steady in steady.items():
        stop = days if is_steady else int(rng.integers(20, days // 3))
        t = float(rng.uniform(0, 10))
        while t < stop:
            ts = START + pd.Timedelta(days=t)
            rows.append((user, "view", ts, "i1", "books", 10.0))
            rows.append((user, "purchase", ts + pd.Timedelta(minutes=5), "i1", "books", float(rng.uniform(5, 50))))
            t += float(rng.uniform(5, 9))
    events = pd.DataFrame(rows, columns=["user_id", "event_type", "ts", "item_id", "category", "price"])
    return events, steady


@pytest.fixture
def planted_shop(ws: Workspace, tmp_path: Path) -> tuple[Workspace, pd.DataFrame, pd.Series]:
    events, steady = planted_events()
    path = tmp_path / "events.csv"
    events.assign(ts=events["ts"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(path, index=False)
    ingest_file(ws, "events", path)
    return ws, events, steady
