"""The embedded engine: one DuckDB file per workspace, schema kept by numbered migrations.

Migrations are the SQL files ``store/migrations/NNNN_name.sql``, applied in order inside a
transaction each and recorded in ``schema_migrations``; opening an older workspace upgrades it.
All writes of one command go through ``transaction()``, so a failure (or Ctrl-C) leaves the
database as it was before the command.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa

from segmark.config import StoreSettings
from segmark.errors import StoreError, WorkspaceBusyError, WorkspaceError
from segmark.sql import ident, literal
from segmark.store.base import (
    EXPORT_CAPABILITY,
    Capability,
    ExportFormat,
    Frame,
    frame_columns,
    iter_where,
    require,
    utc_now,
)

__all__ = ["DuckDBStore", "migrations", "utc_now"]

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_SEQUENCE = re.compile(r"^[a-z_][a-z0-9_]*$")


def migrations() -> list[tuple[int, str, str]]:
    """The packaged migrations as (version, file name, SQL), in order."""
    folder = resources.files("segmark.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _byte_swap64(x: str) -> str:
    """A UBIGINT expression with its eight bytes in reverse order (bytes, then pairs, then halves
    swapped; each step masks before shifting, since DuckDB refuses a left shift that overflows)."""
    for mask, shift in ((0x00FF00FF00FF00FF, 8), (0x0000FFFF0000FFFF, 16), (0x00000000FFFFFFFF, 32)):
        m = f"CAST({mask} AS UBIGINT)"
        x = f"((({x}) & {m}) << {shift}) | ((({x}) >> {shift}) & {m})"
    return f"({x})"


class DuckDBFunctions:
    """DuckDB's spelling of the functions engines write differently."""

    def hash_sql(self, text_sql: str, bits: Literal[64, 128]) -> str:
        # The key is the md5 digest read as a big-endian unsigned integer (the same number on every
        # engine: CAST('0x' || md5(...) AS UHUGEINT)). md5_number gives the same digest without hex
        # text, read little-endian: its low 64 bits are the first eight bytes, reversed. Reversing
        # the bytes of each half gives the big-endian halves; md5_number is computed once per row
        # (a common subexpression). For a million texts: 0.21 CPU-s instead of 0.35 with the hex
        # text and its casts. md5_number is DuckDB's own: the engine's spelling, not shared SQL.
        digest = f"md5_number({text_sql})"
        first = _byte_swap64(f"CAST({digest} & CAST({2 ** 64 - 1} AS UHUGEINT) AS UBIGINT)")
        if bits == 64:
            return first
        second = _byte_swap64(f"CAST({digest} >> 64 AS UBIGINT)")
        return f"((CAST({first} AS UHUGEINT) << 64) | CAST({second} AS UHUGEINT))"

    def strptime_sql(self, text_sql: str, formats: Sequence[str]) -> str:
        return f"try_strptime({text_sql}, [{', '.join(literal(f) for f in formats)}])"


class DuckDBStore:
    """A workspace's database: connection, migrations, transactions and the run log."""

    name = "duckdb"
    capabilities = frozenset(Capability)
    dialect = "duckdb"
    functions = DuckDBFunctions()

    def __init__(self, path: Path | str, settings: StoreSettings | None = None,
                 *, read_only: bool = False, wait: bool = True) -> None:
        self.path = Path(path)
        self._depth = 0
        self._trace: list[str] | None = None
        self._frames = itertools.count()
        settings = settings or StoreSettings()
        config: dict[str, Any] = {"memory_limit": settings.memory_limit}
        if settings.threads:
            config["threads"] = settings.threads
        if str(path) != ":memory:":
            tmp = self.path.parent / "tmp"
            config["temp_directory"] = str(tmp)
        self.con = self._connect(config, read_only, settings.lock_wait_s if wait else 0.0)
        self.con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            self.migrate()

    def _connect(self, config: dict[str, Any], read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
        """The connection; while another process holds the file, retried for up to ``wait_s``
        seconds (a short reader such as ``status`` lets go), then WorkspaceBusyError."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only, config=config)
            except duckdb.Error as exc:
                held = re.search(r"Conflicting lock is held in .*?\(PID (\d+)\)", str(exc))
                if not held:
                    raise WorkspaceError(f"cannot open database {self.path}: {exc}") from None
                if time.monotonic() >= deadline:
                    pid = int(held.group(1))
                    raise WorkspaceBusyError(f"{self.path} is in use by another process (PID {pid}); it can be "
                                             "opened when that one finishes", pid) from None
                time.sleep(0.1)

    @property
    def location(self) -> str:
        return str(self.path)

    # -- schema -----------------------------------------------------------------------------

    def schema_version(self) -> int:
        if not self.table_exists("schema_migrations"):
            return 0
        rows = self.con.execute("SELECT max(version) FROM schema_migrations").fetchall()
        return int(rows[0][0] or 0) if rows else 0

    def migrate(self) -> list[str]:
        """Apply every packaged migration the database has not recorded, in order; returns their names."""
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        done = {v for (v,) in self.con.execute("SELECT version FROM schema_migrations").fetchall()}
        applied = []
        for version, name, sql in migrations():
            if version in done:  # by set, not by maximum: a migration merged late still applies
                continue
            with self.transaction():
                self.con.execute(sql)
                self.con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, utc_now()]
                )
            applied.append(name)
        return applied

    def table_exists(self, name: str) -> bool:
        rows = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
        return bool(rows and rows[0][0])

    # -- execution --------------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """All-or-nothing: commit on success, roll back on any exception (Ctrl-C included).
        An inner block joins the outer transaction (DuckDB has no savepoints)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.con.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            with contextlib.suppress(duckdb.Error):  # a lost transaction is already rolled back
                self.con.execute("ROLLBACK")
            raise
        self._depth = 0
        self.con.execute("COMMIT")

    transaction = atomic
    """The older name of ``atomic``."""

    @contextmanager
    def tracing(self) -> Iterator[list[str]]:
        """Record every statement steps pass in while the block runs (engine-internal SQL is not
        recorded): the transpile test checks each one against Spark SQL."""
        previous, self._trace = self._trace, []
        try:
            yield self._trace
        finally:
            if previous is not None:
                previous.extend(self._trace)
            self._trace = previous

    @staticmethod
    @contextmanager
    def _mapped() -> Iterator[None]:
        """DuckDB's errors become StoreError, its interrupt KeyboardInterrupt."""
        try:
            yield
        except duckdb.InterruptException:
            raise KeyboardInterrupt from None
        except duckdb.Error as exc:
            if "KeyboardInterrupt" in str(exc):  # Ctrl-C while DuckDB called back into Python
                raise KeyboardInterrupt from None
            raise StoreError(str(exc)) from None
        except RuntimeError as exc:
            if "interrupted" in str(exc).lower():  # Ctrl-C while a statement runs: "Query interrupted"
                raise KeyboardInterrupt from None
            raise

    def _run(self, sql: str, params: Sequence[Any] | None = None, *, shared: bool = True) -> duckdb.DuckDBPyConnection:
        """Execute one statement (recorded while tracing when it is shared SQL a step passed in)."""
        if shared and self._trace is not None:
            self._trace.append(sql)
        with self._mapped():
            return self.con.execute(sql, list(params) if params else [])

    def _one(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The first value of an engine-internal statement, its result consumed whole (an
        unfinished result would block the next frame registration)."""
        result = self._run(sql, params, shared=False)
        with self._mapped():  # DuckDB may run the statement as its result is read
            rows = result.fetchall()
        return rows[0][0] if rows else None

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        result = self._run(sql, params)
        with self._mapped():
            result.fetchall()  # consumed, so the connection is free for the next frame

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        if self._trace is not None:
            self._trace.append(sql)
        with self._mapped():  # a relation converts to Arrow without the extra copy of a DB-API result
            relation = self.con.sql(sql, params=list(params) if params else None)
            to_table = getattr(relation, "to_arrow_table", None) or relation.arrow
            table = to_table()
        return table if isinstance(table, pa.Table) else table.read_all()

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        result = self._run(sql, params)
        with self._mapped():  # DuckDB may run the statement as its result is read
            return result.df()

    def query_rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        result = self._run(sql, params)
        with self._mapped():
            return result.fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.query_rows(sql, params)
        return rows[0][0] if rows else None

    def table_columns(self, name: str) -> list[str]:
        rows = self._run("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                         "ORDER BY ordinal_position", [name], shared=False).fetchall()
        return [r[0] for r in rows]

    def _select(self, table: str, columns: Sequence[str] | None, where: Mapping[str, Any] | None,
                order_by: Sequence[str] | None) -> tuple[str, list[Any]]:
        cols = ", ".join(ident(c) for c in columns) if columns else "*"
        sql = f"SELECT {cols} FROM {ident(table)}"
        pairs = list(iter_where(where))
        if pairs:
            sql += " WHERE " + " AND ".join(f"{ident(c)} = ?" for c, _ in pairs)
        if order_by:
            sql += " ORDER BY " + ", ".join(ident(c) for c in order_by)
        return sql, [v for _, v in pairs]

    def read_frame(self, table: str, *, columns: Sequence[str] | None = None,
                   where: Mapping[str, Any] | None = None, order_by: Sequence[str] | None = None) -> pd.DataFrame:
        return self.query_df(*self._select(table, columns, where, order_by))

    def read_arrow(self, table: str, *, columns: Sequence[str] | None = None,
                   where: Mapping[str, Any] | None = None, order_by: Sequence[str] | None = None) -> pa.Table:
        return self.query_arrow(*self._select(table, columns, where, order_by))

    # -- writing ----------------------------------------------------------------------------

    def create_table_as(self, name: str, sql: str, params: Sequence[Any] | None = None, *,
                        replace: bool = False, temporary: bool = False) -> int:
        verb = "CREATE OR REPLACE" if replace else "CREATE"
        kind = " TEMP" if temporary else ""
        if self._trace is not None:
            self._trace.append(sql)
        self._one(f"{verb}{kind} TABLE {ident(name)} AS {sql}", params)
        return int(self._one(f"SELECT count(*) FROM {ident(name)}"))

    @contextmanager
    def _registered(self, frame: Frame) -> Iterator[str]:
        """The frame visible to SQL under a private name for the block."""
        name = f"_segmark_frame_{next(self._frames)}"
        with self._mapped():
            self.con.register(name, frame)
        try:
            yield name
        finally:
            self._unregister(name)

    def _unregister(self, name: str) -> None:
        """Drop a frame's name. It fails only when the transaction is already lost, which the
        caller learns anyway; but Ctrl-C landing here (DuckDB's "Query interrupted") is still an
        interrupt, not an error that would hide it."""
        with contextlib.suppress(StoreError), self._mapped():
            self.con.unregister(name)

    def insert(self, table: str, frame: Frame) -> int:
        cols = frame_columns(frame)
        if not cols or len(frame) == 0:
            return 0
        names = ", ".join(ident(c) for c in cols)
        with self._registered(frame) as view:
            self._one(f"INSERT INTO {ident(table)} ({names}) SELECT {names} FROM {view}")
        return len(frame)

    def upsert(self, table: str, frame: Frame, key: Sequence[str]) -> int:
        if not key:
            raise ValueError("upsert needs at least one key column")
        if len(frame) == 0:
            return 0
        keys = frame.select(list(key)) if isinstance(frame, pa.Table) else frame[list(key)]
        with self.atomic():
            self.delete_keys(table, keys)
            return self.insert(table, frame)

    def delete_keys(self, table: str, keys: Frame, *, where: Mapping[str, Any] | None = None) -> int:
        cols = frame_columns(keys)
        if not cols:
            raise ValueError("delete_keys needs at least one key column")
        if len(keys) == 0:
            return 0
        pairs = list(iter_where(where))
        match = " AND ".join(f"t.{ident(c)} IS NOT DISTINCT FROM k.{ident(c)}" for c in cols)
        extra = "".join(f" AND t.{ident(c)} = ?" for c, _ in pairs)
        with self._registered(keys) as view:
            deleted = self._one(f"DELETE FROM {ident(table)} t WHERE EXISTS (SELECT 1 FROM {view} k WHERE {match})"
                                f"{extra}", [v for _, v in pairs])
        return int(deleted or 0)

    def drop_table(self, name: str) -> None:
        self._one(f"DROP TABLE IF EXISTS {ident(name)}")

    @contextmanager
    def temporary_view(self, name: str, frame: Frame) -> Iterator[None]:
        with self._mapped():
            self.con.register(name, frame)
        try:
            yield
        finally:
            self._unregister(name)

    def publish_table(self, name: str, sql: str, params: Sequence[Any] | None = None) -> int:
        with self.atomic():
            return self.create_table_as(name, sql, params, replace=True)

    # -- run log ----------------------------------------------------------------------------

    def next_id(self, sequence: str) -> int:
        if not _SEQUENCE.match(sequence):
            raise ValueError(f"not a sequence name: {sequence!r}")
        return int(self._one(f"SELECT nextval('{sequence}')"))

    def next_run_id(self) -> int:
        return self.next_id("run_id_seq")

    def record_run(self, run_id: int, step: str, status: str, *, started_at: datetime,
                   as_of: datetime | None = None, params: dict[str, Any] | None = None,
                   metrics: dict[str, Any] | None = None, message: str | None = None) -> None:
        """Write one run record (call inside the step's transaction, or after its rollback)."""
        self._run(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, step, status, as_of, json.dumps(params or {}, default=str, ensure_ascii=False),
             json.dumps(metrics or {}, default=str, ensure_ascii=False), message, started_at, utc_now()],
            shared=False,
        )

    # -- export and lifetime ----------------------------------------------------------------

    def export(self, sql: str, path: Path | str, fmt: ExportFormat,
               params: Sequence[Any] | None = None) -> Path:
        capability = EXPORT_CAPABILITY.get(fmt)
        if capability is None:
            raise ValueError(f"unknown export format {fmt!r}")
        require(self, capability, f"export {fmt}")
        out = Path(path)
        options = {"csv": "FORMAT csv, HEADER true", "parquet": "FORMAT parquet",
                   "json": "FORMAT json, ARRAY true"}[fmt]
        if self._trace is not None:
            self._trace.append(sql)
        self._run(f"COPY ({sql}) TO {literal(str(out))} ({options})", params, shared=False)
        return out

    def interrupt(self) -> None:
        self.con.interrupt()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
