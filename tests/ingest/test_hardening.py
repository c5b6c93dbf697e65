"""The defects a sweep of malformed and hostile inputs found, each with the test that would have
caught it: untrusted mapping expressions, time-zone offsets, non-finite and locale-formatted
numbers, bad ids, internal names colliding with source columns, and raw engine errors."""

from __future__ import annotations

import json
from datetime import datetime, time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmark.errors import ConfigError, InputError
from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace, open_workspace

TABLES = ("events", "quarantine", "sources", "users", "items")


def reopen(ws: Workspace, settings: str) -> Workspace:
    (ws.root / "segmark.toml").write_text(settings, encoding="utf-8")
    ws.close()
    return open_workspace(ws.root)


def counts(ws: Workspace) -> dict[str, int]:
    return {t: ws.store.scalar(f"SELECT count(*) FROM {t}") for t in TABLES}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- mapping expressions are untrusted ------------------------------------------------------------

HOSTILE = [
    "(SELECT string_agg(line, '|') FROM read_csv('/etc/passwd', columns={'line': 'VARCHAR'}))",
    "read_text('/etc/passwd')",
    "1); DELETE FROM events; SELECT (1",
    "getenv('HOME')",
    "current_setting('threads')",
    "(SELECT count(*) FROM events)",
    "sum(price)",
    "row_number() OVER ()",
    "now()",
    "random()",
    "main.events.user_id",
    "query('SELECT 1')",
]


@pytest.mark.parametrize("expression", HOSTILE)
def test_hostile_expressions_are_refused_before_anything_runs(ws: Workspace, tmp_path: Path,
                                                              expression: str) -> None:
    write(tmp_path / "e.csv", "user_id,event_type,ts,price\nu1,view,2024-03-01 10:00:00,5\n")
    mapping = write(tmp_path / "m.toml", f"[expressions]\ncategory = {json.dumps(expression)}\n")
    before = counts(ws)
    with pytest.raises(ConfigError, match=r"\[expressions\] category"):
        ingest_file(ws, "events", tmp_path / "e.csv", mapping=mapping)
    assert counts(ws) == before


def test_the_refusal_names_the_offending_node(ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "e.csv", "user_id,event_type,ts\nu1,view,2024-03-01 10:00:00\n")
    mapping = write(tmp_path / "m.toml", "[expressions]\ncategory = \"upper(read_text('/etc/passwd'))\"\n")
    with pytest.raises(ConfigError, match=r"refused function read_text\(\)"):
        ingest_file(ws, "events", tmp_path / "e.csv", mapping=mapping)
    write(tmp_path / "m.toml", '[expressions]\ncategory = "lower(no_such_column)"\n')
    with pytest.raises(ConfigError, match="the file has no column 'no_such_column'"):
        ingest_file(ws, "events", tmp_path / "e.csv", mapping=tmp_path / "m.toml")


def test_scalar_expressions_still_work(ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "e.csv", "uid,act,t,total,n,cat\nu1,buy,1709258500,30,3, Books \n")
    mapping = write(tmp_path / "m.toml", '[columns]\nuser_id = "uid"\nevent_type = "act"\nts = "t"\n'
                    '[expressions]\nprice = "try_cast(total AS DOUBLE) / nullif(try_cast(n AS DOUBLE), 0)"\n'
                    "category = \"CASE WHEN lower(trim(cat)) = 'books' THEN '图书' ELSE cat END\"\n"
                    '[ts]\nunit = "s"\n')
    ingest_file(ws, "events", tmp_path / "e.csv", mapping=mapping)
    assert ws.store.query_rows("SELECT price, category FROM events") == [(10.0, "图书")]


# -- time zones --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "utc"), [
    ("2024-03-01 10:00:00+08", datetime(2024, 3, 1, 2, 0)),          # PostgreSQL's text form
    ("2024-03-01 10:00:00-05", datetime(2024, 3, 1, 15, 0)),
    ("2024-03-01 10:00:00+00", datetime(2024, 3, 1, 10, 0)),
    ("2024-03-01 10:00:00+0800", datetime(2024, 3, 1, 2, 0)),
    ("2024-03-01 10:00:00 +08:00", datetime(2024, 3, 1, 2, 0)),
    ("2024-03-01T10:00:00Z", datetime(2024, 3, 1, 10, 0)),
    ("2024-03-01 10:00:00 PST", datetime(2024, 3, 1, 18, 0)),
    ("2024-03-01 10:00:00 JST", datetime(2024, 3, 1, 1, 0)),
    ("2024-03-01 10:00:00 UTC", datetime(2024, 3, 1, 10, 0)),
    ("2024-03-01 10:00:00 Asia/Shanghai", datetime(2024, 3, 1, 2, 0)),
    ("2024-07-01 10:00:00 America/New_York", datetime(2024, 7, 1, 14, 0)),   # daylight saving: -04
    ("2024-03-01 10:00:00", datetime(2024, 3, 1, 2, 0)),             # local: the workspace's zone
])
def test_offsets_and_zones_are_absolute(ws: Workspace, tmp_path: Path, text: str, utc: datetime) -> None:
    ws = reopen(ws, '[time]\ntimezone = "Asia/Shanghai"\n')
    write(tmp_path / "e.csv", f"user_id,event_type,ts\nu1,view,{text}\n")
    r = ingest_file(ws, "events", tmp_path / "e.csv")
    assert r.accepted == 1, r.by_reason
    assert ws.store.scalar("SELECT ts FROM events") == utc
    ws.close()


@pytest.mark.parametrize(("text", "reason"), [
    ("2024-03-01 10:00:00 CST", "ambiguous_ts_zone"),   # China, US Central or Cuba
    ("2024-03-01 10:00:00 IST", "ambiguous_ts_zone"),   # India, Israel or Ireland
    ("2024-03-01 10:00:00 Mars/Olympus", "unparseable_ts"),
    ("2024-03-01 10:00:00 XYZ", "unparseable_ts"),
    ("2024-03-01 10:00:00+25", "unparseable_ts"),
])
def test_ambiguous_and_unknown_zones_are_quarantined(ws: Workspace, tmp_path: Path, text: str, reason: str) -> None:
    write(tmp_path / "e.csv", f"user_id,event_type,ts\nu1,view,{text}\n")
    r = ingest_file(ws, "events", tmp_path / "e.csv")
    assert r.by_reason == {reason: 1}
    assert ws.store.query_rows("SELECT line, column_name, value FROM quarantine") == [(2, "ts", text)]


def test_unix_unit_over_iso_text_is_unparseable_not_out_of_range(ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "e.csv", "user_id,event_type,ts\nu1,view,2024-03-01 10:00:00\nu2,view,1709258400\n")
    r = ingest_file(ws, "events", tmp_path / "e.csv", mapping=write(tmp_path / "m.toml", '[ts]\nunit = "s"\n'))
    assert (r.accepted, r.by_reason) == (1, {"unparseable_ts": 1})


# -- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value", "reason"), [
    ("1,234.50", 1234.5, None),
    ("¥1,299.00", 1299.0, None),
    ("-¥5", None, "negative_price"),
    ("12,50", None, "ambiguous_number"),
    ("1.234,50", None, "ambiguous_number"),
    ("1,2,3", None, "ambiguous_number"),
    ("NaN", None, "non_finite_number"),
    ("inf", None, "non_finite_number"),
    ("-Infinity", None, "non_finite_number"),
    ("1e400", None, "non_finite_number"),
    ("12元", None, "non_numeric_price"),
])
def test_numbers_with_a_decimal_point(ws: Workspace, tmp_path: Path, text: str, value: float | None,
                                      reason: str | None) -> None:
    write(tmp_path / "e.csv", f'user_id,event_type,ts,price\nu1,purchase,2024-03-01 10:00:00,"{text}"\n')
    r = ingest_file(ws, "events", tmp_path / "e.csv")
    assert r.by_reason == ({reason: 1} if reason else {})
    assert ws.store.scalar("SELECT price FROM events") == value


@pytest.mark.parametrize(("text", "value", "reason"), [
    ("1.299,00", 1299.0, None),
    ("12,50", 12.5, None),
    ("1 299,5", 1299.5, None),
    ("€1.299", 1299.0, None),
    ("1299", 1299.0, None),
    ("12.50", None, "ambiguous_number"),
    ("1,2,3", None, "ambiguous_number"),
    ("NaN", None, "non_finite_number"),
])
def test_numbers_with_a_decimal_comma(ws: Workspace, tmp_path: Path, text: str, value: float | None,
                                      reason: str | None) -> None:
    write(tmp_path / "e.csv", f'user_id;event_type;ts;price\nu1;purchase;2024-03-01 10:00:00;"{text}"\n')
    mapping = write(tmp_path / "m.toml", '[read]\ndecimal = ","\n')
    r = ingest_file(ws, "events", tmp_path / "e.csv", mapping=mapping)
    assert r.by_reason == ({reason: 1} if reason else {})
    assert ws.store.scalar("SELECT price FROM events") == value


def test_non_finite_typed_numbers_are_quarantined(ws: Workspace, tmp_path: Path) -> None:
    pq.write_table(pa.table({"user_id": ["a", "b", "c"], "event_type": ["purchase"] * 3,
                             "ts": pa.array([datetime(2024, 3, 1)] * 3, pa.timestamp("s")),
                             "price": [1.5, float("nan"), float("inf")],
                             "quantity": [1.0, 1.0, 1.0]}), tmp_path / "e.parquet")
    r = ingest_file(ws, "events", tmp_path / "e.parquet")
    assert (r.accepted, r.by_reason) == (1, {"non_finite_number": 2})


def test_a_numeric_constant_is_a_value(ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "e.csv", "user_id,event_type,ts\nu1,purchase,2024-03-01 10:00:00\n")
    ingest_file(ws, "events", tmp_path / "e.csv",
                mapping=write(tmp_path / "m.toml", "[constants]\nprice = 5\nquantity = 2.5\n"))
    assert ws.store.query_rows("SELECT price, quantity, amount FROM events") == [(5.0, 2.5, 12.5)]


# -- ids and internal names ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "reason"), [
    ('"\t"', "missing_user_id"),
    ('" \u3000 "', "missing_user_id"),
    ("NULL", "missing_user_id"),
    ("\\N", "missing_user_id"),
    ('"u\x01x"', "invalid_id"),
    ("u" * 600, "invalid_id"),
])
def test_bad_text_ids(ws: Workspace, tmp_path: Path, text: str, reason: str) -> None:
    write(tmp_path / "e.csv", f"user_id,event_type,ts\n{text},view,2024-03-01 10:00:00\nu1,view,2024-03-01 10:00:00\n")
    r = ingest_file(ws, "events", tmp_path / "e.csv")
    assert (r.accepted, r.by_reason) == (1, {reason: 1})
    assert ws.store.query_rows("SELECT user_id FROM events") == [("u1",)]


def test_a_nan_float_id_is_missing_not_the_user_nan(ws: Workspace, tmp_path: Path) -> None:
    pq.write_table(pa.table({"user_id": [17850.0, float("nan")], "event_type": ["view", "view"],
                             "ts": pa.array([datetime(2024, 3, 1), datetime(2024, 3, 2)], pa.timestamp("s"))}),
                   tmp_path / "e.parquet")
    r = ingest_file(ws, "events", tmp_path / "e.parquet")
    assert (r.accepted, r.by_reason) == (1, {"missing_user_id": 1})
    assert ws.store.query_rows("SELECT user_id FROM events") == [("17850",)]


def test_source_columns_never_collide_with_internal_names(ws: Workspace, tmp_path: Path) -> None:
    # a source column named _line, columns that differ only by case, and an empty header name
    write(tmp_path / "e.csv", "_line,user_id,USER_ID,event_type,ts,,_reason\n"
                              "999,u1,U1,view,2024-03-01 10:00:00,x,y\n"
                              "999,u2,U2,bogus,2024-03-01 10:00:00,x,y\n")
    r = ingest_file(ws, "events", tmp_path / "e.csv")
    assert (r.accepted, r.by_reason) == (1, {"unknown_event_type": 1})
    assert ws.store.query_rows("SELECT user_id, line FROM events") == [("u1", 2)]
    line, raw = ws.store.query_rows("SELECT line, raw FROM quarantine")[0]
    assert line == 3
    assert json.loads(raw) == {"_line": "999", "user_id": "u2", "USER_ID": "U2", "event_type": "bogus",
                               "ts": "2024-03-01 10:00:00", "": "x", "_reason": "y"}


def test_users_with_columns_named_like_internal_ones(ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "u.csv", "user_id,_attributes,attributes,_hash\nu1,a,b,c\n")
    ingest_file(ws, "users", tmp_path / "u.csv")
    attrs = json.loads(ws.store.scalar("SELECT attributes FROM users"))
    assert attrs == {"_attributes": "a", "attributes": "b", "_hash": "c"}


# -- a folder of mixed formats, typed columns that cannot hold the value -----------------------------


def test_json_lines_then_csv_in_one_folder(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a.jsonl", '{"user_id": "u1", "event_type": "view", "ts": "2024-03-01 10:00:00"}\n')
    write(folder / "b.csv", "user_id,event_type,ts\nu2,view,2024-03-01 10:00:00\n")
    pq.write_table(pa.table({"user_id": ["u3"], "event_type": ["view"], "ts": ["2024-03-01 10:00:00"]}),
                   folder / "c.parquet")
    write(folder / "d.jsonl", '{"user_id": "u4", "event_type": "view", "ts": "2024-03-01 10:00:00"}\n')
    r = ingest_file(ws, "events", folder)
    assert r.accepted == 4
    assert sorted(u for (u,) in ws.store.query_rows("SELECT user_id FROM events")) == ["u1", "u2", "u3", "u4"]


@pytest.mark.parametrize(("column", "array", "message"), [
    ("price", pa.array([True]), r"'price' \(price\) holds bool values"),
    ("price", pa.array([[1.0, 2.0]]), r"'price' \(price\) holds list"),
    ("ts", pa.array([time(10, 0)], pa.time64("us")), r"'ts' \(ts\) holds time64"),
])
def test_typed_columns_of_the_wrong_kind_name_file_and_column(ws: Workspace, tmp_path: Path, column: str,
                                                              array: pa.Array, message: str) -> None:
    data = {"user_id": pa.array(["u1"]), "event_type": pa.array(["view"]),
            "ts": pa.array([datetime(2024, 3, 1)], pa.timestamp("s"))}
    data[column] = array
    pq.write_table(pa.table(data), tmp_path / "e.parquet")
    with pytest.raises(InputError, match=r"e\.parquet: column " + message):
        ingest_file(ws, "events", tmp_path / "e.parquet")
    assert counts(ws)["events"] == 0


def test_a_bad_strptime_directive_is_a_mapping_error(ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "e.csv", "user_id,event_type,ts\nu1,view,2024-03-01\n")
    with pytest.raises(ConfigError, match=r"unknown directive %Q"):
        ingest_file(ws, "events", tmp_path / "e.csv", mapping=write(tmp_path / "m.toml", '[ts]\nformat = "%Y-%Q"\n'))


# -- settings and mapping files ----------------------------------------------------------------------


def test_binary_settings_and_mapping_files_are_config_errors(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff")
    write(tmp_path / "e.csv", "user_id,event_type,ts\nu1,view,2024-03-01\n")
    with pytest.raises(ConfigError, match=r"m\.toml: not a text file"):
        ingest_file(ws, "events", tmp_path / "e.csv", mapping=tmp_path / "m.toml")
    (ws.root / "segmark.toml").write_bytes(b"\xff\xfe\x00garbage")
    ws.close()
    with pytest.raises(ConfigError, match=r"segmark\.toml: not a text file"):
        open_workspace(ws.root)


def test_absurd_future_window_is_refused(ws: Workspace) -> None:
    (ws.root / "segmark.toml").write_text("[ingest]\nmax_future_days = 100000000\n", encoding="utf-8")
    ws.close()
    with pytest.raises(ConfigError, match="max_future_days"):
        open_workspace(ws.root)


def test_dates_outside_a_lifetime_are_quarantined(ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "u.csv", "user_id,signup_date,birth_date\n"
                              "u1,2020-05-01,1990-01-01\n"
                              "u2,0000-01-01,1990-01-01\n"
                              "u3,2020-05-01,9999-12-31\n"
                              "u4,2020-05-01,1850-01-01\n")
    r = ingest_file(ws, "users", tmp_path / "u.csv")
    assert (r.accepted, r.by_reason) == (1, {"date_out_of_range": 3})
    assert ws.store.query_rows("SELECT line, column_name FROM quarantine ORDER BY line") == [
        (3, "signup_date"), (4, "birth_date"), (5, "birth_date")]


# -- quotes, encodings, layers and what is not a file -------------------------------------------------


def test_an_unclosed_quote_is_quarantined_and_reading_resumes(ws: Workspace, tmp_path: Path) -> None:
    lines = ["user_id,event_type,ts,category", *(f"u{i},view,2024-03-01 10:00:00,c{i}" for i in range(5)),
             'u9,view,2024-03-01 10:00:00,"open',
             *(f"v{i},view,2024-03-02 10:00:00,c{i}" for i in range(300)),
             'w1,view,2024-03-03 10:00:00,"two\nlines"', "w2,view,2024-03-03 10:00:00,x",
             'w3,view,2024-03-03 10:00:00,"a record\nwith a field too many",z', "w4,view,2024-03-03 10:00:00,y"]
    write(tmp_path / "e.csv", "\n".join(lines) + "\n")
    r = ingest_file(ws, "events", tmp_path / "e.csv")
    # 5 + the unclosed line + 300 + a record over two lines + 1 + a bad record over two lines + 1
    assert (r.rows_read, r.accepted) == (311, 308)
    assert r.by_reason == {"unclosed_quote": 2, "malformed_row": 1}
    assert ws.store.query_rows("SELECT line, reason, raw FROM quarantine ORDER BY line") == [
        (7, "unclosed_quote", 'u9,view,2024-03-01 10:00:00,"open'),
        (311, "unclosed_quote", 'w3,view,2024-03-03 10:00:00,"a record'),
        (312, "malformed_row", 'with a field too many",z')]
    assert ws.store.scalar("SELECT category FROM events WHERE user_id = 'w1'") == "two\nlines"
    # every row keeps its physical line, also after a record that spans two lines
    assert ws.store.query_rows("SELECT user_id, line FROM events WHERE user_id IN ('v0', 'v299', 'w2') "
                               "ORDER BY line") == [("v0", 8), ("v299", 307), ("w2", 310)]
    assert ws.store.scalar("SELECT line FROM events WHERE user_id = 'w4'") == 313


def test_an_unclosed_quote_in_a_middle_column_loses_nothing(ws: Workspace, tmp_path: Path) -> None:
    lines = ["user_id,event_type,ts,item_id", 'u1,"vi,2024-03-01 10:00:00,i1',
             *(f"v{i},view,2024-03-01 10:00:00,i{i}" for i in range(200)), 'u2,"view,2024-03-01 10:00:00,i2']
    write(tmp_path / "e.csv", "\n".join(lines) + "\n")
    r = ingest_file(ws, "events", tmp_path / "e.csv")
    assert (r.rows_read, r.accepted, r.by_reason) == (202, 200, {"unclosed_quote": 2})
    assert ws.store.query_rows("SELECT line FROM quarantine ORDER BY line") == [(2,), (203,)]


def test_quoted_line_breaks_are_kept(ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "i.csv", 'item_id,brand,note\ni1,"Uni\nqlo","a ""quoted""\nnote"\ni2,b,c\n')
    r = ingest_file(ws, "items", tmp_path / "i.csv")
    assert (r.rows_read, r.accepted) == (2, 2)
    assert ws.store.query_rows("SELECT item_id, brand, attributes->>'note', line FROM items ORDER BY 1") == [
        ("i1", "Uni\nqlo", 'a "quoted"\nnote', 2), ("i2", "b", "c", 5)]


def test_a_few_bad_bytes_in_a_utf8_file_are_quarantined_not_a_new_encoding(ws: Workspace, tmp_path: Path) -> None:
    body = "user_id,event_type,ts,category\n" + "".join(
        f"u{i},view,2024-03-01 10:00:00,女装\n" for i in range(100))
    data = body.encode() + b"u7,view,2024-03-01 10:00:00,caf\xe9\nu8,view,2024-03-01 10:00:00,x\xff\n"
    (tmp_path / "e.csv").write_bytes(data)
    r = ingest_file(ws, "events", tmp_path / "e.csv")
    assert r.files[0].encoding == "utf-8"
    assert (r.rows_read, r.accepted, r.by_reason) == (102, 100, {"invalid_encoding": 2})
    assert ws.store.scalar("SELECT count(*) FROM events WHERE category = '女装'") == 100
    first_bad = len(body.encode()) + len(b"u7,view,2024-03-01 10:00:00,caf")
    assert ws.store.query_rows("SELECT line, value FROM quarantine ORDER BY line") == [
        (102, f"byte offset {first_bad}"),
        (103, f"byte offset {first_bad + 2 + len(b'u8,view,2024-03-01 10:00:00,x')}")]


def test_json_lines_with_bad_bytes_are_quarantined_or_refused(ws: Workspace, tmp_path: Path) -> None:
    good = '{"user_id": "u1", "event_type": "view", "ts": "2024-03-01 10:00:00", "category": "女装"}\n'
    (tmp_path / "e.jsonl").write_bytes(good.encode() * 20 + b'{"user_id": "u\xff", "event_type": "view"}\n')
    r = ingest_file(ws, "events", tmp_path / "e.jsonl")
    assert (r.accepted, r.duplicates, r.by_reason) == (1, 19, {"invalid_encoding": 1})
    assert ws.store.scalar("SELECT count(*) FROM events WHERE user_id LIKE '%\ufffd%'") == 0
    mapping = write(tmp_path / "m.toml", '[read]\nencoding = "utf-8"\n')
    (tmp_path / "f.jsonl").write_bytes(good.encode() + b'{"user_id": "u\xff"}\n')
    with pytest.raises(InputError, match=r"f\.jsonl: line 2: not valid utf-8"):
        ingest_file(ws, "events", tmp_path / "f.jsonl", mapping=mapping)


def test_utf16_and_gzip_are_read_for_what_they_are(ws: Workspace, tmp_path: Path) -> None:
    import gzip

    excel = "user_id\tevent_type\tts\n张三\tview\t2024-03-01 10:00:00\n"
    (tmp_path / "excel.txt").write_bytes(excel.encode("utf-16"))
    compressed = gzip.compress("user_id,event_type,ts\n李四,cart,2024-03-01 11:00:00\n".encode())
    (tmp_path / "e.csv.gz").write_bytes(compressed)
    assert ingest_file(ws, "events", tmp_path / "excel.txt").accepted == 1
    assert ingest_file(ws, "events", tmp_path / "e.csv.gz").accepted == 1
    assert ws.store.query_rows("SELECT user_id, event_type FROM events ORDER BY ts") == [
        ("张三", "view"), ("李四", "cart")]
    (tmp_path / "x.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(InputError, match=r"x\.zip: a zip archive"):
        ingest_file(ws, "events", tmp_path / "x.zip", mapping=write(tmp_path / "m.toml", '[read]\nformat = "csv"\n'))


def test_what_is_not_a_regular_file_is_refused_not_read_forever(ws: Workspace, tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    for name, kind in (("pipe.csv", "a named pipe"), ("zero.csv", "a device")):
        with pytest.raises(InputError, match=rf"{name}: {kind}"):
            ingest_file(ws, "events", tmp_path / name)


def test_a_damaged_parquet_file_is_named(ws: Workspace, tmp_path: Path) -> None:
    n = 50_000
    pq.write_table(pa.table({"user_id": [f"u{i}" for i in range(n)], "event_type": ["view"] * n,
                             "ts": pa.array([datetime(2024, 3, 1)] * n, pa.timestamp("s"))}),
                   tmp_path / "e.parquet", compression="snappy", row_group_size=10_000)
    data = bytearray((tmp_path / "e.parquet").read_bytes())
    middle = len(data) // 2
    data[middle:middle + 200] = b"\xff" * 200
    (tmp_path / "e.parquet").write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"e\.parquet: (a damaged Parquet file|not a readable Parquet file)"):
        ingest_file(ws, "events", tmp_path / "e.parquet")
    assert counts(ws)["events"] == 0


# -- re-sent and overlapping exports --------------------------------------------------------------


def test_an_older_users_file_re_sent_with_other_bytes_does_not_bring_back_old_values(
        ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "user_id,city,age\nu1,北京,30\nu2,上海,40\n")
    write(tmp_path / "b.csv", "user_id,city,age\nu1,深圳,32\nu2,上海,40\n")
    ingest_file(ws, "users", tmp_path / "a.csv")
    ingest_file(ws, "users", tmp_path / "b.csv")
    # the first file again: other line endings, other row order, quoted
    (tmp_path / "a2.csv").write_bytes(b'user_id,city,age\r\n"u2","\xe4\xb8\x8a\xe6\xb5\xb7",40\r\n'
                                      b'"u1","\xe5\x8c\x97\xe4\xba\xac",30\r\n')
    again = ingest_file(ws, "users", tmp_path / "a2.csv")
    assert (again.rows_read, again.accepted, again.duplicates) == (2, 0, 2)
    assert ws.store.query_rows("SELECT user_id, city, age FROM users ORDER BY 1") == [
        ("u1", "深圳", 32), ("u2", "上海", 40)]
    # a genuinely new file that moves u1 back to Beijing is applied
    write(tmp_path / "c.csv", "user_id,city,age\nu1,北京,33\n")
    assert ingest_file(ws, "users", tmp_path / "c.csv").accepted == 1


def test_overlapping_ledger_exports_add_only_what_is_new(ws: Workspace, tmp_path: Path,
                                                         shared_data: Path) -> None:
    full = pq.read_table(shared_data / "uci-online-retail" / "online_retail_full_no_invoice_stockcode.parquet")
    first, second = full.slice(0, 300_001), full.slice(200_000)
    pq.write_table(first, tmp_path / "a.parquet")
    pq.write_table(second, tmp_path / "b.parquet")
    a = ingest_file(ws, "events", tmp_path / "a.parquet", mapping="online-retail")
    b = ingest_file(ws, "events", tmp_path / "b.parquet", mapping="online-retail")
    # the union of the two exports is the whole ledger: 541,909 lines less the two bad-debt lines;
    # identical lines that the ledger itself repeats are kept (content and occurrence number)
    assert ws.store.scalar("SELECT count(*) FROM events") == 541_907
    assert a.accepted + b.accepted == 541_907
    assert b.duplicates == 100_001 - sum(1 for p in first.slice(200_000).column("UnitPrice").to_pylist() if p < 0)
