"""A workspace: a folder with ``segmark.toml`` and one DuckDB file, opened as one object.

Chosen by ``--workspace DIR``, else ``SEGMARK_WORKSPACE``, else the current folder.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
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
from segmark.store.base import Store
from segmark.store.duckdb import DuckDBStore

ENV_VAR = "SEGMARK_WORKSPACE"


def resolve_root(root: Path | str | None = None) -> Path:
    """The workspace folder: the argument, else $SEGMARK_WORKSPACE, else the current folder."""
    if root is None:
        root = os.environ.get(ENV_VAR) or "."
    return Path(root).expanduser().resolve()


@dataclass
class Workspace:
    """An open workspace. Close it (or use ``with``) to release the database.

    On disk, ``root`` is its folder and its key the file ``.segmark-key`` there; in memory
    (``memory_workspace``), ``root`` is None and the key lives only in this object."""

    root: Path | None
    settings: Settings
    store: Store
    key: bytes | None = field(default=None, repr=False)
    """The key of a workspace in memory (None on disk, where the key is a file)."""

    @property
    def name(self) -> str:
        """The workspace's name for pages and messages: its folder's name ("" in memory)."""
        return self.root.name if self.root is not None else ""

    def signing_key(self, *, create: bool = False) -> bytes | None:
        """The secret key that signs what this workspace stores and later trusts (its models)."""
        if self.root is None:
            return self.key
        return workspace_key(self.root, create=create)

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
            parse_settings({"time": {"timezone": timezone}}, "timezone")  # an unknown zone: nothing is made
            text = text.replace('timezone = "UTC"', f'timezone = "{timezone}"', 1)
        path.mkdir(parents=True, exist_ok=True)
        settings_file.write_text(text, encoding="utf-8")
    settings = load_settings(settings_file)
    DuckDBStore(path / DATABASE_FILE, settings.store).close()
    return path


def open_workspace(root: Path | str | None = None, *, read_only: bool = False, wait: bool = True) -> Workspace:
    """Open an existing workspace, upgrading its database to the current schema. While another
    process holds it, waits up to ``store.lock_wait_s`` (with ``wait``), then WorkspaceBusyError."""
    path = resolve_root(root)
    settings_file = path / SETTINGS_FILE
    if not settings_file.exists():
        raise WorkspaceError(
            f"{path} is not a segmark workspace (no {SETTINGS_FILE}); "
            f"make one with `segmark init {path}` (or sm.init_workspace), or choose another folder"
        )
    settings = load_settings(settings_file)
    store = DuckDBStore(path / DATABASE_FILE, settings.store, read_only=read_only, wait=wait)
    return Workspace(path, settings, store)


def memory_workspace(settings: Settings | None = None) -> Workspace:
    """A workspace that lives in memory only (a notebook, a test): an in-memory database with the
    current schema and a signing key generated for it, both gone when it is closed. Nothing is
    written to disk."""
    settings = settings or Settings()
    store = DuckDBStore(":memory:", settings.store)
    return Workspace(None, settings, store, key=secrets.token_bytes(32))


KEY_FILE = ".segmark-key"
"""The workspace's secret key, kept beside the database (never in it), readable by its owner only."""


def workspace_key(root: Path | str, *, create: bool = False) -> bytes | None:
    """The workspace's secret key (32 random bytes), used to sign what it stores and later trusts,
    such as its pickled segment models. ``create`` makes the key file when it does not exist yet
    (mode 0600); without it a workspace that never needed a key gets None."""
    path = Path(root) / KEY_FILE
    if create and not path.exists():
        tmp = path.with_name(f"{KEY_FILE}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32) + "\n")
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)  # atomic, and never replaces a key another process made first
            except FileExistsError:
                pass  # another process made it first: that one is the key
            except OSError:  # a file system without hard links
                if not path.exists():
                    os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"cannot read the workspace key {path}: {exc}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise WorkspaceError(f"the workspace key {path} is damaged (expected 64 hex digits)")
    return key
