"""A workspace: a folder with ``segmark.toml`` and one DuckDB file, opened as one object.

Chosen by ``--workspace DIR``, else ``SEGMARK_WORKSPACE``, else the current folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from segmark.config import (
    DATABASE_FILE,
    DEFAULT_SETTINGS_TOML,
    SETTINGS_FILE,
    Settings,
    load_settings,
    parse_settings,
)
from segmark.errors import WorkspaceError
from segmark.store.duckdb import DuckDBStore

ENV_VAR = "SEGMARK_WORKSPACE"


def resolve_root(root: Path | str | None = None) -> Path:
    """The workspace folder: the argument, else $SEGMARK_WORKSPACE, else the current folder."""
    if root is None:
        root = os.environ.get(ENV_VAR) or "."
    return Path(root).expanduser().resolve()


@dataclass
class Workspace:
    """An open workspace. Close it (or use ``with``) to release the database."""

    root: Path
    settings: Settings
    store: DuckDBStore

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def init_workspace(root: Path | str | None = None, *, timezone: str | None = None) -> Path:
    """Create the folder, a commented ``segmark.toml`` and the migrated database; idempotent.

    ``timezone`` (the shop's local zone) is written into a new ``segmark.toml``; an existing one is
    kept as it is.
    """
    path = resolve_root(root)
    settings_file = path / SETTINGS_FILE
    if not settings_file.exists():
        text = DEFAULT_SETTINGS_TOML
        if timezone:
            parse_settings({"time": {"timezone": timezone}}, "--timezone")  # an unknown zone: nothing is made
            text = text.replace('timezone = "UTC"', f'timezone = "{timezone}"', 1)
        path.mkdir(parents=True, exist_ok=True)
        settings_file.write_text(text, encoding="utf-8")
    settings = load_settings(settings_file)
    DuckDBStore(path / DATABASE_FILE, settings.store).close()
    return path


def open_workspace(root: Path | str | None = None, *, read_only: bool = False) -> Workspace:
    """Open an existing workspace, upgrading its database to the current schema."""
    path = resolve_root(root)
    settings_file = path / SETTINGS_FILE
    if not settings_file.exists():
        raise WorkspaceError(
            f"{path} is not a segmark workspace (no {SETTINGS_FILE}); "
            f"run `segmark init {path}` or pass --workspace DIR"
        )
    settings = load_settings(settings_file)
    store = DuckDBStore(path / DATABASE_FILE, settings.store, read_only=read_only)
    return Workspace(path, settings, store)
