"""The command line, run as a user runs it: a real process, real files, output read back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def segmark(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "segmark.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_init_ingest_status_json(tmp_path: Path, shared_data: Path) -> None:
    ws = tmp_path / "shop"
    assert segmark("init", str(ws)).returncode == 0
    taobao = shared_data / "taobao-userbehavior-sample" / "UserBehavior_first814users.csv"
    out = segmark("ingest", "events", str(taobao), "--mapping", "taobao", "--json", "-w", str(ws))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert (report["rows_read"], report["accepted"], report["quarantined"], report["duplicates"]) == (
        84287, 84287, 0, 0)
    status = json.loads(segmark("status", "--json", "-w", str(ws)).stdout)
    assert status["tables"]["events"] == 84287
    assert status["events"]["users"] == 814
    assert status["runs"][0]["step"] == "ingest" and status["runs"][0]["status"] == "ok"


def test_human_summary_and_quarantine_listing(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    segmark("init", str(ws))
    f = tmp_path / "e.csv"
    f.write_text("user_id,event_type,ts\nu1,view,2024-01-01 10:00:00\nu1,click_ad,2024-01-01 10:01:00\n")
    out = segmark("ingest", "events", str(f), "-w", str(ws))
    assert out.returncode == 0
    assert "unknown_event_type" in out.stdout and "quarantined by reason" in out.stdout
    listing = json.loads(segmark("status", "--quarantine", "--json", "-w", str(ws)).stdout)
    assert [(r["line"], r["column_name"], r["reason"], r["value"]) for r in listing] == [
        (3, "event_type", "unknown_event_type", "click_ad")]


def test_errors_are_one_clear_line(tmp_path: Path) -> None:
    out = segmark("status", "-w", str(tmp_path))
    assert out.returncode == 1
    assert "not a segmark workspace" in out.stderr and "Traceback" not in out.stderr
    ws = tmp_path / "shop"
    segmark("init", str(ws))
    f = tmp_path / "e.csv"
    f.write_text("who,what\nu1,view\n")
    out = segmark("ingest", "events", str(f), "-w", str(ws))
    assert out.returncode == 1
    assert "required column(s) missing" in out.stderr and "nothing was written" in out.stderr


def test_init_with_a_time_zone(tmp_path: Path) -> None:
    assert segmark("init", str(tmp_path / "a"), "--timezone", "Asia/Shanghai").returncode == 0
    assert 'timezone = "Asia/Shanghai"' in (tmp_path / "a" / "segmark.toml").read_text(encoding="utf-8")
    out = segmark("init", str(tmp_path / "b"), "--timezone", "Asia/Shangai")
    assert out.returncode == 1 and "unknown time zone 'Asia/Shangai'" in out.stderr
    assert not (tmp_path / "b").exists()


def test_demo_refuses_a_real_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    segmark("init", str(ws))
    out = segmark("demo", "-w", str(ws), "--users", "1000")
    assert out.returncode == 1 and "not a sample shop" in out.stderr and "--force" in out.stderr
    assert not (ws / "data").exists()


def test_file_system_errors_are_one_line(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    segmark("init", str(ws))
    f = tmp_path / "e.csv"
    f.write_text("user_id,event_type,ts\nu1,view,2024-01-01 10:00:00\n")
    segmark("ingest", "events", str(f), "-w", str(ws))
    (tmp_path / "afile").write_text("not a folder")
    out = segmark("report", "--out", str(tmp_path / "afile" / "r.html"), "-w", str(ws))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "afile" in out.stderr
