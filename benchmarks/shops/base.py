"""What the evaluation shops share: the frames they produce, and turning them into a feature table
through the real ingestion and feature build."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd


@dataclass
class PlantedShop:
    """A generated shop in segmark's canonical columns, and each user's planted type.

    ``events`` holds ``user_id, event_type, ts`` (naive timestamps, UTC) and any of ``item_id,
    category, price, quantity, order_id, session_id``; ``users`` holds ``user_id, signup_date``;
    ``truth`` is indexed by ``user_id``. ``as_of`` is the day after the last day of events.
    """

    name: str
    events: pd.DataFrame
    users: pd.DataFrame
    truth: pd.Series
    as_of: date
    items: pd.DataFrame | None = None
    params: dict[str, object] = field(default_factory=dict)


def shop_features(shop: PlantedShop, folder: Path | str | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Ingest ``shop`` into a fresh workspace (Parquet files, canonical columns, no mapping), build
    the features as of ``shop.as_of`` and return the feature table with the truth aligned to it.

    Users that the build does not hold (no event before as_of and no signup) are dropped from the
    truth; they cannot be segmented.
    """
    from segmark.pipeline.features import build_features, load_features
    from segmark.pipeline.ingest import ingest_file
    from segmark.workspace import init_workspace, open_workspace

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(folder) if folder is not None else Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        files = {"events": shop.events, "users": shop.users}
        if shop.items is not None:
            files["items"] = shop.items
        root = init_workspace(base / f"ws-{shop.name}")
        with open_workspace(root) as ws:
            for table, frame in files.items():
                if frame.empty:  # e.g. a shop without a users table
                    continue
                path = base / f"{shop.name}-{table}.parquet"
                frame.to_parquet(path, index=False)
                ingest_file(ws, table, path)
            run = build_features(ws, as_of=shop.as_of)
            _, table = load_features(ws.store, run.run_id)
    truth = shop.truth.reindex(table.index)
    keep = truth.notna()
    return table[keep], truth[keep]
