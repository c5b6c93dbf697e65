"""What a command says and returns when ingestion did not do its job (issue: runs that explain their
own failures): nothing accepted is a non-zero exit naming the rejections, ``run`` stops at the
ingest step with that cause, and files of a folder that are not data are left out and named."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from segmark.cli import app
from segmark.workspace import open_workspace


@dataclass
class Said:
    returncode: int
    stdout: str
    stderr: str


def segmark(*args: str) -> Said:
    """The real command in this process: its exit status, output and messages, without a second
    interpreter's start-up for each call (the process-level exits, 130 after Ctrl-C, are tested in
    test_atomic)."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Said(result.exit_code, result.stdout, result.stderr)


def test_an_ingest_that_accepts_nothing_exits_non_zero(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    segmark("init", str(ws))
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,event_type,ts\nu1,view,yesterday\nu2,view,soon\n", encoding="utf-8")
    out = segmark("ingest", "events", str(bad), "-w", str(ws), "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout)["quarantined_by_reason"] == {"unparseable_ts": 2}
    assert "none of the 2 events rows was accepted (2 unparseable_ts)" in out.stderr
    with open_workspace(ws) as w:  # the quarantine is kept for inspection
        assert w.store.scalar("SELECT count(*) FROM quarantine") == 2
    # The same file again is not read again, and its rows are still rejected: the same failure,
    # for the same reasons (not "duplicates", and not a success that would read as fixed).
    again = segmark("ingest", "events", str(bad), "-w", str(ws), "--json")
    assert again.returncode == 1 and "(2 unparseable_ts)" in again.stderr
    said = json.loads(again.stdout)
    assert (said["accepted"], said["quarantined"], said["duplicates"]) == (0, 2, 0)
    with open_workspace(ws) as w:
        assert w.store.scalar("SELECT count(*) FROM quarantine") == 2  # kept once, not twice
    good = tmp_path / "good.csv"
    good.write_text("user_id,event_type,ts\nu1,view,2024-01-01 10:00:00\nu2,view,later\n", encoding="utf-8")
    assert segmark("ingest", "events", str(good), "-w", str(ws)).returncode == 0
    # a file whose good rows are stored already is fine again: one duplicate, one still quarantined
    again = segmark("ingest", "events", str(good), "-w", str(ws), "--json")
    said = json.loads(again.stdout)
    assert again.returncode == 0 and (said["accepted"], said["quarantined"], said["duplicates"]) == (0, 1, 1)
    header_only = tmp_path / "empty.csv"
    header_only.write_text("user_id,event_type,ts\n", encoding="utf-8")
    out = segmark("ingest", "events", str(header_only), "-w", str(ws))
    assert out.returncode == 1 and "no events rows" in out.stderr


def test_run_names_the_rejections_of_the_ingest_step(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text("user_id,event_type,ts\nu1,click_ad,2024-01-01 10:00:00\nu2,view,2024-13-45\n",
                      encoding="utf-8")
    out = segmark("run", "--events", str(events), "-w", str(tmp_path / "shop"))
    assert out.returncode == 1
    assert "step 'ingest events' failed: none of the 2 events rows was accepted" in out.stderr
    assert "1 unknown_event_type" in out.stderr and "1 unparseable_ts" in out.stderr
    assert "no events in the store" not in out.stderr + out.stdout
    # run again as it was: the same cause, not a later step's "no events in the store"
    out = segmark("run", "--events", str(events), "-w", str(tmp_path / "shop"))
    assert out.returncode == 1
    assert "step 'ingest events' failed: none of the 2 events rows was accepted" in out.stderr
    assert "no events in the store" not in out.stderr + out.stdout


def test_a_folder_leaves_out_files_that_are_not_data(tmp_path: Path, shared_data: Path) -> None:
    folder = tmp_path / "taobao"
    folder.mkdir()
    shutil.copy(shared_data / "taobao-userbehavior-sample" / "UserBehavior_first814users.csv", folder)
    shutil.copy(shared_data / "taobao-userbehavior-sample" / "PROVENANCE.txt", folder)
    (folder / "README.md").write_text("# notes\n", encoding="utf-8")
    ws = tmp_path / "shop"
    out = segmark("run", "--events", str(folder), "--mapping", "taobao", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    assert "left out PROVENANCE.txt, README.md" in out.stdout
    out = segmark("ingest", "events", str(folder), "--mapping", "taobao", "--json", "-w", str(ws))
    report = json.loads(out.stdout)
    assert [Path(p).name for p in report["skipped"]] == ["PROVENANCE.txt", "README.md"]
    assert (report["rows_read"], report["duplicates"]) == (84_287, 84_287)
    # a folder with nothing but notes: it exists, and says why nothing was read
    notes = tmp_path / "notes"
    notes.mkdir()
    shutil.copy(shared_data / "taobao-userbehavior-sample" / "PROVENANCE.txt", notes)
    out = segmark("ingest", "events", str(notes), "-w", str(ws))
    assert out.returncode != 0
    assert "the folder holds no data files (left out as not data: PROVENANCE.txt)" in out.stderr


def test_ingest_speaks_the_language_asked_for(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    segmark("init", str(ws))
    bad = tmp_path / "bad[1].csv"  # brackets in the name are printed, not taken for markup
    bad.write_text("user_id,event_type,ts\nu1,view,yesterday\n", encoding="utf-8")
    out = segmark("ingest", "events", str(bad), "--lang", "zh", "-w", str(ws))
    assert out.returncode == 1 and "bad[1].csv" in out.stdout
    assert "时间戳无法解析" in out.stdout  # the reason's meaning
    assert "1 行行为事件数据无一被接受（1 unparseable_ts）" in out.stderr
