"""Ingestion of the real public data sets, checked against their documented facts and against
totals computed here independently (plain csv / pyarrow, not segmark)."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace


def test_taobao_sample(ws: Workspace, shared_data: Path) -> None:
    path = shared_data / "taobao-userbehavior-sample" / "UserBehavior_first814users.csv"
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    report = ingest_file(ws, "events", path, mapping="taobao")

    # documented: 84,287 events from 814 users, nothing rejected
    assert (report.rows_read, report.accepted, report.quarantined, report.duplicates) == (84287, 84287, 0, 0)
    assert ws.store.scalar("SELECT count(DISTINCT user_id) FROM events") == 814
    names = {"pv": "view", "cart": "cart", "fav": "fav", "buy": "purchase"}
    expected = Counter(names[r[3]] for r in rows)
    assert dict(ws.store.query_rows("SELECT event_type, count(*) FROM events GROUP BY 1")) == expected
    # unix seconds are absolute: stored as UTC wall-clock time
    first = rows[0]
    ts = ws.store.scalar("SELECT ts FROM events WHERE line = 1")
    assert ts == datetime.fromtimestamp(int(first[4]), UTC).replace(tzinfo=None)
    assert ws.store.query_rows("SELECT user_id, item_id, category FROM events WHERE line = 1")[0] == (
        first[0], first[1], first[2])


def test_online_retail_full_every_line_accounted_for(ws: Workspace, shared_data: Path) -> None:
    path = shared_data / "uci-online-retail" / "online_retail_full_no_invoice_stockcode.parquet"
    t = pq.read_table(path)
    qty, price, cust = (t.column(c).to_numpy(zero_copy_only=False) for c in ("Quantity", "UnitPrice", "CustomerID"))
    bad_price = price < 0
    guest = np.isnan(cust)
    report = ingest_file(ws, "events", path, mapping="online-retail")

    assert report.rows_read == 541_909  # documented line count
    assert report.quarantined == int(bad_price.sum()) == 2  # the two "Adjust bad debt" lines
    assert report.by_reason == {"negative_price": 2}
    assert report.duplicates == 0  # invoice lines: every line is its own event
    counts = dict(ws.store.query_rows("SELECT event_type, count(*) FROM events GROUP BY 1"))
    assert counts["refund"] == int(((qty < 0) & ~bad_price).sum())
    assert counts["purchase"] == int(((qty >= 0) & ~bad_price).sum())
    assert counts["purchase"] + counts["refund"] + report.quarantined == 541_909
    # guest lines (no CustomerID) are kept apart: documented 135,080 missing ids
    assert int(guest.sum()) == 135_080
    assert ws.store.scalar("SELECT count(*) FROM events WHERE user_id IS NULL") == int((guest & ~bad_price).sum())
    assert ws.store.scalar("SELECT count(DISTINCT user_id) FROM events") == 4_372  # documented customers
    # net sales: purchases minus refunds equals sum(Quantity * UnitPrice) over the accepted lines
    net = float((qty * price)[~bad_price].sum())
    got = ws.store.scalar(
        "SELECT sum(CASE event_type WHEN 'purchase' THEN amount ELSE -amount END) FROM events")
    assert got == pytest.approx(net, rel=1e-9)
    # and the documented total of the whole table (bad-debt lines included) is 9,747,747.93
    assert net + float((qty * price)[bad_price].sum()) == pytest.approx(9_747_747.93, abs=0.01)
    # ids exported as floats come back as integers
    assert ws.store.scalar("SELECT user_id FROM events WHERE line = 1") == "17850"


def test_online_retail_cancellation_invoices_are_refunds(ws: Workspace, shared_data: Path) -> None:
    path = shared_data / "uci-online-retail" / "online_retail_first240007rows_allcols.parquet"
    t = pq.read_table(path)
    cancelled = pc.starts_with(t.column("InvoiceNo"), "C").to_numpy(zero_copy_only=False)
    negative = (pc.less(t.column("Quantity"), 0)).to_numpy(zero_copy_only=False)
    bad = (pc.less(t.column("UnitPrice"), 0)).to_numpy(zero_copy_only=False)
    report = ingest_file(ws, "events", path, mapping="online-retail")
    assert report.rows_read == 240_007
    refunds = ws.store.scalar("SELECT count(*) FROM events WHERE event_type = 'refund'")
    assert refunds == int(((cancelled | negative) & ~bad).sum())
    # the invoice number is the order; a StockCode is the item
    row = ws.store.query_rows("SELECT order_id, item_id FROM events WHERE line = 1")[0]
    assert row == (t.column("InvoiceNo")[0].as_py(), t.column("StockCode")[0].as_py())
    # '12/1/10 8:26' London time in winter is 08:26 UTC
    assert ws.store.scalar("SELECT ts FROM events WHERE line = 1") == datetime(2010, 12, 1, 8, 26)


def test_cdnow_master(ws: Workspace, shared_data: Path) -> None:
    path = shared_data / "cdnow-lifetimes" / "CDNOW_master.txt"
    lines = path.read_text().split("\n")[1:]
    rows = [ln.split() for ln in lines if ln.strip()]
    report = ingest_file(ws, "events", path, mapping="cdnow")
    assert report.rows_read == len(rows) == 69_659
    assert report.accepted == 69_659
    assert ws.store.scalar("SELECT count(DISTINCT user_id) FROM events") == 23_570  # documented
    assert ws.store.scalar("SELECT sum(amount) FROM events") == pytest.approx(sum(float(r[3]) for r in rows))
    assert ws.store.scalar("SELECT sum(quantity) FROM events") == sum(int(r[2]) for r in rows)
    assert ws.store.scalar("SELECT min(ts)::DATE FROM events").isoformat() == "1997-01-01"
    assert ws.store.scalar("SELECT max(ts)::DATE FROM events").isoformat() == "1998-06-30"
