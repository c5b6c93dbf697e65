"""The store protocol: every operation a step needs from a database, and the capabilities an
engine declares.

Steps (``pipeline/``), the report and the CLI are typed against ``Store`` and call only these
methods; engine-specific SQL and client objects stay inside the engine's module. SQL that steps
pass in (queries, ``create_table_as``, ``export``) is shared SQL: written once in DuckDB's
dialect (``Store.dialect``) and kept transpilable to Spark SQL with SQLGlot, which a test checks
for every statement a full run issues.

An engine that lacks an operation raises ``UnsupportedError`` naming itself and the operation
(``require``), never a silent fallback. The embedded DuckDB engine has every capability; a
cluster engine (Spark) implements the same protocol and declares what it lacks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import pandas as pd
import pyarrow as pa

from segmark.errors import UnsupportedError

Frame = pd.DataFrame | pa.Table
"""What the store writes: a pandas DataFrame or an Arrow table (polars frames via ``to_arrow()``)."""

ExportFormat = Literal["csv", "parquet", "json"]


class Capability(StrEnum):
    """What an engine can do beyond plain SQL queries; steps check before relying on one."""

    TRANSACTIONS = "transactions"
    """``atomic()`` is a real transaction (else the engine publishes by staging and swapping)."""
    TEMP_TABLES = "temp_tables"
    """``create_table_as(..., temporary=True)``: session-private tables dropped on close."""
    UPSERT = "upsert"
    """``upsert``: replace rows by key in place."""
    DELETE = "delete"
    """``delete_keys``: delete rows by key (Spark needs a table format with deletes, e.g. Delta)."""
    BLOBS = "blobs"
    """Binary columns (stored, signed models)."""
    MIGRATIONS = "migrations"
    """The numbered schema migrations of ``store/migrations`` apply to it."""
    EXPORT_CSV = "export_csv"
    EXPORT_PARQUET = "export_parquet"
    EXPORT_JSON = "export_json"
    INTERRUPT = "interrupt"
    """``interrupt()`` stops a running statement (Ctrl-C during a long query)."""


EXPORT_CAPABILITY: dict[str, Capability] = {
    "csv": Capability.EXPORT_CSV, "parquet": Capability.EXPORT_PARQUET, "json": Capability.EXPORT_JSON,
}


class EngineFunctions(Protocol):
    """The few SQL functions each engine writes its own way; shared SQL asks the engine for them
    (``store.functions``) instead of naming an engine's function (the ingestion plan uses these)."""

    def hash_sql(self, text_sql: str, bits: Literal[64, 128]) -> str:
        """A ``bits``-bit hash of a text expression in the engine's key type (event keys, row hashes)."""
        ...

    def strptime_sql(self, text_sql: str, formats: Sequence[str]) -> str:
        """Text parsed with the first matching strptime format; NULL when none matches. (DuckDB's
        ``try_strptime``; ``store.dialect.to_target`` translates it, formats included, for Spark.)"""
        ...


@runtime_checkable
class Store(Protocol):
    """The operations every step uses. Parameters are bound (``?`` placeholders), never pasted."""

    name: str
    """The engine's name, used in messages (``duckdb``, ``spark``)."""
    capabilities: frozenset[Capability]
    dialect: str
    """The SQLGlot dialect of the SQL the engine accepts from steps."""
    functions: EngineFunctions
    """SQL for the operations engines spell differently (hashes in the key type, strptime)."""

    @property
    def location(self) -> str:
        """Where the data lives (a file, ``:memory:``, a catalog), for messages and ``status``."""
        ...

    def schema_version(self) -> int:
        """The highest schema migration applied (0 for an empty database)."""
        ...

    # -- reading ------------------------------------------------------------------------------------

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame: ...

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table: ...

    def query_rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]: ...

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...

    def table_exists(self, name: str) -> bool: ...

    def table_columns(self, name: str) -> list[str]:
        """The table's column names in order (empty when it does not exist)."""
        ...

    def read_frame(self, table: str, *, columns: Sequence[str] | None = None,
                   where: Mapping[str, Any] | None = None, order_by: Sequence[str] | None = None) -> pd.DataFrame:
        """Rows of one table; ``where`` is column = value equalities, bound as parameters."""
        ...

    def read_arrow(self, table: str, *, columns: Sequence[str] | None = None,
                   where: Mapping[str, Any] | None = None, order_by: Sequence[str] | None = None) -> pa.Table: ...

    # -- writing ------------------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    def create_table_as(self, name: str, sql: str, params: Sequence[Any] | None = None, *,
                        replace: bool = False, temporary: bool = False) -> int:
        """Create ``name`` from a query; returns its row count."""
        ...

    def insert(self, table: str, frame: Frame) -> int:
        """Append the frame's rows; columns are matched by name (absent ones get their default)."""
        ...

    def upsert(self, table: str, frame: Frame, key: Sequence[str]) -> int:
        """Insert the frame's rows, replacing stored rows with the same key; returns rows written."""
        ...

    def delete_keys(self, table: str, keys: Frame, *, where: Mapping[str, Any] | None = None) -> int:
        """Delete the rows whose values in ``keys``' columns match one of its rows (and ``where``)."""
        ...

    def drop_table(self, name: str) -> None:
        """Drop a table if it exists."""
        ...

    def temporary_view(self, name: str, frame: Frame) -> AbstractContextManager[None]:
        """The frame readable by SQL as ``name`` for the block, without a copy (ingestion validates
        each chunk of a file this way; Spark: a temporary view of the DataFrame)."""
        ...

    def atomic(self) -> AbstractContextManager[None]:
        """All writes inside are published together or not at all (an exception, Ctrl-C included,
        undoes them). Re-entrant: an inner block joins the outer one."""
        ...

    def publish_table(self, name: str, sql: str, params: Sequence[Any] | None = None) -> int:
        """Create or replace ``name`` from a query so that readers see the old table or the whole
        new one, never a part (staging then swap, or inside a transaction); returns its row count."""
        ...

    # -- runs ---------------------------------------------------------------------------------------

    def next_id(self, sequence: str) -> int:
        """The next value of a named id sequence (``run_id_seq``, ``source_id_seq``)."""
        ...

    def next_run_id(self) -> int: ...

    def record_run(self, run_id: int, step: str, status: str, *, started_at: datetime,
                   as_of: datetime | None = None, params: dict[str, Any] | None = None,
                   metrics: dict[str, Any] | None = None, message: str | None = None) -> None:
        """Write one run record (inside the step's ``atomic()`` block, or after it failed)."""
        ...

    # -- export and lifetime ------------------------------------------------------------------------

    def export(self, sql: str, path: Path | str, fmt: ExportFormat,
               params: Sequence[Any] | None = None) -> Path:
        """Write a query's result to a CSV (UTF-8, header), Parquet or JSON (array) file."""
        ...

    def interrupt(self) -> None:
        """Stop the statement running now (from a signal handler or another thread)."""
        ...

    def close(self) -> None: ...


Engine = Store
"""The protocol's older name."""


def require(store: Store, capability: Capability, operation: str) -> None:
    """Raise ``UnsupportedError`` naming the engine and the operation when ``capability`` is lacking."""
    if capability not in store.capabilities:
        raise UnsupportedError(
            f"the {store.name} engine cannot {operation} (it lacks the {capability.value!r} capability); "
            "see docs/architecture.md for what each engine supports")


def utc_now() -> datetime:
    """Wall-clock time (UTC, naive) for bookkeeping columns only, never for analysis dates."""
    return datetime.now(UTC).replace(tzinfo=None)


def frame_columns(frame: Frame) -> list[str]:
    """A frame's column names, for pandas and Arrow alike."""
    return list(frame.column_names) if isinstance(frame, pa.Table) else [str(c) for c in frame.columns]


def iter_where(where: Mapping[str, Any] | None) -> Iterator[tuple[str, Any]]:
    """``where``'s (column, value) pairs in a stable order."""
    return iter(sorted((where or {}).items()))
