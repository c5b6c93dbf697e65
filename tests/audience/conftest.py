"""A hand-made shop whose tags, audiences and groups are worked out by hand in the tests.

As of 2025-03-01 (UTC). Users and what the tests expect of them:

    user  birth / age  city  events (2025)
    u1    1995-06-01   上海  cart A 02-20, buy A 02-22 (120); view 美妆 02-24/25/26
                             -> 29: 青年; not an abandoner; hot category 美妆
    u2    1980-01-15   北京  cart B 02-10, buy B 02-20 (80); view 服装 x2, 食品 x1
                             -> 45: 中年; abandoner (bought B 10 days later)
    u3    1950-02-28   上海  cart C 02-27, nothing after -> 75: 老年; abandoner (no purchase before as_of)
    u4    2010-05-05   广州  cart D 01-15 (outside the 30-day window) -> 14: 未成年; not an abandoner
    u5    age 34       深圳  cart E 02-05, buy F 02-06 (30); view 数码 x3 (last 02-27), 图书 x3 (last 02-28)
                             -> 34: 青年; abandoner (F is not E); hot category 图书 (the latest of the tie)
    u6    (none)       北京  buy G 01-10 (200), buy H 02-01 (150) -> no age; not an abandoner
    u7    1990-03-01   上海  view 美妆 02-26 -> 35 on as_of: 中年
    u8    1990-03-02   上海  view 美妆 02-26 -> 34 (birthday the day after): 青年
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from segmark.pipeline.features import build_features
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.segments import run_rfm
from segmark.workspace import Workspace, init_workspace, open_workspace

AS_OF = "2025-03-01"

USERS = pd.DataFrame([
    ("u1", "1995-06-01", None, "上海"), ("u2", "1980-01-15", None, "北京"), ("u3", "1950-02-28", None, "上海"),
    ("u4", "2010-05-05", None, "广州"), ("u5", None, 34, "深圳"), ("u6", None, None, "北京"),
    ("u7", "1990-03-01", None, "上海"), ("u8", "1990-03-02", None, "上海"),
], columns=["user_id", "birth_date", "age", "city"])


def _events() -> pd.DataFrame:
    rows = []

    def ev(user: str, kind: str, ts: str, item: str, category: str, price: float | None = None,
           order: str | None = None) -> None:
        rows.append({"user_id": user, "event_type": kind, "ts": f"2025-{ts} 12:00:00", "item_id": item,
                     "category": category, "price": price, "quantity": 1 if kind == "purchase" else None,
                     "order_id": order})

    ev("u1", "cart", "02-20", "A", "美妆")
    ev("u1", "purchase", "02-22", "A", "美妆", 120, "o1")
    for d in ("02-24", "02-25", "02-26"):
        ev("u1", "view", d, "A", "美妆")
    ev("u2", "cart", "02-10", "B", "服装")
    ev("u2", "purchase", "02-20", "B", "服装", 80, "o2")
    ev("u2", "view", "02-23", "B", "服装")
    ev("u2", "view", "02-24", "B", "服装")
    ev("u2", "view", "02-25", "K", "食品")
    ev("u3", "cart", "02-27", "C", "家居")
    ev("u4", "cart", "01-15", "D", "数码")
    ev("u5", "cart", "02-05", "E", "数码")
    ev("u5", "purchase", "02-06", "F", "数码", 30, "o3")
    for d in ("02-23", "02-25", "02-27"):
        ev("u5", "view", d, "P", "数码")
    for d in ("02-22", "02-24", "02-28"):
        ev("u5", "view", d, "Q", "图书")
    ev("u6", "purchase", "01-10", "G", "家电", 200, "o4")
    ev("u6", "purchase", "02-01", "H", "家电", 150, "o5")
    ev("u7", "view", "02-26", "A", "美妆")
    ev("u8", "view", "02-26", "A", "美妆")
    return pd.DataFrame(rows)


def build_hand_shop(base: Path, events: pd.DataFrame) -> Path:
    """A workspace in ``base`` with the hand-made users and ``events`` ingested, features as of
    2025-03-01 and an RFM segmentation."""
    USERS.to_csv(base / "users.csv", index=False)
    events.to_csv(base / "events.csv", index=False)
    root = init_workspace(base / "ws")
    with open_workspace(root) as ws:
        ingest_file(ws, "users", base / "users.csv")
        ingest_file(ws, "events", base / "events.csv")
        build_features(ws, as_of=AS_OF)
        run_rfm(ws)
    return root


def open_copy(template: Path, tmp_path: Path) -> Iterator[Workspace]:
    """A test's own copy of a template workspace, open, closed after the test."""
    root = tmp_path / "ws"
    shutil.copytree(template, root)
    ws = open_workspace(root)
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def hand_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made shop ingested, with features as of 2025-03-01 and an RFM segmentation."""
    return build_hand_shop(tmp_path_factory.mktemp("handshop"), _events())


@pytest.fixture
def hand_ws(hand_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    yield from open_copy(hand_template, tmp_path)


def write_scores(ws: Workspace, model: str, rows: list[tuple[str, float, int]], run_id: int | None = None) -> int:
    """Rows of the predictions step's contract table ``prediction_scores`` (written here by hand)."""
    store = ws.store
    run_id = run_id or store.next_run_id()
    if not store.table_exists("prediction_scores"):
        store.create_table_as("prediction_scores", "SELECT CAST(NULL AS INTEGER) AS run_id, CAST(NULL AS VARCHAR) "
                              "AS model_name, CAST(NULL AS VARCHAR) AS user_id, CAST(NULL AS DOUBLE) AS probability, "
                              "CAST(NULL AS INTEGER) AS decile, CAST(NULL AS TIMESTAMP) AS as_of WHERE false")
    assert "decile" in store.table_columns("prediction_scores")
    store.insert("prediction_scores", pd.DataFrame({
        "run_id": run_id, "model_name": model, "user_id": [r[0] for r in rows], "probability": [r[1] for r in rows],
        "decile": [r[2] for r in rows], "as_of": pd.Timestamp(AS_OF)}))
    return run_id


def write_clv(ws: Workspace, rows: list[tuple[str, float, int]]) -> int:
    """Rows of the contract table ``clv_scores``: (user, clv, clv_decile)."""
    store = ws.store
    run_id = store.next_run_id()
    if not store.table_exists("clv_scores"):
        store.create_table_as("clv_scores", "SELECT CAST(NULL AS INTEGER) AS run_id, CAST(NULL AS VARCHAR) AS user_id, "
                              "CAST(NULL AS DOUBLE) AS expected_purchases, CAST(NULL AS DOUBLE) AS p_alive, "
                              "CAST(NULL AS DOUBLE) AS expected_spend, CAST(NULL AS DOUBLE) AS clv, "
                              "CAST(NULL AS INTEGER) AS clv_decile, CAST(NULL AS TIMESTAMP) AS as_of WHERE false")
    assert "clv_decile" in store.table_columns("clv_scores")
    store.insert("clv_scores", pd.DataFrame({
        "run_id": run_id, "user_id": [r[0] for r in rows], "expected_purchases": 1.0, "p_alive": 0.5,
        "expected_spend": 10.0, "clv": [r[1] for r in rows], "clv_decile": [r[2] for r in rows],
        "as_of": pd.Timestamp(AS_OF)}))
    return run_id
