"""The engine contract on DuckDB, in a file (as workspaces use it) and in memory (as notebooks do)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from segmark.errors import UnsupportedError
from segmark.store.base import Capability
from segmark.store.duckdb import DuckDBStore

from .contract import StoreContract


class TestDuckDBFile(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[DuckDBStore]:
        s = DuckDBStore(tmp_path / "segmark.duckdb")
        try:
            yield s
        finally:
            s.close()

    def test_writes_survive_reopening(self, store: DuckDBStore) -> None:
        store.create_table_as("kept", "SELECT '青年' AS name")
        store.close()
        again = DuckDBStore(store.path)
        try:
            assert again.query_rows("SELECT name FROM kept") == [("青年",)]
        finally:
            again.close()


class TestDuckDBMemory(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[DuckDBStore]:
        s = DuckDBStore(":memory:")
        try:
            yield s
        finally:
            s.close()


class _NoExports(DuckDBStore):
    """A DuckDB engine that declares it cannot write files: what a cluster engine without a local
    file system looks like to the steps."""

    capabilities = frozenset(Capability) - {Capability.EXPORT_CSV, Capability.EXPORT_PARQUET,
                                            Capability.EXPORT_JSON}


def test_a_lacking_capability_is_refused_before_any_work(tmp_path: Path) -> None:
    store = _NoExports(":memory:")
    try:
        with pytest.raises(UnsupportedError, match=r"the duckdb engine cannot export csv"):
            store.export("SELECT 1 AS a", tmp_path / "a.csv", "csv")
        assert not (tmp_path / "a.csv").exists()
        with pytest.raises(ValueError, match="unknown export format"):
            store.export("SELECT 1 AS a", tmp_path / "a.xlsx", "xlsx")  # type: ignore[arg-type]
    finally:
        store.close()


class _CtrlCAtUnregister:
    """The real connection, except that Ctrl-C lands while a frame's name is dropped: DuckDB then
    reports it as ``RuntimeError("Query interrupted")`` from ``unregister`` (a race the interrupted
    ingest test can hit), or the transaction is already lost and it raises its own error."""

    def __init__(self, con: object, error: Exception) -> None:
        self._con, self._error = con, error

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)

    def unregister(self, name: str) -> None:
        self._con.unregister(name)  # type: ignore[attr-defined]
        raise self._error


def test_ctrl_c_while_a_frame_is_unregistered_is_an_interrupt_not_an_error() -> None:
    import duckdb
    import pandas as pd

    store = DuckDBStore(":memory:")
    real = store.con
    frame = pd.DataFrame({"a": [1, 2]})
    try:
        store.con = _CtrlCAtUnregister(real, RuntimeError("Query interrupted"))  # type: ignore[assignment]
        with pytest.raises(KeyboardInterrupt), store.temporary_view("_chunk", frame):
            assert store.query_rows("SELECT sum(a) FROM _chunk") == [(3,)]
        # a lost transaction at that point is not worth an error of its own: the block's own
        # outcome is what the caller must hear
        store.con = _CtrlCAtUnregister(real, duckdb.TransactionException("transaction aborted"))  # type: ignore[assignment]
        with store.temporary_view("_chunk", frame):
            assert store.query_rows("SELECT count(*) FROM _chunk") == [(2,)]
    finally:
        store.con = real
        store.close()
