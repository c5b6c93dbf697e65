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
