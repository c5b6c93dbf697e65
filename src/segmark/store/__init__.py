"""The store: the only code that touches a database. DuckDB is the embedded engine."""

from segmark.store.base import Engine
from segmark.store.duckdb import DuckDBStore

__all__ = ["DuckDBStore", "Engine"]
