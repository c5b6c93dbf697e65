"""Inputs that real exports produce and that once went wrong: JSON lines whose records differ,
offsets in JSON, late GBK text, re-sent users files, source event ids, compact timestamps."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from segmark.errors import ConfigError, InputError
from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace, open_workspace


def reopen(ws: Workspace, settings: str) -> Workspace:
    (ws.root / "segmark.toml").write_text(settings, encoding="utf-8")
    ws.close()
    return open_workspace(ws.root)


def jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_json_fields_absent_from_the_first_line_are_kept(ws: Workspace, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "e.jsonl", [
        {"user_id": "u1", "event_type": "view", "ts": "2024-01-01 10:00:00"},
        {"user_id": "u1", "event_type": "purchase", "ts": "2024-01-01 10:05:00", "price": 99.5,
         "quantity": 2, "order_id": "o1"},
    ])
    ingest_file(ws, "events", path)
    assert ws.store.query_rows("SELECT price, quantity, amount, order_id FROM events WHERE line = 2") == [
        (99.5, 2.0, 199.0, "o1")]


def test_json_times_with_offsets_are_absolute(ws: Workspace, tmp_path: Path) -> None:
    ws = reopen(ws, '[time]\ntimezone = "Asia/Shanghai"\n')
    path = jsonl(tmp_path / "e.jsonl", [
        {"user_id": "u1", "event_type": "view", "ts": "2024-01-01T10:00:00+08:00"},   # 02:00 UTC
        {"user_id": "u2", "event_type": "view", "ts": "2024-01-01T02:00:00Z"},        # 02:00 UTC
        {"user_id": "u3", "event_type": "view", "ts": "2024-01-01 10:00:00"},         # Shanghai local
        {"user_id": "u4", "event_type": "view", "ts": 1704074400},                     # unix seconds
        {"user_id": 5, "event_type": "fav", "ts": "2024-01-01 10:00:00", "item_id": {"sku": "a"}},
    ])
    ingest_file(ws, "events", path)
    rows = ws.store.query_rows("SELECT user_id, ts, item_id FROM events ORDER BY line")
    assert [r[1] for r in rows] == [datetime(2024, 1, 1, 2, 0)] * 5
    assert rows[4][0] == "5" and json.loads(rows[4][2]) == {"sku": "a"}  # as written, nested as JSON text
    ws.close()


def test_json_chunk_without_a_required_key_is_quarantined_not_fatal(ws: Workspace, tmp_path: Path) -> None:
    ws = reopen(ws, "[ingest]\nchunk_mb = 1\n")
    good = [{"user_id": f"u{i}", "event_type": "view", "ts": 1704074400 + i} for i in range(20_000)]
    no_ts = [{"user_id": f"v{i}", "event_type": "view"} for i in range(20_000)]
    path = tmp_path / "e.jsonl"
    jsonl(path, good + no_ts)
    with path.open("a", encoding="utf-8") as f:
        f.write("{not json\n[1, 2]\n")
    r = ingest_file(ws, "events", path)
    assert r.rows_read == 40_002
    assert r.accepted == 20_000
    assert r.by_reason == {"missing_ts": 20_000, "malformed_row": 2}
    assert ws.store.query_rows("SELECT min(line), max(line) FROM quarantine WHERE reason = 'missing_ts'") == [
        (20_001, 40_000)]
    assert ws.store.query_rows("SELECT line, raw FROM quarantine WHERE reason = 'malformed_row' ORDER BY line") == [
        (40_001, "{not json"), (40_002, "[1, 2]")]
    ws.close()


def test_gbk_text_late_in_a_file_is_detected(ws: Workspace, tmp_path: Path) -> None:
    lines = ["user_id,event_type,ts,category"] + [f"u{i},view,1704074400,books" for i in range(20_000)]
    lines.append("u1,view,1704074400,服装")
    path = tmp_path / "e.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    assert path.stat().st_size > 1 << 17  # the Chinese line lies well beyond the sniffed head
    r = ingest_file(ws, "events", path)
    assert r.files[0].encoding == "gb18030" and r.accepted == 20_001
    assert ws.store.scalar("SELECT count(*) FROM events WHERE category = '服装'") == 1


def test_unreadable_text_is_an_input_error(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.txt"
    body = " user_id event_type ts\n" + " u1 view 1704074400\n" * 60_000
    path.write_bytes(body.encode() + " u2 view \xff\xfe\n".encode("latin-1"))
    mapping = tmp_path / "m.toml"
    mapping.write_text('[read]\ndelimiter = "whitespace"\nencoding = "utf-8"\n')
    with pytest.raises(InputError, match=r"e\.txt: cannot be read as utf-8"):
        ingest_file(ws, "events", path, mapping=mapping)
    assert ws.store.scalar("SELECT count(*) FROM events") == 0


def test_an_older_users_file_again_does_not_bring_back_old_values(ws: Workspace, tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text("user_id,city,age\nu1,北京,30\n", encoding="utf-8")
    b = tmp_path / "b.csv"
    b.write_text("user_id,city,age\nu1,深圳,32\n", encoding="utf-8")
    ingest_file(ws, "users", a)
    ingest_file(ws, "users", b)
    again = ingest_file(ws, "users", a)
    assert (again.rows_read, again.accepted, again.duplicates) == (1, 0, 1)
    assert ws.store.query_rows("SELECT city, age FROM users") == [("深圳", 32)]


def test_source_event_ids_are_the_identity_without_a_mapping(ws: Workspace, tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text("event_id,user_id,event_type,ts\ne1,u1,view,2024-01-01 10:00:00\n")
    b = tmp_path / "b.csv"  # the same event re-sent days later with a corrected time
    b.write_text("event_id,user_id,event_type,ts\ne1,u1,view,2024-01-05 10:00:00\n")
    ingest_file(ws, "events", a)
    r = ingest_file(ws, "events", b)
    assert (r.accepted, r.duplicates) == (0, 1)


def test_compact_timestamps(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("user_id,event_type,ts\nu1,view,20240101120000\nu2,view,1704110400\n")
    r = ingest_file(ws, "events", path)
    assert r.accepted == 2
    assert {t for (t,) in ws.store.query_rows("SELECT ts FROM events")} == {datetime(2024, 1, 1, 12, 0)}


@pytest.mark.parametrize(("text", "message"), [
    ('[columns]\nuserid = "CustomerID"\n', r"\[columns\] names userid, which are not columns of events"),
    ('[ts]\ntimezone = "Asia/Shangai"\n', r"unknown time zone 'Asia/Shangai'"),
    ("[constants]\nprice = nan\n", r"finite number"),
])
def test_mapping_mistakes_name_the_key(ws: Workspace, tmp_path: Path, text: str, message: str) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(text)
    (tmp_path / "e.csv").write_text("user_id,event_type,ts\nu1,view,1704074400\n")
    with pytest.raises(ConfigError, match=message):
        ingest_file(ws, "events", tmp_path / "e.csv", mapping=mapping)
