"""The embedded engine: one DuckDB file per workspace, schema kept by numbered migrations.

Migrations are the SQL files ``store/migrations/NNNN_name.sql``, applied in order inside a
transaction each and recorded in ``schema_migrations``; opening an older workspace upgrades it.
All writes of one command go through ``transaction()``, so a failure (or Ctrl-C) leaves the
database as it was before the command.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from segmark.config import StoreSettings
from segmark.errors import StoreError, WorkspaceError

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """The packaged migrations as (version, file name, SQL), in order."""
    folder = resources.files("segmark.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def utc_now() -> datetime:
    """Wall-clock time for bookkeeping columns only (never for analysis dates)."""
    return datetime.now(UTC).replace(tzinfo=None)


class DuckDBStore:
    """A workspace's database: connection, migrations, transactions and the run log."""

    name = "duckdb"
    capabilities = frozenset({"sql", "transactions", "arrow", "migrations"})

    def __init__(self, path: Path | str, settings: StoreSettings | None = None,
                 *, read_only: bool = False) -> None:
        self.path = Path(path)
        settings = settings or StoreSettings()
        config: dict[str, Any] = {"memory_limit": settings.memory_limit}
        if settings.threads:
            config["threads"] = settings.threads
        if str(path) != ":memory:":
            tmp = self.path.parent / "tmp"
            config["temp_directory"] = str(tmp)
        try:
            self.con = duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.Error as exc:
            raise WorkspaceError(f"cannot open database {path}: {exc}") from None
        self.con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            self.migrate()

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
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing: commit on success, roll back on any exception (Ctrl-C included)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        try:
            self.con.execute(sql, params or [])
        except duckdb.Error as exc:
            raise StoreError(str(exc)) from None

    def query_arrow(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        try:
            return self.con.execute(sql, params or []).to_arrow_table()
        except duckdb.Error as exc:
            raise StoreError(str(exc)) from None

    def query_df(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        try:
            return self.con.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise StoreError(str(exc)) from None

    def query_rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        try:
            return self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as exc:
            raise StoreError(str(exc)) from None

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.query_rows(sql, params)
        return rows[0][0] if rows else None

    # -- run log ----------------------------------------------------------------------------

    def next_run_id(self) -> int:
        return int(self.scalar("SELECT nextval('run_id_seq')"))

    def record_run(self, run_id: int, step: str, status: str, *, started_at: datetime,
                   as_of: datetime | None = None, params: dict[str, Any] | None = None,
                   metrics: dict[str, Any] | None = None, message: str | None = None) -> None:
        """Write one run record (call inside the step's transaction, or after its rollback)."""
        self.con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, step, status, as_of, json.dumps(params or {}, default=str),
             json.dumps(metrics or {}, default=str), message, started_at, utc_now()],
        )

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
