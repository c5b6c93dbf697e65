"""Reading from the shop's database: ``segmark ingest events|users|items URL --query SQL | --table NAME``
against a real PostgreSQL and a real MariaDB started for the session (``servers.py``).

Expected values are written out from the rows the test inserts: timestamps with offsets converted
by hand to UTC, decimals as written, Chinese text byte for byte, NULLs as NULLs; quarantined rows
by their row number in the result.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import segmark as sm
from segmark.cli import app
from segmark.errors import ConfigError, InputError, MissingColumnsError
from segmark.ingest.database import parse_url, table_query
from segmark.workspace import Workspace, init_workspace, open_workspace

from .servers import PASSWORD, Server, admin, mariadb_server, postgres_server

MAPPING = """\
[columns]
user_id = "buyer"
event_type = "action"
ts = "happened"
item_id = "goods"
quantity = "qty"
order_id = "order_no"

[event_types]
"下单" = "purchase"
"浏览" = "view"
"""

ORDERS = [
    # id, buyer, action, happened (as the shop wrote it), goods, category, price, qty, order_no
    (1, "用户甲", "下单", "2024-03-01 10:00:00+08", "连衣裙-01", "女装", "1299.00", 1, "SO-1"),
    (2, "用户乙", "浏览", "2024-03-01 23:30:00-05", "T恤", "男装", None, None, None),
    (3, None, "下单", "2024-03-02 09:15:00+00", "袜子", "配件", "9.90", 3, "SO-2"),
    (4, "用户甲", "退款了", "2024-03-03 12:00:00+08", "连衣裙-01", "女装", "1299.00", 1, "SO-1"),
    (5, "u'5\"; DROP TABLE x;--", "下单", "2024-03-04 00:00:00.123456+05:30", "帽子", None, "0.01", 2, "SO-3"),
]
ACCEPTED = [
    # user_id, event_type, ts in UTC (by hand), item_id, category, price, quantity, amount, order_id, line
    ("用户甲", "purchase", datetime(2024, 3, 1, 2, 0), "连衣裙-01", "女装", 1299.0, 1.0, 1299.0, "SO-1", 1),
    ("用户乙", "view", datetime(2024, 3, 2, 4, 30), "T恤", "男装", None, None, None, None, 2),
    ("u'5\"; DROP TABLE x;--", "purchase", datetime(2024, 3, 3, 18, 30, 0, 123456), "帽子", None, 0.01, 2.0,
     0.02, "SO-3", 5),
]


@pytest.fixture(scope="module")
def pg() -> Iterator[Server]:
    with postgres_server() as server:
        admin(server, "CREATE TABLE orders (id integer PRIMARY KEY, buyer text, action text, happened timestamptz, "
                      "goods text, category text, price numeric(12, 2), qty integer, order_no varchar(20))")
        values = ", ".join(
            "(" + ", ".join("NULL" if v is None else str(v) if isinstance(v, int) else "'" + v.replace("'", "''") + "'"
                            for v in row) + ")" for row in ORDERS)
        admin(server, f"INSERT INTO orders VALUES {values}")
        admin(server, "CREATE TABLE customers (id text, city text, signup date, level numeric, vip boolean, "
                      "referrer uuid, tags text[])")
        admin(server, "INSERT INTO customers VALUES "
                      "('用户甲', '上海', '2023-05-01', 3, true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
                      "ARRAY['新客', 'vip']), "
                      "('用户乙', NULL, NULL, NULL, NULL, NULL, NULL), "
                      "('  ', '北京', '2023-01-01', 1, false, NULL, NULL)")
        yield server


def segmark(*args: str) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, as a scheduled job runs it."""
    return subprocess.run([sys.executable, "-m", "segmark.cli", *args], capture_output=True, text=True,
                          timeout=300, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


@dataclass
class Said:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str, env: dict[str, str] | None = None) -> Said:
    """The command in this process (the real CLI, without a second interpreter's start-up)."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Said(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "orders.toml"
    path.write_text(MAPPING, encoding="utf-8")
    return path


EVENT_COLUMNS = "user_id, event_type, ts, item_id, category, price, quantity, amount, order_id, line"


def test_events_from_a_postgresql_query_are_exact(pg: Server, tmp_path: Path, mapping: Path) -> None:
    root = init_workspace(tmp_path / "shop")
    query = "SELECT * FROM orders ORDER BY id"
    out = segmark("ingest", "events", pg.url(), "--query", query, "--mapping", str(mapping), "-w", str(root),
                  "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert (report["rows_read"], report["accepted"], report["quarantined"], report["duplicates"]) == (5, 3, 2, 0)
    assert report["quarantined_by_reason"] == {"missing_user_id": 1, "unknown_event_type": 1}
    label = f"postgresql://shop_reader@127.0.0.1:{pg.port}/shop query {query}"
    assert report["files"][0]["path"] == label and report["files"][0]["format"] == "postgresql"
    with open_workspace(root) as ws:
        assert ws.store.query_rows(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY line") == ACCEPTED
        # the line of a quarantined row is its row number in the result
        assert ws.store.query_rows("SELECT file, line, column_name, reason, value FROM quarantine ORDER BY line") == [
            (label, 3, "user_id", "missing_user_id", None), (label, 4, "event_type", "unknown_event_type", "退款了")]
    # the same query again: every row a duplicate, nothing added, nothing quarantined anew
    again = cli("ingest", "events", pg.url(), "--query", query, "--mapping", str(mapping), "-w", str(root), "--json")
    assert again.returncode == 0, again.stderr
    r = json.loads(again.stdout)
    assert (r["rows_read"], r["accepted"], r["quarantined"], r["duplicates"]) == (5, 0, 0, 5)
    with open_workspace(root) as ws:
        assert ws.store.scalar("SELECT count(*) FROM events") == 3
        assert ws.store.scalar("SELECT count(*) FROM quarantine") == 2


def test_users_from_a_postgresql_table_keep_chinese_nulls_and_extra_columns(pg: Server, ws: Workspace) -> None:
    r = sm.ingest_query(ws, "users", pg.url(), source_table="public.customers",
                        mapping=_mapping(ws, '[columns]\nuser_id = "id"\nsignup_date = "signup"\n'
                                             'member_level = "level"\n'))
    assert (r.rows_read, r.accepted, r.quarantined) == (3, 2, 1)
    assert r.by_reason == {"missing_user_id": 1}  # a blank id is no user
    rows = ws.store.query_rows("SELECT user_id, city, signup_date, member_level, attributes, line FROM users "
                               "ORDER BY line")
    assert [(*row[:4], row[5]) for row in rows] == [("用户甲", "上海", date(2023, 5, 1), "3", 1),
                                                     ("用户乙", None, None, None, 2)]
    assert json.loads(rows[0][4]) == {"vip": True, "referrer": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                                      "tags": ["新客", "vip"]}
    assert json.loads(rows[1][4]) == {"vip": None, "referrer": None, "tags": None}


def _mapping(ws: Workspace, text: str) -> Path:
    assert ws.root is not None
    path = ws.root / "m.toml"
    path.write_text(text, encoding="utf-8")
    return path


def reopen(ws: Workspace, settings: str) -> Workspace:
    """The workspace with other settings (``segmark.toml``)."""
    assert ws.root is not None
    (ws.root / "segmark.toml").write_text(settings, encoding="utf-8")
    ws.close()
    return open_workspace(ws.root)


def test_a_large_result_streams_in_batches_with_exact_row_numbers(pg: Server, ws: Workspace) -> None:
    ws = reopen(ws, "[ingest]\nchunk_mb = 1\n")  # many record batches
    admin(pg, "CREATE TABLE clicks AS SELECT 'u' || (g % 997) AS user_id, "
              "CASE WHEN g = 77777 THEN 'teleport' ELSE 'view' END AS event_type, "
              "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' AS ts, "
              "CASE WHEN g = 123456 THEN NULL ELSE 'i' || g END AS item_id FROM generate_series(1, 150000) AS g")
    seen: list[int] = []
    r = sm.ingest_query(ws, "events", pg.url(), "SELECT * FROM clicks ORDER BY ts",
                        progress=lambda name, done, total: seen.append(done))
    assert (r.rows_read, r.accepted, r.quarantined, r.duplicates) == (150_000, 149_999, 1, 0)
    assert len(seen) > 3 and seen[-1] == 150_000  # streamed, not read at once
    assert ws.store.query_rows("SELECT line, reason, value FROM quarantine") == [(77777, "unknown_event_type",
                                                                                  "teleport")]
    # row n of the result is line n: its second is n, its item i<n> (or NULL)
    assert ws.store.scalar("SELECT count(*) FROM events WHERE line <> epoch(ts) - epoch(TIMESTAMP '2024-01-01') "
                           "OR coalesce(item_id, '') <> CASE WHEN line = 123456 THEN '' ELSE 'i' || line END") == 0


def test_the_password_never_lands_anywhere(pg: Server, tmp_path: Path, mapping: Path) -> None:
    root = init_workspace(tmp_path / "shop")
    outputs = []
    for args in (
        ["--query", "SELECT * FROM orders", "--mapping", str(mapping)],             # accepted and quarantined
        ["--query", "SELECT * FROM no_such_table"],                                  # the query fails
        ["--table", "orders"],                                                       # required columns missing
        ["--query", "SELECT buyer AS user_id, action AS event_type, happened AS ts, 1 / (id - id) AS price "
                    "FROM orders"],                                                  # fails while streaming
    ):
        out = cli("ingest", "events", pg.url(), *args, "-w", str(root))
        outputs.append(out)
        assert PASSWORD not in out.stdout + out.stderr
    assert outputs[0].returncode == 0, outputs[0].stderr
    assert "add it to the mapping's [event_types]" in outputs[0].stdout  # a reason's text is not markup
    assert all(o.returncode != 0 for o in outputs[1:])
    assert 'relation "no_such_table" does not exist' in outputs[1].stderr
    assert f"postgresql://shop_reader@127.0.0.1:{pg.port}/shop" in outputs[1].stderr
    assert "required column(s) missing" in outputs[2].stderr
    assert "division by zero" in outputs[3].stderr
    bad = cli("ingest", "events", pg.url().replace("Pw-", "Wrong-"), "--table", "orders", "-w", str(root))
    assert bad.returncode != 0 and "password authentication failed" in bad.stderr
    assert "Wrong-" not in bad.stdout + bad.stderr
    with open_workspace(root) as ws:
        runs = ws.store.query_rows("SELECT status, params, message FROM runs WHERE step = 'ingest' ORDER BY run_id")
        # a query that fails, or lacks columns, fails before the run begins; one failing while read is a failed run
        assert [s for s, _, _ in runs] == ["ok", "failed"]
        assert "division by zero" in runs[1][2]
        for table in ("runs", "sources", "quarantine"):
            text = json.dumps(ws.store.query_rows(f"SELECT * FROM {table}"), default=str, ensure_ascii=False)
            assert PASSWORD not in text and "Pw-9f3c" not in text
    encoded = pg.url().split(":")[2].split("@")[0]  # the password as the URL spells it
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PASSWORD.encode() not in data and encoded.encode() not in data, path


def test_the_connection_is_read_only(pg: Server, ws: Workspace) -> None:
    admin(pg, "CREATE TABLE precious (n integer)")
    admin(pg, "INSERT INTO precious VALUES (1), (2)")
    admin(pg, "GRANT ALL ON precious TO shop_reader")  # even a user allowed to write cannot through segmark
    with pytest.raises(InputError, match="read-only transaction"):
        sm.ingest_query(ws, "events", pg.url(), "DELETE FROM precious RETURNING n AS user_id")
    admin(pg, "REVOKE ALL ON precious FROM shop_reader")
    assert ws.store.scalar("SELECT count(*) FROM runs WHERE status = 'ok'") == 0


def test_url_mistakes_are_clear(pg: Server, ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="exactly one of --query SQL or --table NAME"):
        sm.ingest_query(ws, "events", pg.url())
    with pytest.raises(InputError, match=r"repeated column names \['user_id'\]"):
        sm.ingest_query(ws, "events", pg.url(), "SELECT buyer AS user_id, goods AS user_id FROM orders")
    with pytest.raises(MissingColumnsError, match="nothing was written"):
        sm.ingest_query(ws, "events", pg.url(), source_table="orders")
    assert ws.store.scalar("SELECT count(*) FROM events") == 0
    out = cli("ingest", "events", "orders.csv", "--query", "SELECT 1", "-w", str(init_workspace(ws.root / "w")))
    assert out.returncode == 2 and "--query and --table go with a database URL" in out.stderr


def test_passwords_in_urls_are_redacted() -> None:
    url = parse_url("postgresql://ana:p%40ss%3Aword@db.example:6432/shop?sslmode=require&password=other")
    assert url.redacted == "postgresql://ana@db.example:6432/shop?sslmode=require&password=%2A%2A%2A"
    assert url.password == "p@ss:word"
    message = url.scrub("FATAL: user ana with p@ss:word or p%40ss%3Aword or other failed")
    assert "p@ss" not in message and "other" not in message and "p%40ss" not in message
    assert parse_url("mysql://root@localhost/shop").redacted == "mysql://root@localhost/shop"


def test_a_password_from_the_environment_is_never_shown(pg: Server, tmp_path: Path, mapping: Path) -> None:
    root = init_workspace(tmp_path / "shop")
    out = cli("ingest", "events", pg.url(password=False), "--query", "SELECT * FROM orders ORDER BY id",
                  "--mapping", str(mapping), "-w", str(root), env={"PGPASSWORD": PASSWORD})
    assert out.returncode == 0, out.stderr
    assert "3" in out.stdout and PASSWORD not in out.stdout + out.stderr


# -- MySQL (MariaDB) ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mysql() -> Iterator[Server]:
    with mariadb_server() as server:
        admin(server, "CREATE TABLE orders (id int PRIMARY KEY, buyer varchar(64), action varchar(16), "
                      "paid_at timestamp NULL, placed datetime(6), goods varchar(32), category varchar(16), "
                      "price decimal(12, 2), qty bigint unsigned, order_no varchar(20), note blob)")
        admin(server, "SET time_zone = '+00:00';\n"
                      "INSERT INTO orders VALUES "
                      "(1, '用户甲', '下单', '2024-03-01 02:00:00', '2024-03-01 10:00:00', '连衣裙-01', '女装', "
                      "1299.00, 1, 'SO-1', NULL), "
                      "(2, '用户乙', '浏览', NULL, '2024-03-02 12:30:00.250000', 'T恤', NULL, NULL, NULL, NULL, 'x'), "
                      "(3, NULL, '下单', NULL, '2024-03-02 09:15:00', '袜子', '配件', 9.90, 3, 'SO-2', NULL), "
                      "(4, '😀', '下单', NULL, '2024-03-04 00:00:00', '帽子', NULL, 0.01, 18446744073709551615, "
                      "'SO-3', NULL)")
        yield server


def test_events_from_mysql_are_exact(mysql: Server, ws: Workspace) -> None:
    ws = reopen(ws, '[time]\ntimezone = "Asia/Shanghai"\n')  # DATETIME is the shop's local time
    m = _mapping(ws, MAPPING.replace('ts = "happened"', 'ts = "placed"'))
    r = sm.ingest_query(ws, "events", mysql.url(), "SELECT * FROM orders ORDER BY id", mapping=m)
    assert (r.rows_read, r.accepted, r.quarantined) == (4, 3, 1)
    assert r.by_reason == {"missing_user_id": 1}
    rows = ws.store.query_rows(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY line")
    assert rows == [  # local Shanghai times (UTC+8) by hand; an unsigned BIGINT past 2^63 read as written
        ("用户甲", "purchase", datetime(2024, 3, 1, 2, 0), "连衣裙-01", "女装", 1299.0, 1.0, 1299.0, "SO-1", 1),
        ("用户乙", "view", datetime(2024, 3, 2, 4, 30, 0, 250000), "T恤", None, None, None, None, None, 2),
        ("😀", "purchase", datetime(2024, 3, 3, 16, 0), "帽子", None, 0.01, 18446744073709551615.0,
         0.01 * 18446744073709551615.0, "SO-3", 4),
    ]


def test_mysql_timestamps_are_instants_and_the_password_is_hidden(mysql: Server, ws: Workspace) -> None:
    m = _mapping(ws, MAPPING.replace('ts = "happened"', 'ts = "paid_at"'))
    r = sm.ingest_query(ws, "events", mysql.url(), "SELECT * FROM orders WHERE id = 1", mapping=m)
    assert r.accepted == 1
    # TIMESTAMP is an instant: 02:00 UTC whatever the shop's zone
    assert ws.store.scalar("SELECT ts FROM events") == datetime(2024, 3, 1, 2, 0)
    with pytest.raises(InputError) as err:
        sm.ingest_query(ws, "events", mysql.url(), "SELECT * FROM nowhere", mapping=m)
    assert "nowhere" in str(err.value) and PASSWORD not in str(err.value)
    assert f"mysql://shop_reader@127.0.0.1:{mysql.port}/shop" in str(err.value)
    admin(mysql, "GRANT ALL ON shop.orders TO 'shop_reader'@'%'")  # a user allowed to write, still cannot
    try:
        with pytest.raises(InputError, match="READ ONLY"):
            sm.ingest_query(ws, "events", mysql.url(), "DELETE FROM orders", mapping=m)
    finally:
        admin(mysql, "REVOKE ALL ON shop.orders FROM 'shop_reader'@'%';\n"
                     "GRANT SELECT ON shop.* TO 'shop_reader'@'%'")
    out = cli("ingest", "events", mysql.url(password=False), "--query", "SELECT * FROM orders WHERE id = 1",
                  "--mapping", str(m), "-w", str(init_workspace(ws.root / "w2")), env={"MYSQL_PWD": PASSWORD})
    assert out.returncode == 0 and PASSWORD not in out.stdout + out.stderr


def test_status_while_an_ingest_holds_the_workspace_then_ctrl_c(pg: Server, tmp_path: Path, mapping: Path) -> None:
    """A real ingest in another process holds the workspace (its query waits on the server):
    ``status`` shows the last finished state and who holds it, password redacted. Ctrl-C then
    stops the ingest (exit 130) and leaves the store as it was, with the attempt recorded."""
    root = init_workspace(tmp_path / "shop")
    first = cli("ingest", "events", pg.url(), "--query", "SELECT * FROM orders WHERE id <= 2", "--mapping",
                str(mapping), "-w", str(root))
    assert first.returncode == 0, first.stderr
    slow = ("WITH pause AS MATERIALIZED (SELECT 1 FROM pg_sleep(60)) "
            "SELECT o.* FROM orders o CROSS JOIN pause ORDER BY o.id")
    ingest = subprocess.Popen([sys.executable, "-m", "segmark.cli", "ingest", "events", pg.url(), "--query", slow,
                               "--mapping", str(mapping), "-w", str(root)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            busy = cli("status", "-w", str(root), "--json")
            if busy.returncode == 0 and json.loads(busy.stdout).get("busy"):
                break
            assert ingest.poll() is None, "the ingest ended before status saw it hold the workspace"
            assert time.monotonic() < deadline
            time.sleep(0.2)
        view = json.loads(busy.stdout)
        assert view["holder"]["pid"] == ingest.pid
        assert view["holder"]["command"].startswith(
            f"segmark ingest events postgresql://shop_reader@127.0.0.1:{pg.port}/shop --query WITH pause")
        assert PASSWORD not in busy.stdout and "Pw-9f3c" not in busy.stdout
        assert view["snapshot"]["tables"]["events"] == 2  # the last finished state: the first ingest
        assert view["snapshot"]["runs"][0]["status"] == "ok"
        table = cli("status", "-w", str(root))
        assert table.returncode == 0 and f"in use by process {ingest.pid}" in table.stderr
        assert "last finished state" in table.stderr and PASSWORD not in table.stdout + table.stderr
        rows = cli("status", "-w", str(root), "--quarantine")
        assert rows.returncode == 1 and "quarantined rows can be listed when it finishes" in rows.stderr
        time.sleep(0.5)  # the query is waiting on the server by now
        ingest.send_signal(signal.SIGINT)
        _, err = ingest.communicate(timeout=30)
    finally:
        if ingest.poll() is None:
            ingest.kill()
    assert ingest.returncode == 130, err
    assert "interrupted" in err and PASSWORD not in err
    after = json.loads(cli("status", "-w", str(root), "--json").stdout)
    assert "busy" not in after and after["tables"]["events"] == 2 and after["tables"]["quarantine"] == 0
    assert after["runs"][0]["status"] == "failed" and "interrupted" in after["runs"][0]["message"]


def test_table_names_are_quoted_for_their_engine() -> None:
    assert table_query("postgresql", 'crm.Kunden "alt"') == 'SELECT * FROM "crm"."Kunden ""alt"""'
    assert table_query("mysql", "shop.order`s") == "SELECT * FROM `shop`.`order``s`"
    with pytest.raises(ConfigError, match="give a table name"):
        table_query("postgresql", "a..b")


def test_a_mysql_table_by_name(mysql: Server, ws: Workspace) -> None:
    r = sm.ingest_query(ws, "events", mysql.url(), source_table="shop.orders",
                        mapping=_mapping(ws, MAPPING.replace('ts = "happened"', 'ts = "placed"')))
    assert (r.rows_read, r.accepted, r.quarantined) == (4, 3, 1)
    label = f"mysql://shop_reader@127.0.0.1:{mysql.port}/shop table shop.orders"
    assert ws.store.scalar("SELECT path FROM sources") == label
