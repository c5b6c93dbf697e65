"""A chunk's plan leaves out the tests its values were shown not to need (``ingest.chunk_facts``).

Two things must hold: the look at the bytes never clears a column that holds what a test looks for
(each kind of value below, by hand), and a plan with the facts stores exactly what the full plan
stores, for any mixture of values (Hypothesis, both plans run by DuckDB on the same chunk)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmark.ingest.chunk_facts import ENDS, NO_CONTROLS, NO_NULL_ID, NO_ZONE, FactFinder
from segmark.ingest.mapping import Mapping
from segmark.ingest.transform import _NULL_IDS, _WS, Context, fact_finder, plan_sql
from segmark.pipeline.ingest import _positional, ingest_file
from segmark.schema import EVENTS
from segmark.store.duckdb import DuckDBFunctions
from segmark.workspace import init_workspace, open_workspace

ALL = frozenset({ENDS, NO_NULL_ID, NO_CONTROLS, NO_ZONE})
COLUMNS = ["user_id", "event_type", "ts", "item_id", "category", "price", "quantity"]
FOUND = {c: c for c in COLUMNS}


def facts_of(values: list[str | None] | pa.Array | pa.ChunkedArray) -> frozenset[str]:
    """Every fact found for ``values``, whatever the kind of column they would be."""
    return FactFinder({"x": ALL}, _WS, _NULL_IDS).find(pa.table({"x": values}))["x"]


def test_a_clean_column_holds_every_fact() -> None:
    assert facts_of(["u1", "u22", "17850", "2024-03-01 10:00:00"]) == ALL
    assert facts_of(["u1", "张三"]) == ALL - {NO_ZONE}  # the zone look is on ASCII text only


@pytest.mark.parametrize("blank", list(_WS))
def test_a_blank_at_either_end_is_seen(blank: str) -> None:
    assert ENDS not in facts_of(["u1", f"{blank}u2"])
    assert ENDS not in facts_of([f"u2{blank}", "u1"])
    assert ENDS not in facts_of(["u1", blank])  # nothing but a blank
    assert ENDS in facts_of([f"u{blank}2"])  # inside a value nothing is trimmed


def test_text_ending_in_a_byte_that_blanks_also_end_with_is_looked_at_exactly() -> None:
    # 装 is E8 A3 85; U+0085 ends in 85 too. 　(U+3000) is E3 80 80, like the end of 耀 (E8 80 80)
    assert "装".encode()[-1] == "\u0085".encode()[-1]
    assert ENDS in facts_of(["服装", "耀", "美妆"])
    assert ENDS not in facts_of(["服装", "美妆\u3000"])


@pytest.mark.parametrize("token", _NULL_IDS)
def test_null_tokens_are_seen(token: str) -> None:
    assert NO_NULL_ID not in facts_of(["u1", token])


def test_ids_that_only_begin_like_a_null_token_keep_the_test_and_others_do_not() -> None:
    assert NO_NULL_ID not in facts_of(["u1", "Nora"])  # N: the full test decides
    assert NO_NULL_ID in facts_of(["u1", "anna"])


@pytest.mark.parametrize("control", ["\x00", "\x01", "\t", "\x1f", "\x7f", "\u0080", "\u0085", "\u009f",
                                     "\u2028", "\u2029"])
def test_control_characters_and_separators_are_seen(control: str) -> None:
    assert NO_CONTROLS not in facts_of(["u1", f"a{control}b"])


def test_characters_that_share_bytes_with_controls_are_not_controls() -> None:
    # U+00A0 is C2 A0 (C1 controls are C2 80..9F); U+2027 is E2 80 A7, U+2030 E2 80 B0
    assert NO_CONTROLS in facts_of(["a\u00a0b", "x\u2027y", "\u2030", "ǅ"])


def test_an_id_over_512_bytes_is_seen() -> None:
    assert NO_CONTROLS in facts_of(["a" * 512])
    assert NO_CONTROLS not in facts_of(["u1", "a" * 513])


@pytest.mark.parametrize("text", ["2024-03-01 10:00:00Z", "2024-03-01 10:00:00+08", "2024-03-01 10:00:00-05:00",
                                  "2024-03-01T10:00:00+0800", "2024-03-01 10:00:00 PST",
                                  "2024-03-01 10:00:00 Asia/Shanghai", "2024-03-01 10:00:00 北京"])
def test_zone_designators_are_seen(text: str) -> None:
    assert NO_ZONE not in facts_of(["2024-03-01 10:00:00", text])


def test_a_zone_behind_a_trailing_blank_keeps_the_zone_test() -> None:
    """Facts are of the untrimmed text: ``10:00Z `` ends in a blank, trimmed in a zone. The plan
    drops the zone test only where no value has a blank at either end."""
    texts = ["2024-03-01 10:00:00Z ", "2024-03-01 10:00:00 CST ", "2024-03-01 10:00:00 UTC\t",
             "2024-03-01 10:00:00-05:00\r"]
    assert {ENDS, NO_ZONE} & facts_of(texts) == {NO_ZONE}  # the bytes end in blanks, not zones
    n = len(texts)
    table = pa.table({"user_id": ["u1"] * n, "event_type": ["view"] * n, "ts": texts, "item_id": ["i"] * n,
                      "category": ["c"] * n, "price": ["1"] * n, "quantity": ["1"] * n})
    con = duckdb.connect()
    facts = fact_finder(EVENTS, Mapping(), FOUND).find(table)
    assert run_plan(con, table, facts) == run_plan(con, table, None)
    sql = plan_sql(EVENTS, Mapping(), FOUND, COLUMNS, {c: pa.string() for c in COLUMNS}, CTX, DuckDBFunctions(),
                   facts=facts)
    con.register("_chunk", _positional(table, np.arange(2, n + 2)))
    stored = con.execute(f"SELECT ts, _reason FROM ({sql}) ORDER BY _line").fetchall()
    # Z and UTC are UTC, -05:00 is five hours behind it, CST names several zones (the shop's is +08)
    assert stored == [(datetime(2024, 3, 1, 10), None), (None, "ambiguous_ts_zone"),
                      (datetime(2024, 3, 1, 10), None), (datetime(2024, 3, 1, 15), None)]


def test_local_times_and_unix_seconds_hold_no_zone() -> None:
    assert NO_ZONE in facts_of(["2024-03-01 10:00:00", "2024-03-01 10:00", "1709287200", "12", "", None])


def test_sliced_large_and_chunked_columns() -> None:
    arr = pa.array([" x", "u1", "u2", "NULL"])
    assert facts_of(arr.slice(1, 2)) == ALL  # the slice leaves both bad values out
    assert ENDS not in facts_of(arr.slice(0, 2))
    assert facts_of(pa.array(["u1", "u2"], pa.large_string())) == ALL
    assert NO_NULL_ID not in facts_of(pa.chunked_array([["u1"], ["NULL"]]))  # every chunk counts
    # a NULL slot may hold bytes (Arrow leaves them unspecified): they are no value
    data = pa.py_buffer("u1NULL\u3000服装".encode())
    offsets = pa.py_buffer(pa.array([0, 2, 9, 15], pa.int32()).buffers()[1])
    validity = pa.py_buffer(bytes([0b101]))
    masked = pa.Array.from_buffers(pa.string(), 3, [validity, offsets, data], null_count=1)
    assert masked.to_pylist() == ["u1", None, "服装"]
    assert facts_of(masked) == ALL - {NO_ZONE}


# -- the plan with facts stores what the full plan stores ---------------------------------------------

PIECES = ["u1", "42", "张三", " ", "\u3000", "\u00a0", "\u200b", "\t", "NULL", "N", "nan", "\x01", "\u2028",
          "\u0085", "服装", "-", "+", ":", "Z", "PST", "+08", "-05:00", "2024-03-01 10:00:00", "1709287200",
          "12.5", "1,299.00", "¥5", "e", "_"]
value = st.lists(st.sampled_from(PIECES), max_size=4).map("".join)
event_type = st.sampled_from(["view", " view", "purchase", "buy\u3000", "NULL", "", "cart"])
# times: mostly clean, so that chunks without zones occur; zones and blanks in front or behind
when = st.tuples(st.sampled_from(["", "", " ", "\u3000"]),
                 st.sampled_from(["2024-03-01 10:00:00", "2024-03-01 10:00", "1709287200", "2024-03-01"]),
                 st.sampled_from(["", "", "", "Z", "+08", " -05:00", " PST", " CST", " Asia/Shanghai", "x"]),
                 st.sampled_from(["", "", "", " ", "\t", "\u3000"])).map("".join)
row = st.tuples(value, event_type, when, value, value, value, value)
NOW = datetime(2026, 12, 1)
CTX = Context("Asia/Shanghai", datetime(1990, 1, 1), datetime(2027, 1, 1), NOW)


def run_plan(con: duckdb.DuckDBPyConnection, table: pa.Table, facts: dict[str, frozenset[str]] | None) -> list[str]:
    types = {c: table.schema.field(c).type for c in COLUMNS}
    sql = plan_sql(EVENTS, Mapping(), FOUND, COLUMNS, types, CTX, DuckDBFunctions(), facts=facts)
    con.register("_chunk", _positional(table, np.arange(2, table.num_rows + 2)))
    try:
        # as text: a NaN read by both plans is the same value, yet not equal to itself
        return [repr(r) for r in con.execute(f"SELECT * FROM ({sql}) ORDER BY _line").fetchall()]
    finally:
        con.unregister("_chunk")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clean=st.lists(st.sampled_from(["u1", "u22", "张三"]), min_size=1, max_size=5),
       rows=st.lists(row, min_size=1, max_size=8))
def test_the_plan_with_facts_stores_what_the_full_plan_stores(clean: list[str], rows: list[tuple]) -> None:
    table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(COLUMNS)})
    con = duckdb.connect()
    facts = fact_finder(EVENTS, Mapping(), FOUND).find(table)
    assert run_plan(con, table, facts) == run_plan(con, table, None)
    # and a chunk of clean values, where the facts leave the tests out, stores them all the same
    good = pa.table({"user_id": clean, "event_type": ["view"] * len(clean),
                     "ts": ["2024-03-01 10:00:00"] * len(clean), "item_id": clean, "category": clean,
                     "price": ["12.5"] * len(clean), "quantity": ["1"] * len(clean)})
    facts = fact_finder(EVENTS, Mapping(), FOUND).find(good)
    assert facts["user_id"] == {ENDS, NO_NULL_ID, NO_CONTROLS} and NO_ZONE in facts["ts"]
    assert run_plan(con, good, facts) == run_plan(con, good, None)


def test_a_dirty_chunk_after_clean_ones_is_still_tested(tmp_path: Path) -> None:
    """Facts are found per chunk: a file's clean first megabyte does not clear the rows after it."""
    root = init_workspace(tmp_path / "ws")
    (root / "segmark.toml").write_text('[ingest]\nchunk_mb = 1\n[time]\ntimezone = "Asia/Shanghai"\n', encoding="utf-8")
    path = tmp_path / "events.csv"
    clean = "".join(f"u{i},view,2024-03-01 10:00:00,i{i % 97},服装,12.50,1\n" for i in range(40_000))
    dirty = ("\u3000u7 ,view,2024-03-01 10:00:00,i1,服装,1,1\n"        # trimmed: user u7
             "NULL,view,2024-03-01 10:00:00,i1,服装,1,1\n"             # missing_user_id
             "u\x01,view,2024-03-01 10:00:00,i1,服装,1,1\n"            # invalid_id
             "u8,view,2024-03-01 10:00:00+00,i1,服装,1,1\n"            # 10:00 UTC
             "u9,view,2024-03-01 10:00:00 CST,i1,服装,1,1\n")          # ambiguous_ts_zone
    path.write_text("user_id,event_type,ts,item_id,category,price,quantity\n" + clean + dirty, encoding="utf-8")
    assert path.stat().st_size > 1.5 * (1 << 20)  # the dirty rows are in the second chunk
    with open_workspace(root) as ws:
        report = ingest_file(ws, "events", path)
        assert (report.accepted, report.quarantined) == (40_002, 3)
        assert report.by_reason == {"missing_user_id": 1, "invalid_id": 1, "ambiguous_ts_zone": 1}
        rows = dict(ws.store.query_rows("SELECT user_id, ts FROM events WHERE user_id IN ('u7', 'u8')"))
        # the workspace's zone is Asia/Shanghai (UTC+8): 10:00 there is 02:00 UTC; +00 is UTC
        assert rows == {"u7": datetime(2024, 3, 1, 2, 0), "u8": datetime(2024, 3, 1, 10, 0)}
