"""Workspaces: settings validated with clear errors, migrations recorded, old workspaces upgraded."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from segmark.config import DEFAULT_SETTINGS_TOML, Settings, load_settings
from segmark.errors import ConfigError, WorkspaceBusyError, WorkspaceError
from segmark.store.duckdb import DuckDBStore, migrations
from segmark.workspace import init_workspace, open_workspace


def test_init_writes_documented_defaults(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "shop")
    assert (root / "segmark.toml").read_text(encoding="utf-8") == DEFAULT_SETTINGS_TOML
    # the commented file states exactly the defaults of the code
    assert load_settings(root / "segmark.toml") == Settings()
    with open_workspace(root) as ws:
        versions = [v for (v,) in ws.store.query_rows("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [v for v, _, _ in migrations()]


def test_init_is_idempotent_and_keeps_settings(tmp_path: Path) -> None:
    root = init_workspace(tmp_path)
    (root / "segmark.toml").write_text('[time]\ntimezone = "Asia/Shanghai"\n')
    init_workspace(tmp_path)
    assert load_settings(root / "segmark.toml").time.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(("text", "message"), [
    ('[time]\ntimezone = "Mars/Olympus"\n', r"time\.timezone.*unknown time zone"),
    ("[store]\nthreads = -1\n", r"store\.threads"),
    ('[features]\nwindows = [0]\n', r"features\.windows"),
    ("[ingest]\nchunk = 3\n", r"ingest\.chunk: unknown key, did you mean 'chunk_mb'\?"),
    ("lang = 'fr'\n", r"lang"),
    ("[time\n", r"not valid TOML"),
])
def test_invalid_settings_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "segmark.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        load_settings(path)
    assert str(path) in str(err.value)


def test_not_a_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="segmark init"):
        open_workspace(tmp_path)


def test_environment_variable_selects_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = init_workspace(tmp_path / "w")
    monkeypatch.setenv("SEGMARK_WORKSPACE", str(root))
    with open_workspace() as ws:
        assert ws.root == root


def test_old_workspace_is_upgraded_and_keeps_its_data(tmp_path: Path) -> None:
    """A database made by the first release (only migration 1) opens with every later migration."""
    db = tmp_path / "segmark.duckdb"
    first_version, name, sql = migrations()[0]
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                "applied_at TIMESTAMP NOT NULL)")
    con.execute(sql)
    con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [first_version, name])
    con.execute("INSERT INTO events (event_key, user_id, event_type, ts, source_id, line) "
                "VALUES (1, 'u1', 'view', TIMESTAMP '2024-01-01', 1, 2)")
    con.close()
    (tmp_path / "segmark.toml").write_text("")
    with open_workspace(tmp_path) as ws:
        assert ws.store.schema_version() == migrations()[-1][0]
        assert ws.store.scalar("SELECT user_id FROM events") == "u1"
    # and opening again applies nothing more
    store = DuckDBStore(db)
    assert store.migrate() == []
    store.close()


def test_a_migration_merged_late_is_still_applied(tmp_path: Path) -> None:
    """Migrations are applied by set, not by maximum: a database that recorded a later number first
    (0005 merged before 0004) still gets the one it lacks."""
    import duckdb

    db = tmp_path / "segmark.duckdb"
    packaged = migrations()
    late_version = next(v for v, name, _ in packaged if name.startswith("0004_"))
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
                "applied_at TIMESTAMP NOT NULL)")
    for version, name, sql in packaged:
        if version != late_version:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    con.close()
    store = DuckDBStore(db)
    try:
        recorded = [v for (v,) in store.query_rows("SELECT version FROM schema_migrations ORDER BY 1")]
        assert store.migrate() == []
    finally:
        store.close()
    assert recorded == [v for v, _, _ in packaged]


def _holder(root: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that holds the workspace's database for ``seconds`` (as a ``status`` does
    while it reads), started and holding when this returns."""
    code = ("import sys, time, duckdb\n"
            f"con = duckdb.connect({str(root / 'segmark.duckdb')!r})\n"
            "print('holding', flush=True)\n"
            f"time.sleep({seconds})\n"
            "con.close()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_opening_waits_for_a_short_holder_and_names_a_long_one(tmp_path: Path) -> None:
    """An ingest started while ``status`` reads the workspace used to fail at once (exit 1): a
    command now waits up to ``store.lock_wait_s`` for the other process, then names it."""
    root = init_workspace(tmp_path / "shop")
    short = _holder(root, 1.0)
    try:
        start = time.monotonic()
        with open_workspace(root) as ws:  # waits for the holder to let go
            assert ws.store.scalar("SELECT 1") == 1
        assert 0.3 < time.monotonic() - start < 5
    finally:
        short.wait(timeout=30)
    (root / "segmark.toml").write_text("[store]\nlock_wait_s = 0.5\n", encoding="utf-8")
    long = _holder(root, 30)
    try:
        start = time.monotonic()
        with pytest.raises(WorkspaceBusyError, match=f"in use by another process \\(PID {long.pid}\\)"):
            open_workspace(root)
        assert 0.5 <= time.monotonic() - start < 5
        start = time.monotonic()
        with pytest.raises(WorkspaceBusyError):  # what answers while another holds it does not wait
            open_workspace(root, wait=False)
        assert time.monotonic() - start < 0.5
    finally:
        long.kill()
        long.wait(timeout=30)
