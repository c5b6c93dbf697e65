"""The engine contract: store behaviour every engine must show, as one test class.

An engine's test module subclasses :class:`StoreContract` and provides the ``store`` fixture (a
fresh, migrated store); every test here then runs against it (Ibis's shared backend tests and
implicit's contract mixins are the model). The values checked are worked out by hand in each test.
SQL written here is shared SQL (DuckDB dialect, portable to Spark SQL), like the steps'.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from segmark.errors import StoreError, UnsupportedError
from segmark.store.base import Capability, Store, require, utc_now
from segmark.store.dialect import portability_problems

CHINESE = ["高价值用户", "青年", "O'Brien; DROP TABLE t --", "表情 🛒", ""]
"""Text that must come back byte for byte: Chinese, a quote that would break pasted SQL, an emoji, empty."""


class InjectedFailure(Exception):
    """Raised on purpose inside an atomic block."""


def _sql(sql: str) -> str:
    """Shared SQL only: a statement the contract issues must itself be portable."""
    assert portability_problems(sql) == [], sql
    return sql


class StoreContract:
    """Subclass and provide a ``store`` fixture."""

    @pytest.fixture
    def store(self) -> Store:  # pragma: no cover - every engine's module overrides it
        raise NotImplementedError

    # -- the protocol itself --------------------------------------------------------------------

    def test_implements_the_protocol(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert store.name and store.dialect
        assert set(store.capabilities) <= set(Capability)
        assert store.schema_version() >= 6

    def test_a_missing_capability_is_named(self, store: Store) -> None:
        lacking = [c for c in Capability if c not in store.capabilities]
        for capability in lacking:
            with pytest.raises(UnsupportedError, match=f"the {store.name} engine cannot do it"):
                require(store, capability, "do it")
        for capability in store.capabilities:
            require(store, capability, "do it")  # declared: no error

    def test_bad_sql_is_a_store_error(self, store: Store) -> None:
        with pytest.raises(StoreError):
            store.query_rows("SELECT no_such_column FROM runs")

    # -- tables -----------------------------------------------------------------------------------

    def test_create_table_as_counts_rows_and_tables_are_described(self, store: Store) -> None:
        assert not store.table_exists("contract_t")
        assert store.table_columns("contract_t") == []
        n = store.create_table_as("contract_t", _sql("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y'"))
        assert n == 2
        assert store.table_exists("contract_t")
        assert store.table_columns("contract_t") == ["a", "b"]
        with pytest.raises(StoreError):
            store.create_table_as("contract_t", "SELECT 3 AS a, 'z' AS b")  # exists, and no replace
        assert store.create_table_as("contract_t", "SELECT 3 AS a, 'z' AS b", replace=True) == 1
        assert store.query_rows("SELECT a, b FROM contract_t") == [(3, "z")]
        store.drop_table("contract_t")
        store.drop_table("contract_t")  # dropping what is not there is no error
        assert not store.table_exists("contract_t")

    def test_parameters_are_bound_never_pasted(self, store: Store) -> None:
        store.create_table_as("contract_p", _sql("SELECT 1 AS id, 'a' AS name"))
        for text in CHINESE:
            assert store.scalar("SELECT count(*) FROM contract_p WHERE name = ?", [text]) == 0
            assert store.scalar("SELECT ? AS v", [text]) == text
        assert store.table_exists("contract_p")  # the quote did not end the statement

    def test_read_frame_and_arrow_with_columns_where_and_order(self, store: Store) -> None:
        store.execute(_sql("CREATE TABLE contract_r (id INTEGER, grp VARCHAR, v DOUBLE)"))
        store.insert("contract_r", pd.DataFrame({"id": [3, 1, 2], "grp": ["a", "b", "a"], "v": [0.5, 1.5, 2.5]}))
        df = store.read_frame("contract_r", columns=["id", "v"], where={"grp": "a"}, order_by=["id"])
        assert df.to_dict("list") == {"id": [2, 3], "v": [2.5, 0.5]}
        table = store.read_arrow("contract_r", order_by=["id"])
        assert table.column("id").to_pylist() == [1, 2, 3]
        assert store.query_arrow("SELECT sum(v) AS s FROM contract_r").to_pylist() == [{"s": 4.5}]

    # -- writing frames -----------------------------------------------------------------------------

    def test_insert_matches_columns_by_name_and_defaults_the_rest(self, store: Store) -> None:
        store.execute(_sql("CREATE TABLE contract_i (id INTEGER, name VARCHAR, note VARCHAR)"))
        assert store.insert("contract_i", pd.DataFrame({"name": ["b", "a"], "id": [2, 1]})) == 2
        assert store.insert("contract_i", pa.table({"id": [3], "note": ["arrow"]})) == 1
        assert store.insert("contract_i", pd.DataFrame({"id": pd.Series([], dtype="int64")})) == 0
        assert store.query_rows("SELECT id, name, note FROM contract_i ORDER BY id") == [
            (1, "a", None), (2, "b", None), (3, None, "arrow")]

    def test_upsert_replaces_rows_with_the_same_key(self, store: Store) -> None:
        store.execute(_sql("CREATE TABLE contract_u (shop VARCHAR, id INTEGER, v VARCHAR)"))
        store.insert("contract_u", pd.DataFrame({"shop": ["s", "s", "t"], "id": [1, 2, 1], "v": ["a", "b", "c"]}))
        n = store.upsert("contract_u", pd.DataFrame({"shop": ["s", "s"], "id": [2, 3], "v": ["B", "D"]}),
                         key=["shop", "id"])
        assert n == 2
        assert store.query_rows("SELECT shop, id, v FROM contract_u ORDER BY shop, id") == [
            ("s", 1, "a"), ("s", 2, "B"), ("s", 3, "D"), ("t", 1, "c")]
        with pytest.raises(ValueError, match="key"):
            store.upsert("contract_u", pd.DataFrame({"shop": ["s"]}), key=[])

    def test_delete_keys_matches_every_key_column_nulls_included(self, store: Store) -> None:
        store.execute(_sql("CREATE TABLE contract_d (seg INTEGER, user_id VARCHAR, v INTEGER)"))
        store.insert("contract_d", pd.DataFrame({"seg": [1, 1, 1, 2, 2], "user_id": ["u1", "u2", None, "u1", "u3"],
                                                 "v": [1, 2, 3, 4, 5]}))
        # u1 is in both segmentations: only segmentation 1's row goes
        n = store.delete_keys("contract_d", pd.DataFrame({"user_id": ["u1", None, "nobody"]}), where={"seg": 1})
        assert n == 2
        assert store.query_rows("SELECT seg, user_id, v FROM contract_d ORDER BY v") == [
            (1, "u2", 2), (2, "u1", 4), (2, "u3", 5)]
        keys = pa.table({"seg": pa.array([2], pa.int64()), "user_id": ["u3"]})
        assert store.delete_keys("contract_d", keys) == 1
        assert store.delete_keys("contract_d", pd.DataFrame({"user_id": pd.Series([], dtype=object)})) == 0
        assert store.scalar("SELECT count(*) FROM contract_d") == 2

    # -- all or nothing -----------------------------------------------------------------------------

    def _two_tables(self, store: Store) -> None:
        store.create_table_as("contract_pub", "SELECT 1 AS version")
        store.execute("CREATE TABLE contract_log (n INTEGER)")

    def _state(self, store: Store) -> tuple[list[tuple], list[tuple]]:
        return (store.query_rows("SELECT version FROM contract_pub"),
                store.query_rows("SELECT n FROM contract_log ORDER BY n"))

    @pytest.mark.parametrize("failure", [InjectedFailure("injected"), KeyboardInterrupt()])
    def test_atomic_publish_undone_by_an_injected_failure(self, store: Store, failure: BaseException) -> None:
        self._two_tables(store)
        with pytest.raises(type(failure)), store.atomic():
            assert store.publish_table("contract_pub", "SELECT 2 AS version UNION ALL SELECT 3") == 2
            store.insert("contract_log", pd.DataFrame({"n": [1, 2]}))
            store.create_table_as("contract_new", "SELECT 1 AS a")
            assert store.query_rows("SELECT count(*) FROM contract_pub") == [(2,)]  # visible inside
            raise failure
        assert self._state(store) == ([(1,)], [])
        assert not store.table_exists("contract_new")

    def test_a_failing_publish_keeps_the_old_table(self, store: Store) -> None:
        self._two_tables(store)
        with pytest.raises(StoreError):
            store.publish_table("contract_pub", "SELECT version / 0 AS version, no_such FROM contract_pub")
        assert self._state(store) == ([(1,)], [])
        assert store.publish_table("contract_pub", "SELECT 5 AS version") == 1
        assert self._state(store) == ([(5,)], [])

    def test_atomic_blocks_nest_into_the_outer_one(self, store: Store) -> None:
        self._two_tables(store)
        with pytest.raises(InjectedFailure), store.atomic():
            with store.atomic():
                store.insert("contract_log", pd.DataFrame({"n": [1]}))
            store.insert("contract_log", pd.DataFrame({"n": [2]}))
            raise InjectedFailure
        assert self._state(store) == ([(1,)], [])  # the inner block was undone with the outer
        with store.atomic(), store.atomic():
            store.insert("contract_log", pd.DataFrame({"n": [7]}))
        assert self._state(store) == ([(1,)], [(7,)])

    # -- runs ---------------------------------------------------------------------------------------

    def test_run_ids_increase_and_sequences_are_separate(self, store: Store) -> None:
        ids = [store.next_run_id() for _ in range(3)]
        assert ids == sorted(ids) and len(set(ids)) == 3
        source = store.next_id("source_id_seq")
        assert store.next_id("source_id_seq") == source + 1
        assert store.next_run_id() == ids[-1] + 1  # the other sequence did not move it
        with pytest.raises(ValueError):
            store.next_id("run_id_seq; DROP TABLE runs")

    def test_run_records_read_back_and_a_failed_one_outlives_the_rollback(self, store: Store) -> None:
        started = utc_now()
        ok, failed = store.next_run_id(), store.next_run_id()
        with store.atomic():
            store.record_run(ok, "contract step", "ok", started_at=started, as_of=datetime(2024, 3, 1),
                             params={"名称": "高价值用户", "k": 3}, metrics={"users": 10, "share": 0.25})
        with pytest.raises(InjectedFailure):
            try:
                with store.atomic():
                    store.create_table_as("contract_half", "SELECT 1 AS a")
                    raise InjectedFailure
            except InjectedFailure as exc:
                store.record_run(failed, "contract step", "failed", started_at=started, message=str(exc) or "boom")
                raise
        rows = store.query_rows("SELECT run_id, step, status, as_of, params, metrics, message, started_at, "
                                "finished_at FROM runs WHERE step = 'contract step' ORDER BY run_id")
        assert [(r[0], r[2]) for r in rows] == [(ok, "ok"), (failed, "failed")]
        assert rows[0][3] == datetime(2024, 3, 1)
        assert json.loads(rows[0][4]) == {"名称": "高价值用户", "k": 3}
        assert json.loads(rows[0][5]) == {"users": 10, "share": 0.25}
        assert rows[1][6] == "boom"
        assert all(r[7] == started and r[8] >= started for r in rows)
        assert not store.table_exists("contract_half")

    # -- exports ------------------------------------------------------------------------------------

    def _export_table(self, store: Store) -> str:
        store.execute(_sql("CREATE TABLE contract_x (id INTEGER, name VARCHAR, amount DECIMAL(18, 2))"))
        store.insert("contract_x", pd.DataFrame({"id": [2, 1, 3], "name": ["青年", "高价值用户", "a,b \"c\""],
                                                 "amount": [Decimal("1.50"), Decimal("-0.25"), None]}))
        return _sql("SELECT id, name, amount FROM contract_x WHERE id >= ? ORDER BY id")

    def test_export_csv_is_utf8_with_a_header(self, store: Store, tmp_path: Path) -> None:
        sql = self._export_table(store)
        out = store.export(sql, tmp_path / "x.csv", "csv", [1])
        assert out == tmp_path / "x.csv"
        lines = out.read_bytes().decode("utf-8").splitlines()
        assert lines[0] == "id,name,amount"
        assert lines[1:3] == ["1,高价值用户,-0.25", "2,青年,1.50"]
        back = pacsv.read_csv(out)
        assert back.column("name").to_pylist() == ["高价值用户", "青年", 'a,b "c"']

    def test_export_parquet_keeps_types(self, store: Store, tmp_path: Path) -> None:
        out = store.export(self._export_table(store), tmp_path / "x.parquet", "parquet", [2])
        back = pq.read_table(out)
        assert back.column("id").to_pylist() == [2, 3]
        assert back.column("name").to_pylist() == ["青年", 'a,b "c"']
        assert back.column("amount").to_pylist() == [Decimal("1.50"), None]

    def test_export_json_is_an_array_of_objects(self, store: Store, tmp_path: Path) -> None:
        out = store.export(self._export_table(store), tmp_path / "x.json", "json", [3])
        assert json.loads(out.read_text(encoding="utf-8")) == [{"id": 3, "name": 'a,b "c"', "amount": None}]

    # -- type round trips -----------------------------------------------------------------------------

    def test_chinese_text_round_trips(self, store: Store) -> None:
        store.execute(_sql("CREATE TABLE contract_zh (k INTEGER, \"名称\" VARCHAR)"))
        store.insert("contract_zh", pd.DataFrame({"k": range(len(CHINESE)), "名称": CHINESE}))
        assert store.read_frame("contract_zh", order_by=["k"])["名称"].tolist() == CHINESE
        assert store.read_arrow("contract_zh", order_by=["k"]).column("名称").to_pylist() == CHINESE
        assert store.scalar("SELECT k FROM contract_zh WHERE \"名称\" = ?", ["青年"]) == 1
        assert store.table_columns("contract_zh") == ["k", "名称"]

    def test_decimals_round_trip_exactly(self, store: Store) -> None:
        values = [Decimal("12345678901234.56"), Decimal("0.10"), Decimal("-0.01"), None]
        store.execute(_sql("CREATE TABLE contract_dec (k INTEGER, amount DECIMAL(18, 2))"))
        store.insert("contract_dec", pa.table({"k": range(4), "amount": pa.array(values, pa.decimal128(18, 2))}))
        assert [r[0] for r in store.query_rows("SELECT amount FROM contract_dec ORDER BY k")] == values
        assert store.read_arrow("contract_dec", order_by=["k"]).column("amount").to_pylist() == values
        # sums are exact too: 0.10 - 0.01 is 0.09, not 0.09000000000000001
        assert store.scalar("SELECT sum(amount) FROM contract_dec WHERE k > 0") == Decimal("0.09")
        frame = store.read_frame("contract_dec", order_by=["k"])["amount"]
        assert [float(v) for v in frame[:3]] == [12345678901234.56, 0.1, -0.01]

    def test_timestamps_are_utc(self, store: Store) -> None:
        """Stored timestamps are naive UTC: an aware one is converted, a naive one is taken as UTC."""
        store.execute(_sql("CREATE TABLE contract_ts (k INTEGER, ts TIMESTAMP)"))
        shanghai = pd.to_datetime(["2024-03-01 08:00:00", "2024-01-01 00:30:00"]).tz_localize("Asia/Shanghai")
        store.insert("contract_ts", pd.DataFrame({"k": [1, 2], "ts": shanghai}))
        store.insert("contract_ts", pa.table({"k": [3], "ts": pa.array([datetime(2024, 3, 1, 12)],
                                                                         pa.timestamp("us"))}))
        store.insert("contract_ts", pd.DataFrame({"k": [4], "ts": pd.to_datetime(["2024-06-01 23:59:59.123456"])
                                                  .tz_localize("UTC")}))
        expected = [datetime(2024, 3, 1, 0, 0), datetime(2023, 12, 31, 16, 30), datetime(2024, 3, 1, 12, 0),
                    datetime(2024, 6, 1, 23, 59, 59, 123456)]
        assert [r[0] for r in store.query_rows("SELECT ts FROM contract_ts ORDER BY k")] == expected
        assert store.read_frame("contract_ts", order_by=["k"])["ts"].tolist() == [pd.Timestamp(t) for t in expected]
        assert store.scalar("SELECT k FROM contract_ts WHERE ts < ? ORDER BY ts LIMIT 1",
                            [datetime(2024, 1, 1)]) == 2

    # -- engine functions -----------------------------------------------------------------------------

    def test_key_hashes_are_md5_read_as_unsigned_integers(self, store: Store) -> None:
        """Event and row keys must be the same number on every engine and version (stored keys are
        compared with new ones): the md5 of the UTF-8 text read as a big-endian unsigned integer,
        128 bits for events, the first 64 for rows. Python's hashlib gives the expected values;
        the texts include md5s whose first bit is set (above 2**127 and 2**63)."""
        texts = [*(t for t in CHINESE if t), "id:1", "x", "u1\x1fview\x1f2024-01-01 10:00:00"]
        digests = {t: hashlib.md5(t.encode("utf-8")).hexdigest() for t in texts}
        assert any(int(d[0], 16) >= 8 for d in digests.values())  # some keys use the top bit
        fn = store.functions
        # the hash is the engine's own spelling (Store.functions), so it is not checked as shared SQL
        sql = f"SELECT {fn.hash_sql('t', 128)}, {fn.hash_sql('t', 64)} FROM (SELECT CAST(? AS VARCHAR) AS t) f"
        for text, digest in digests.items():
            k128, k64 = store.query_rows(sql, [text])[0]
            assert (int(k128), int(k64)) == (int(digest, 16), int(digest[:16], 16)), text
