"""Bad rows are quarantined with file, line, column and reason; good rows are kept; nothing is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segmark.errors import ConfigError, MissingColumnsError
from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace

GOOD = "u1,view,2024-03-01 10:00:00,i1,10.0,1"
# line number in the file (header = line 1) -> (row, reason, column)
BAD = {
    3: (",view,2024-03-01 10:00:00,i1,10.0,1", "missing_user_id", "user_id"),
    4: ("u2,click_ad,2024-03-01 10:00:00,i1,10.0,1", "unknown_event_type", "event_type"),
    5: ("u2,,2024-03-01 10:00:00,i1,10.0,1", "missing_event_type", "event_type"),
    6: ("u2,view,,i1,10.0,1", "missing_ts", "ts"),
    7: ("u2,view,2024-13-45 99:00:00,i1,10.0,1", "unparseable_ts", "ts"),
    8: ("u2,view,yesterday,i1,10.0,1", "unparseable_ts", "ts"),
    9: ("u2,view,1970-01-02 00:00:00,i1,10.0,1", "ts_out_of_range", "ts"),
    10: ("u2,view,2999-01-01 00:00:00,i1,10.0,1", "ts_out_of_range", "ts"),
    11: ("u2,purchase,2024-03-01 10:00:00,i1,12元,1", "non_numeric_price", "price"),
    12: ("u2,purchase,2024-03-01 10:00:00,i1,-5,1", "negative_price", "price"),
    13: ("u2,purchase,2024-03-01 10:00:00,i1,5,two", "non_numeric_quantity", "quantity"),
    14: ("u2,purchase,2024-03-01 10:00:00,i1,5,-1", "negative_quantity", "quantity"),
    15: ("u2,purchase,2024-03-01 10:00:00", "malformed_row", None),
}
HEADER = "user_id,event_type,ts,item_id,price,quantity"


def write_events(path: Path) -> Path:
    lines = [HEADER, GOOD]
    for n in sorted(BAD):
        assert len(lines) + 1 == n
        lines.append(BAD[n][0])
    lines += ["u3,fav,2024-03-02 11:00:00,i2,,", GOOD]  # line 16 good, line 17 repeats line 2
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_every_rejection_reason_names_file_line_and_column(ws: Workspace, tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.csv")
    report = ingest_file(ws, "events", path)
    assert report.rows_read == 16
    assert (report.accepted, report.quarantined, report.duplicates) == (2, len(BAD), 1)
    assert report.rows_read == report.accepted + report.quarantined + report.duplicates
    got = {line: (reason, column) for line, reason, column in ws.store.query_rows(
        "SELECT line, reason, column_name FROM quarantine WHERE file = ?", [str(path.resolve())])}
    assert got == {n: (reason, column) for n, (_, reason, column) in BAD.items()}
    # the raw row is kept, so a fixed file can be produced from the quarantine
    raw = ws.store.scalar("SELECT raw FROM quarantine WHERE line = 11")
    assert json.loads(raw)["price"] == "12元"
    assert ws.store.scalar("SELECT raw FROM quarantine WHERE line = 15") == "u2,purchase,2024-03-01 10:00:00"
    assert ws.store.query_rows("SELECT user_id, line FROM events ORDER BY line") == [("u1", 2), ("u3", 16)]


def test_reingesting_adds_nothing(ws: Workspace, tmp_path: Path) -> None:
    path = write_events(tmp_path / "events.csv")
    first = ingest_file(ws, "events", path)
    assert first.quarantined > 0 and first.accepted > 0
    before = [ws.store.scalar(f"SELECT count(*) FROM {t}") for t in ("events", "quarantine")]
    again = ingest_file(ws, "events", path)
    # not read again: the stored rows are duplicates, the quarantined ones still quarantined
    assert (again.rows_read, again.accepted, again.quarantined, again.duplicates) == (
        16, 0, first.quarantined, first.accepted + first.duplicates)
    assert again.by_reason == first.by_reason and not again.nothing_accepted
    # the same content under another name is the same file
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    third = ingest_file(ws, "events", copy)
    assert (third.accepted, third.quarantined, third.duplicates) == (0, again.quarantined, again.duplicates)
    assert [ws.store.scalar(f"SELECT count(*) FROM {t}") for t in ("events", "quarantine")] == before


def test_new_files_append_and_overlaps_are_duplicates(ws: Workspace, tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text(f"{HEADER}\nu1,view,2024-03-01 10:00:00,i1,,\nu1,view,2024-03-01 11:00:00,i1,,\n")
    b = tmp_path / "b.csv"  # overlaps a by one event, adds one
    b.write_text(f"{HEADER}\nu1,view,2024-03-01 11:00:00,i1,,\nu1,cart,2024-03-01 11:01:00,i1,,\n")
    ingest_file(ws, "events", a)
    r = ingest_file(ws, "events", b)
    assert (r.accepted, r.duplicates) == (1, 1)
    assert ws.store.scalar("SELECT count(*) FROM events") == 3


def test_missing_required_column_fails_before_writing(ws: Workspace, tmp_path: Path) -> None:
    good = tmp_path / "a_good.csv"
    good.write_text(f"{HEADER}\n{GOOD}\n")
    bad = tmp_path / "b_bad.csv"
    bad.write_text("user,event_type,ts\nu1,view,2024-03-01 10:00:00\n")
    with pytest.raises(MissingColumnsError, match=r"b_bad\.csv.*user_id.*user, event_type, ts"):
        ingest_file(ws, "events", tmp_path)  # the folder: the good file must not be written either
    assert ws.store.scalar("SELECT count(*) FROM events") == 0
    assert ws.store.scalar("SELECT count(*) FROM sources") == 0


def test_event_id_identity(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    # same event id twice (a re-sent event with a corrected price) is one event
    path.write_text("event_id,user_id,event_type,ts,price\n"
                    "e1,u1,purchase,2024-03-01 10:00:00,5\ne1,u1,purchase,2024-03-01 10:00:00,6\n"
                    "e2,u1,purchase,2024-03-01 10:00:00,5\n")
    r = ingest_file(ws, "events", path)
    assert (r.accepted, r.duplicates) == (2, 1)


def test_guest_purchases_and_refund_rules(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text("InvoiceNo,CustomerID,InvoiceDate,UnitPrice,Quantity\n"
                    "1001,7,2024-03-01 10:00,2.5,4\n"
                    "C1002,7,2024-03-02 10:00,2.5,-2\n"
                    "1003,,2024-03-02 11:00,1.0,3\n")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nuser_id = "CustomerID"\norder_id = "InvoiceNo"\nts = "InvoiceDate"\n'
                       'price = "UnitPrice"\nquantity = "Quantity"\n[constants]\nevent_type = "purchase"\n'
                       '[rules]\nrefund_if_negative = true\nrefund_if_order_prefix = "C"\n'
                       'guest_if_missing_user = true\n')
    ingest_file(ws, "events", path, mapping=mapping)
    rows = ws.store.query_rows("SELECT user_id, event_type, quantity, amount FROM events ORDER BY line")
    assert rows == [("7", "purchase", 4.0, 10.0), ("7", "refund", 2.0, 5.0), (None, "purchase", 3.0, 3.0)]


def test_expressions_constants_and_vocabulary(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("uid,act,t,total,n\nu1,浏览,1709258400,,\nu1,下单,1709258500,30,3\nu1,退货,1709258600,10,1\n",
                    encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nuser_id = "uid"\nevent_type = "act"\nts = "t"\namount = "total"\n'
                       'quantity = "n"\n[expressions]\nprice = "try_cast(total AS DOUBLE) / try_cast(n AS DOUBLE)"\n'
                       '[constants]\nchannel = "app"\n[ts]\nunit = "s"\n', encoding="utf-8")
    ingest_file(ws, "events", path, mapping=mapping)
    rows = ws.store.query_rows("SELECT event_type, price, amount, channel FROM events ORDER BY ts")
    assert rows == [("view", None, None, "app"), ("purchase", 10.0, 30.0, "app"), ("refund", 10.0, 10.0, "app")]


def test_bad_mapping_is_a_config_error(ws: Workspace, tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('[event_types]\npv = "page"\n')
    with pytest.raises(ConfigError, match="unknown event types"):
        ingest_file(ws, "events", tmp_path / "x.csv", mapping=mapping)
    with pytest.raises(ConfigError, match="neither a file nor a preset"):
        ingest_file(ws, "events", tmp_path / "x.csv", mapping="taobaoo")
    # a type the canonical one starts, or one spelt nearly like it, gets a suggestion
    mapping.write_text('[event_types]\nfav = "favorite"\nbuy = "purchased"\nsrch = "serach"\npv = "page"\n')
    with pytest.raises(ConfigError) as err:
        ingest_file(ws, "events", tmp_path / "x.csv", mapping=mapping)
    assert ("did you mean 'favorite' -> 'fav', 'purchased' -> 'purchase', 'serach' -> 'search'?"
            in str(err.value))


def test_users_attributes_upsert_and_validation(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("user_id,gender,age,city,signup_date,member_level,province\n"
                    "u1,女,28,上海,2023-05-01,金卡,上海\n"
                    "u2,M,41,北京,2023/06/02,普通会员,北京\n"
                    "u3,male,200,广州,2023-07-01,银卡,广东\n"
                    "u4,女,30,深圳,2023-13-01,银卡,广东\n"
                    ",男,30,深圳,2023-01-01,银卡,广东\n", encoding="utf-8")
    r = ingest_file(ws, "users", path)
    assert (r.accepted, r.quarantined) == (2, 3)
    assert r.by_reason == {"invalid_age": 1, "unparseable_date": 1, "missing_user_id": 1}
    rows = ws.store.query_rows("SELECT user_id, gender, age, city, signup_date::VARCHAR, member_level, "
                               "attributes->>'province' FROM users ORDER BY user_id")
    assert rows == [("u1", "female", 28, "上海", "2023-05-01", "金卡", "上海"),
                    ("u2", "male", 41, "北京", "2023-06-02", "普通会员", "北京")]
    # a later file changes one user and repeats the other: one update, one duplicate
    later = tmp_path / "users2.csv"
    later.write_text("user_id,gender,age,city,signup_date,member_level,province\n"
                     "u1,女,29,上海,2023-05-01,钻石,上海\nu2,M,41,北京,2023/06/02,普通会员,北京\n",
                     encoding="utf-8")
    r2 = ingest_file(ws, "users", later)
    assert (r2.accepted, r2.duplicates) == (1, 1)
    assert ws.store.query_rows("SELECT age, member_level FROM users WHERE user_id = 'u1'") == [(29, "钻石")]


def test_items(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("item_id,category,brand,price,colour\ni1,服装,优衣库,199,红\ni2,美妆,,abc,\n",
                    encoding="utf-8")
    r = ingest_file(ws, "items", path)
    assert (r.accepted, r.by_reason) == (1, {"non_numeric_price": 1})
    assert ws.store.query_rows("SELECT item_id, category, brand, price, attributes->>'colour' FROM items") == [
        ("i1", "服装", "优衣库", 199.0, "红")]


def test_amount_reasons(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("user_id,event_type,ts,amount\n"
                    "u1,purchase,2024-03-01 10:00:00,30\n"
                    "u1,purchase,2024-03-01 10:01:00,三十\n"
                    "u1,purchase,2024-03-01 10:02:00,-5\n", encoding="utf-8")
    r = ingest_file(ws, "events", path)
    assert (r.accepted, r.quarantined) == (1, 2)
    assert ws.store.query_rows("SELECT line, column_name, reason, value FROM quarantine ORDER BY line") == [
        (3, "amount", "non_numeric_amount", "三十"), (4, "amount", "negative_amount", "-5")]
