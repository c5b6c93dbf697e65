"""``sm.ingest_frame``: a frame in memory goes through the same mapping, validation, quarantine and
accounting as a file, with row numbers as lines and the source named in the store."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pyarrow as pa
import pytest

import segmark as sm
from segmark.errors import InputError
from segmark.workspace import Workspace


def events_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "uid": ["u1", "u2", None, "u3"],
        "act": ["pv", "buy", "cart", "teleport"],
        "when": pd.to_datetime(["2024-01-01 10:00", "2024-01-02 00:00", "2024-01-03 00:00", "2024-01-04 00:00"]),
        "price": [1.5, 20.0, float("nan"), 3.0],
    })


def test_a_pandas_frame_through_a_mapping(ws: Workspace, tmp_path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nuser_id = "uid"\nevent_type = "act"\nts = "when"\n', encoding="utf-8")
    r = sm.ingest_frame(ws, "events", events_frame(), mapping=mapping)
    assert (r.rows_read, r.accepted, r.quarantined, r.duplicates) == (4, 2, 2, 0)
    assert r.by_reason == {"missing_user_id": 1, "unknown_event_type": 1}
    assert ws.store.query_rows("SELECT user_id, event_type, ts, price, line FROM events ORDER BY line") == [
        ("u1", "view", datetime(2024, 1, 1, 10, 0), 1.5, 1),
        ("u2", "purchase", datetime(2024, 1, 2, 0, 0), 20.0, 2)]
    # the line is the row number (1 = first row); the source is named as a frame
    assert ws.store.query_rows("SELECT file, line, reason FROM quarantine ORDER BY line") == [
        ("pandas DataFrame", 3, "missing_user_id"), ("pandas DataFrame", 4, "unknown_event_type")]
    assert ws.store.scalar("SELECT path FROM sources") == "pandas DataFrame"


def test_the_same_frame_twice_adds_nothing_and_a_name_labels_it(ws: Workspace) -> None:
    frame = pa.table({"user_id": ["a", "b"], "event_type": ["view", "view"],
                      "ts": pa.array([datetime(2024, 5, 1), datetime(2024, 5, 2)], pa.timestamp("s"))})
    first = sm.ingest_frame(ws, "events", frame, name="crm export")
    again = sm.ingest_frame(ws, "events", frame)
    assert (first.accepted, again.accepted, again.duplicates) == (2, 0, 2)
    assert ws.store.query_rows("SELECT path FROM sources ORDER BY source_id") == [("crm export",), ("Arrow table",)]
    assert ws.store.scalar("SELECT count(*) FROM events") == 2


def test_users_frame_keeps_extra_columns_as_attributes(ws: Workspace) -> None:
    users = pd.DataFrame({"user_id": ["u1", "u2"], "city": ["上海", "北京"], "age": [28, 41],
                          "vip": [True, False]})
    r = sm.ingest_frame(ws, "users", users)
    assert r.accepted == 2
    assert ws.store.query_rows("SELECT user_id, city, age, attributes->>'vip' FROM users ORDER BY user_id") == [
        ("u1", "上海", 28, "true"), ("u2", "北京", 41, "false")]


def test_what_is_not_a_frame_is_refused(ws: Workspace) -> None:
    with pytest.raises(InputError, match="cannot ingest a list"):
        sm.ingest_frame(ws, "events", [{"user_id": "u1"}])
    assert ws.store.scalar("SELECT count(*) FROM runs") == 0


def test_a_polars_frame_with_categoricals_and_zoned_times(ws: Workspace) -> None:
    pl = pytest.importorskip("polars", reason="the polars extra")
    frame = pl.DataFrame({
        "user_id": ["用户1", None, "用户2"],
        "event_type": pl.Series(["view", "view", "purchase"], dtype=pl.Categorical),
        "ts": pl.Series([datetime(2024, 3, 1, 10), datetime(2024, 3, 1, 11), datetime(2024, 3, 2, 8, 30)])
        .dt.replace_time_zone("Asia/Shanghai"),
        "category": pl.Series(["女装", "女装", "数码"], dtype=pl.Enum(["女装", "数码"])),
        "price": [None, 1.0, 1299.5],
    })
    r = sm.ingest_frame(ws, "events", frame)
    assert (r.rows_read, r.accepted, r.quarantined) == (3, 2, 1)
    # zoned times by hand: Shanghai is UTC+8
    assert ws.store.query_rows("SELECT user_id, event_type, ts, category, price, line FROM events ORDER BY line") == [
        ("用户1", "view", datetime(2024, 3, 1, 2, 0), "女装", None, 1),
        ("用户2", "purchase", datetime(2024, 3, 2, 0, 30), "数码", 1299.5, 3)]
    assert ws.store.query_rows("SELECT file, line, reason FROM quarantine") == [("polars DataFrame", 2,
                                                                                "missing_user_id")]


def test_categorical_columns_of_pandas_and_of_parquet_files_are_their_values(ws: Workspace, tmp_path) -> None:
    frame = pd.DataFrame({"user_id": pd.Categorical(["u1", "u2", "u1"]),
                          "event_type": pd.Categorical(["view", "cart", "teleport"]),
                          "ts": ["2024-01-01 10:00:00", "2024-01-02 10:00:00", "2024-01-03 10:00:00"]})
    assert sm.ingest_frame(ws, "events", frame).accepted == 2
    path = tmp_path / "events.parquet"
    frame.assign(ts=["2024-02-01 10:00:00"] * 3).to_parquet(path)  # pandas keeps the categories in the file
    r = sm.ingest_file(ws, "events", path)
    assert (r.accepted, r.by_reason) == (2, {"unknown_event_type": 1})
    assert ws.store.query_rows("SELECT user_id, event_type FROM events WHERE ts >= '2024-02-01' ORDER BY line") == [
        ("u1", "view"), ("u2", "cart")]


def test_a_name_given_to_two_columns_is_refused_as_in_a_csv_header(ws: Workspace, tmp_path) -> None:
    """pandas and Arrow allow two columns of one name (a CSV header does not): no mapping can tell
    them apart, so the frame or Parquet file is refused before anything is written."""
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array(["u1"]), pa.array(["view"]), pa.array(["2024-03-01 10:00:00"]),
                                  pa.array(["2024-03-02 10:00:00"])], names=["user_id", "event_type", "ts", "ts"])
    with pytest.raises(InputError, match=r"repeated column names \['ts'\]"):
        sm.ingest_frame(ws, "events", table)
    frame = pd.DataFrame([["u1", "view", "2024-03-01 10:00:00", "x", "y"]],
                         columns=["user_id", "event_type", "ts", "brand", "brand"])
    with pytest.raises(InputError, match=r"repeated column names \['brand'\]"):
        sm.ingest_frame(ws, "events", frame)
    pq.write_table(table, tmp_path / "e.parquet")
    with pytest.raises(InputError, match=r"e\.parquet: repeated column names \['ts'\]"):
        sm.ingest_file(ws, "events", tmp_path / "e.parquet")
    assert ws.store.scalar("SELECT count(*) FROM events") == 0
