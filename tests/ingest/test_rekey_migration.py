"""Migration 0010 re-keys the events of a workspace made by the previous release: its keys were
DuckDB's ``md5_number`` of the row (or, under ``identity = "line"``, of the file's hash and the
line), so without re-keying an overlapping export ingested now would match none of them and be
counted twice. The old workspace is built here by writing the old key form, as the previous
release's ingestion wrote it (``_final_columns`` before the store-protocol change), into events
ingested by this one, and taking 0010 back off."""

from __future__ import annotations

from pathlib import Path

import segmark as sm
from segmark.workspace import Workspace, open_workspace

HEADER = "user_id,event_type,ts,item_id,price,quantity\n"
LEDGER = [  # a purchase ledger: line 3 repeats line 2 on purpose (two identical order lines)
    "u1,purchase,2024-01-01 10:00:00,a,5.0,2",
    "u2,purchase,2024-01-02 10:00:00,b,1.5,1",
    "u2,purchase,2024-01-02 10:00:00,b,1.5,1",
    "u3,view,2024-01-03 10:00:00,c,,",
]
LATER = [
    "u4,purchase,2024-01-04 10:00:00,d,2.0,3",
    "u5,cart,2024-01-05 10:00:00,e,,",
]

SHOP = [line.replace("u", "s", 1) for line in LEDGER]  # another shop's users, keyed by content
SHOP_LATER = [line.replace("u", "s", 1) for line in LATER]

OLD_CONTENT_KEY = """md5_number(concat_ws(chr(31), coalesce(CAST(user_id AS VARCHAR), ''),
    coalesce(CAST(event_type AS VARCHAR), ''), coalesce(CAST(ts AS VARCHAR), ''),
    coalesce(CAST(item_id AS VARCHAR), ''), coalesce(CAST(category AS VARCHAR), ''),
    coalesce(CAST(price AS VARCHAR), ''), coalesce(CAST(quantity AS VARCHAR), ''), '',
    coalesce(CAST(order_id AS VARCHAR), ''), coalesce(CAST(session_id AS VARCHAR), ''),
    coalesce(CAST(channel AS VARCHAR), '')))"""
"""The previous release's content key: the values before the rules, so an amount the file did not
give (derived as price x quantity when stored) was empty."""
OLD_LINE_KEY = "md5_number(s.content_hash || ':' || CAST(e.line AS VARCHAR))"


def write(path: Path, lines: list[str]) -> Path:
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def as_previous_release(ws: Workspace) -> Path:
    """Give the workspace's events the previous release's keys and take migration 0010 back off."""
    store = ws.store
    store.execute(f"UPDATE events SET event_key = {OLD_CONTENT_KEY} WHERE source_id = 1")
    store.execute(f"UPDATE events e SET event_key = {OLD_LINE_KEY} FROM sources s "
                  "WHERE s.source_id = e.source_id AND e.source_id = 2")
    store.execute("DELETE FROM schema_migrations WHERE version = 10")
    store.execute("ALTER TABLE sources DROP COLUMN content_set")
    assert ws.root is not None
    root = ws.root
    ws.close()
    return root


def test_a_previous_release_workspace_de_duplicates_against_new_ingests(ws: Workspace, tmp_path: Path) -> None:
    line_mapping = tmp_path / "ledger.toml"
    line_mapping.write_text('[rules]\nidentity = "line"\n', encoding="utf-8")
    r1 = sm.ingest_file(ws, "events", write(tmp_path / "jan.csv", SHOP))
    r2 = sm.ingest_file(ws, "events", write(tmp_path / "ledger-jan.csv", LEDGER), mapping=line_mapping)
    assert (r1.accepted, r1.duplicates, r2.accepted) == (3, 1, 4)  # content: one of the twins; line: both
    new_keys = {k for (k,) in ws.store.query_rows("SELECT event_key FROM events")}
    root = as_previous_release(ws)
    with open_workspace(root, read_only=True) as old:
        old_keys = {k for (k,) in old.store.query_rows("SELECT event_key FROM events")}
    assert not old_keys & new_keys  # the old form matches none of today's keys: an overlap would double

    with open_workspace(root) as ws2:  # opening it applies 0010
        assert ws2.store.query_rows("SELECT max(version) FROM schema_migrations") == [(10,)]
        assert {k for (k,) in ws2.store.query_rows("SELECT event_key FROM events")} == new_keys
        # overlapping exports: the old rows again with later ones
        a = sm.ingest_file(ws2, "events", write(tmp_path / "jan-feb.csv", SHOP + SHOP_LATER))
        b = sm.ingest_file(ws2, "events", write(tmp_path / "ledger-jan-feb.csv", LEDGER + LATER),
                           mapping=line_mapping)
        assert (a.rows_read, a.accepted, a.duplicates) == (6, 2, 4)
        assert (b.rows_read, b.accepted, b.duplicates) == (6, 2, 4)
        assert ws2.store.scalar("SELECT count(*) FROM events") == 3 + 4 + 2 + 2
        # the ledger's repeated line is still two events, and amounts are price x quantity
        assert ws2.store.query_rows(
            "SELECT user_id, count(*), sum(amount) FROM events WHERE source_id = 2 GROUP BY 1 ORDER BY 1") == [
            ("u1", 1, 10.0), ("u2", 2, 3.0), ("u3", 1, None)]
