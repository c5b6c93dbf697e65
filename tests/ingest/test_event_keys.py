"""Event keys are the md5 of the stored row's text read as a big-endian unsigned integer, the text
migration 0010 recomputes from the events table: each stored value as text (doubles as ``5.0``,
empty for NULL), joined by U+001F, or ``id:`` and the source's event id. Ingestion builds the text
with shortcuts (the price's text for a derived amount of one unit, a quantity of 1): the expected
keys here are worked out by hand from the rows and Python's hashlib, for every case a shortcut
takes or does not take."""

from __future__ import annotations

import hashlib
from pathlib import Path

from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace

SEP = "\x1f"


def key(*values: str) -> int:
    return int(hashlib.md5(SEP.join(values).encode("utf-8")).hexdigest(), 16)


def row(user: str, etype: str, ts: str, item: str, price: str, quantity: str, amount: str,
        order_id: str = "") -> tuple[str, ...]:
    """The stored values as text in column order (user, type, ts, item, category, price, quantity,
    amount, order, session, channel); category, session and channel are empty here."""
    return (user, etype, ts, item, "", price, quantity, amount, order_id, "", "")


def stored_keys(ws: Workspace) -> dict[int, int]:
    return {int(line): int(k) for line, k in ws.store.query_rows("SELECT line, event_key FROM events")}


def test_keys_without_an_amount_column(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("user_id,event_type,ts,item_id,price,quantity\n"
                    "u1,purchase,2024-01-01 10:00:00,a,5.0,2\n"      # amount 5 x 2
                    "u2,purchase,2024-01-02 10:00:00,b,1.25,1\n"     # amount is the price
                    "u3,view,2024-01-03 10:00:00,c,19.9,\n"          # no quantity: amount is the price
                    "u4,view,2024-01-04 10:00:00,d,,\n"              # no price: no amount
                    "u5,cart,2024-01-05 10:00:00,e,0.1,3\n",         # 0.1 x 3 is 0.30000000000000004
                    encoding="utf-8")
    assert ingest_file(ws, "events", path).accepted == 5
    assert stored_keys(ws) == {
        2: key(*row("u1", "purchase", "2024-01-01 10:00:00", "a", "5.0", "2.0", "10.0")),
        3: key(*row("u2", "purchase", "2024-01-02 10:00:00", "b", "1.25", "1.0", "1.25")),
        4: key(*row("u3", "view", "2024-01-03 10:00:00", "c", "19.9", "", "19.9")),
        5: key(*row("u4", "view", "2024-01-04 10:00:00", "d", "", "", "")),
        6: key(*row("u5", "cart", "2024-01-05 10:00:00", "e", "0.1", "3.0", "0.30000000000000004")),
    }


def test_keys_with_refunds_given_amounts_event_ids_and_no_quantity(ws: Workspace, tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text("[rules]\nrefund_if_negative = true\n", encoding="utf-8")
    refunds = tmp_path / "r.csv"
    refunds.write_text("user_id,event_type,ts,item_id,price,quantity\n"
                       "u1,purchase,2024-02-01 10:00:00,a,4.5,-1\n"   # a refund of one unit: quantity 1
                       "u1,purchase,2024-02-01 11:00:00,a,4.5,-2\n",  # of two: amount 9
                       encoding="utf-8")
    assert ingest_file(ws, "events", refunds, mapping=mapping).accepted == 2
    given = tmp_path / "g.csv"
    given.write_text("user_id,event_type,ts,item_id,price,quantity,amount,order_id,event_id\n"
                     "u2,purchase,2024-02-02 10:00:00,b,3.0,1,2.5,o1,\n"   # amount given: not the price
                     "u2,purchase,2024-02-02 11:00:00,b,3.0,1,,o2,\n"      # amount derived from it
                     "u2,purchase,2024-02-02 12:00:00,b,3.0,1,2.5,o3,E7\n",  # the source's id
                     encoding="utf-8")
    assert ingest_file(ws, "events", given).accepted == 3
    no_quantity = tmp_path / "n.csv"
    no_quantity.write_text("user_id,event_type,ts,item_id,price\nu3,view,2024-02-03 10:00:00,c,7\n",
                           encoding="utf-8")
    assert ingest_file(ws, "events", no_quantity).accepted == 1
    keys = {(int(s), int(line)): int(k) for s, line, k in
            ws.store.query_rows("SELECT source_id, line, event_key FROM events")}
    by_source = sorted({s for s, _ in keys})
    assert len(by_source) == 3
    r, g, n = by_source
    assert keys == {
        (r, 2): key(*row("u1", "refund", "2024-02-01 10:00:00", "a", "4.5", "1.0", "4.5")),
        (r, 3): key(*row("u1", "refund", "2024-02-01 11:00:00", "a", "4.5", "2.0", "9.0")),
        (g, 2): key(*row("u2", "purchase", "2024-02-02 10:00:00", "b", "3.0", "1.0", "2.5", "o1")),
        (g, 3): key(*row("u2", "purchase", "2024-02-02 11:00:00", "b", "3.0", "1.0", "3.0", "o2")),
        (g, 4): key("id:E7"),
        (n, 2): key(*row("u3", "view", "2024-02-03 10:00:00", "c", "7.0", "", "7.0")),
    }
