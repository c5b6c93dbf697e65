"""A failure or an interruption mid-file leaves the store exactly as it was before the command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from segmark.cli import app
from segmark.errors import InputError
from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace, open_workspace

TABLES = ("events", "quarantine", "sources", "runs")


def snapshot(ws: Workspace) -> dict[str, object]:
    counts = {t: ws.store.scalar(f"SELECT count(*) FROM {t}") for t in TABLES}
    counts["checksum"] = ws.store.scalar("SELECT sum(hash(user_id, ts, event_type)) FROM events")
    return counts


def big_csv(path: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    ts = 1_700_000_000 + np.sort(rng.integers(0, 30 * 86400, n))
    table = pa.table({
        "user_id": pa.array((rng.integers(0, 100_000, n)).astype(str)),
        "event_type": pa.array(np.array(["view", "cart", "purchase"])[rng.integers(0, 3, n)]),
        "ts": pa.array(ts.astype(str)),
        "item_id": pa.array(rng.integers(0, 5000, n).astype(str)),
    })
    pacsv.write_csv(table, path)
    return path


@pytest.fixture
def small_chunks(ws: Workspace) -> Workspace:
    """Many chunks per file, so an interruption lands mid-file."""
    (ws.root / "segmark.toml").write_text("[ingest]\nchunk_mb = 1\n", encoding="utf-8")
    ws.close()
    return open_workspace(ws.root)


def seed(ws: Workspace, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text("user_id,event_type,ts\nu1,view,1700000000\nu1,bogus,1700000001\n")
    ingest_file(ws, "events", first)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_ingest_leaves_store_unchanged(small_chunks: Workspace, tmp_path: Path,
                                                   sig: signal.Signals) -> None:
    root = small_chunks.root
    small_chunks.close()
    first = tmp_path / "first.csv"  # the seed through the command, which saves the finished state
    first.write_text("user_id,event_type,ts\nu1,view,1700000000\nu1,bogus,1700000001\n")
    seeded = CliRunner().invoke(app, ["ingest", "events", str(first), "-w", str(root)])
    assert seeded.exit_code == 0, seeded.output
    with open_workspace(root) as ws:
        before = snapshot(ws)
    path = big_csv(tmp_path / "big.csv", 1_500_000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "segmark.cli", "ingest", "events", str(path), "-w", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # the command reports progress on stderr; interrupt it once it is well into the file
    assert proc.stderr is not None
    for line in proc.stderr:
        share = int(line.rsplit(" ", 1)[-1].rstrip("%\n"))
        if 20 <= share < 100:
            break
    assert proc.poll() is None, "the ingest finished before it could be interrupted; use a bigger file"
    # meanwhile `status` answers from the last finished state (the seed) and names the holder
    busy = CliRunner().invoke(app, ["status", "-w", str(root), "--json"])
    assert busy.exit_code == 0, busy.output
    view = json.loads(busy.stdout)
    assert view["busy"] is True and view["holder"]["pid"] == proc.pid
    assert view["holder"]["command"].startswith("segmark ingest events ")
    assert view["snapshot"]["tables"]["events"] == 1 and view["snapshot"]["tables"]["quarantine"] == 1
    assert proc.poll() is None, "the ingest finished before it could be interrupted; use a bigger file"
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    rest = proc.stderr.read()
    ws2 = open_workspace(root)
    try:
        after = snapshot(ws2)
        if proc.returncode == 0 and rest.rstrip().endswith("100%"):
            # a starved test can read a progress line late and signal a command that is already
            # publishing; then it must have written the whole file, never part of it
            assert after["sources"] == before["sources"] + 1
            read, accepted = ws2.store.query_rows(
                "SELECT rows_read, accepted FROM sources ORDER BY source_id DESC LIMIT 1")[0]
            assert read == 1_500_000 and after["events"] - before["events"] == accepted > 0
            return
        if sig == signal.SIGINT:
            assert proc.returncode == 130, rest
            # Ctrl-C is recorded as a failed run (a killed process cannot record anything)
            assert after.pop("runs") == before["runs"] + 1
            assert ws2.store.query_rows("SELECT status, message FROM runs ORDER BY run_id DESC LIMIT 1") == [
                ("failed", "interrupted (Ctrl-C): nothing was written")]
            assert after == {k: v for k, v in before.items() if k != "runs"}
        else:
            assert proc.returncode == -signal.SIGKILL
            assert after == before
    finally:
        ws2.close()


def test_error_mid_file_rolls_back_every_file(ws: Workspace, tmp_path: Path) -> None:
    seed(ws, tmp_path)
    before = snapshot(ws)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("user_id,event_type,ts\nu2,view,1700000100\n")
    # valid UTF-8 at the start (so it is sniffed as UTF-8), an invalid byte far into the file
    body = b"user_id,event_type,ts\n" + b"u3,view,1700000200\n" * 200_000 + b"u4,view,\xff\xfe\n"
    (folder / "b.csv").write_bytes(body)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[read]\nencoding = "utf-8"\n')
    with pytest.raises(InputError, match=r"b\.csv"):
        ingest_file(ws, "events", folder, mapping=mapping)
    after = snapshot(ws)
    # only a 'failed' run record is added, so the attempt is visible in `segmark status`
    assert after["runs"] == before["runs"] + 1
    assert {k: v for k, v in after.items() if k != "runs"} == {k: v for k, v in before.items() if k != "runs"}
    assert ws.store.scalar("SELECT status FROM runs ORDER BY run_id DESC LIMIT 1") == "failed"
