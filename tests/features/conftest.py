"""Fixtures for the feature tests: hand-made event logs written straight into the store.

An event is a tuple in canonical column order, trailing values optional:
``(user_id, event_type, ts "YYYY-MM-DD HH:MM" in UTC, item_id, category, price, quantity, amount,
order_id, session_id)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import pytest

from segmark.config import Settings, parse_settings
from segmark.workspace import Workspace

EVENT_COLUMNS = ["user_id", "event_type", "ts", "item_id", "category", "price", "quantity", "amount",
                 "order_id", "session_id"]


Event = Sequence[Any]


def _add_events(ws: Workspace, rows: Sequence[Event]) -> None:
    """Append events as ingestion would store them (source 0, one line each)."""
    padded = [list(r) + [None] * (len(EVENT_COLUMNS) - len(r)) for r in rows]
    for r in padded:
        r[2] = datetime.fromisoformat(r[2])
    frame = pd.DataFrame(padded, columns=EVENT_COLUMNS)
    start = int(ws.store.scalar("SELECT count(*) FROM events"))
    frame["line"] = range(start + 1, start + 1 + len(frame))
    frame = frame.astype({"price": "float64", "quantity": "float64", "amount": "float64"})
    con = ws.store.con
    con.register("_new_events", frame)
    con.execute(
        "INSERT INTO events SELECT md5_number('test:' || CAST(line AS VARCHAR)), user_id, event_type, ts, "
        "item_id, category, price, quantity, amount, order_id, session_id, NULL, NULL, 0, line "
        "FROM _new_events"
    )
    con.unregister("_new_events")


def _add_users(ws: Workspace, rows: list[dict[str, Any]]) -> None:
    """Append users rows; missing attributes are NULL."""
    cols = ["user_id", "signup_date", "gender", "birth_date", "age", "city", "member_level"]
    frame = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)
    for c in ("signup_date", "birth_date"):
        frame[c] = pd.to_datetime(frame[c]).dt.date
    frame["age"] = frame["age"].astype("Int64")
    con = ws.store.con
    con.register("_new_users", frame)
    con.execute(
        "INSERT INTO users SELECT user_id, CAST(signup_date AS DATE), gender, CAST(birth_date AS DATE), "
        "CAST(age AS INTEGER), city, member_level, NULL, hash(user_id), 0, row_number() OVER () FROM _new_users"
    )
    con.unregister("_new_users")


def _with_settings(ws: Workspace, **sections: Any) -> Workspace:
    """The same workspace with some settings changed, e.g. ``time={"timezone": "Asia/Shanghai"}``."""
    data: dict[str, Any] = ws.settings.model_dump()
    for key, value in sections.items():
        if isinstance(value, dict):
            data[key] = {**data.get(key, {}), **value}
        else:
            data[key] = value
    settings: Settings = parse_settings(data)
    return dataclasses.replace(ws, settings=settings)


@pytest.fixture
def add_events() -> Callable[[Workspace, Sequence[Event]], None]:
    return _add_events


@pytest.fixture
def add_users() -> Callable[[Workspace, list[dict[str, Any]]], None]:
    return _add_users


@pytest.fixture
def with_settings() -> Callable[..., Workspace]:
    return _with_settings
