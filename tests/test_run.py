"""`segmark run` and `segmark demo`, run as a user runs them: one command from files to a report."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from segmark.report import SECTIONS
from segmark.workspace import open_workspace


def segmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "segmark.cli", *args], capture_output=True, text=True,
                          timeout=600, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def sections(html: str) -> list[str]:
    return re.findall(r'<section id="(\w+)"', html)


@pytest.mark.parametrize(("rel", "preset"), [
    ("taobao-userbehavior-sample/UserBehavior_first814users.csv", "taobao"),
    ("uci-online-retail/online_retail_full_no_invoice_stockcode.parquet", "online-retail"),
])
def test_run_on_real_shops(shared_data: Path, tmp_path: Path, rel: str, preset: str) -> None:
    ws = tmp_path / preset
    out = segmark("run", "--events", str(shared_data / rel), "--mapping", preset, "-w", str(ws))
    assert out.returncode == 0, out.stderr
    report = ws / "report.html"
    assert f"report: {report}" in out.stdout
    html = report.read_text(encoding="utf-8")
    assert sections(html) == list(SECTIONS)
    with open_workspace(ws) as w:
        # a new workspace takes the preset's zone: Taobao is Beijing time, Online Retail London time
        assert w.settings.time.timezone == {"taobao": "Asia/Shanghai", "online-retail": "Europe/London"}[preset]
        steps = w.store.query_rows("SELECT step, status FROM runs ORDER BY run_id")
        names = [r[0] for r in w.store.query_rows(
            "SELECT s.name FROM segments s JOIN segmentations g USING (segmentation_id) "
            "WHERE g.kind = 'rfm' AND s.size > 0")]
    # one record per step, in order; a clustering that finds no structure is recorded as such, and the
    # run still goes on to the report
    assert steps[:3] == [("ingest", "ok"), ("features", "ok"), ("segment rfm", "ok")]
    assert steps[3][0] == "segment cluster" and steps[4] == ("tags apply", "ok") and len(steps) == 5
    if steps[3][1] != "ok":
        assert "clustering:" in out.stdout
    # every non-empty RFM segment is named in the terminal summary and in the report
    assert names and all(n in out.stdout for n in names)
    assert all(n in html for n in names)


def test_demo_end_to_end_in_chinese(tmp_path: Path) -> None:
    ws = tmp_path / "shop"
    out = segmark("demo", "-w", str(ws), "--users", "2000", "--lang", "zh")
    assert out.returncode == 0, out.stderr
    for name in ("高价值忠诚用户", "只逛不买用户", "冠军用户"):
        assert name in out.stdout
    html = (ws / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html and sections(html) == list(SECTIONS)
    assert (ws / "data" / "truth.csv").exists()


def test_a_failed_step_says_which_and_keeps_earlier_steps(tmp_path: Path) -> None:
    users = tmp_path / "users.csv"
    users.write_text("user_id,city\nu1,上海\nu2,北京\n", encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text("who,what,when\nu1,view,2024-01-01 10:00:00\n")
    ws = tmp_path / "shop"
    out = segmark("run", "--events", str(events), "--users", str(users), "-w", str(ws))
    assert out.returncode == 1
    assert "step 'ingest events' failed" in out.stderr and "required column(s) missing" in out.stderr
    with open_workspace(ws) as w:
        assert w.store.scalar("SELECT count(*) FROM users") == 2  # the step before stays done
        assert w.store.scalar("SELECT count(*) FROM events") == 0


def test_a_shop_too_small_to_cluster_still_gets_rfm_tags_and_report(tmp_path: Path) -> None:
    """Seven buyers: clustering is skipped with the count and the minimum, the rest of the flow runs."""
    events = tmp_path / "orders.csv"
    lines = ["user_id,ts,event_type,item_id,price"]
    for u in range(7):
        lines += [f"u{u},2024-0{m}-1{u} 10:00:00,purchase,i{m},{10 * (u + 1)}" for m in range(1, 2 + u % 3)]
    events.write_text("\n".join(lines) + "\n")
    ws = tmp_path / "small"
    out = segmark("run", "--events", str(events), "-w", str(ws))
    assert out.returncode == 0, out.stderr
    assert "7 users are too few to segment (at least 10 are needed)" in out.stdout
    assert "as of 2024-03-16, users 7" in out.stdout  # the local date, as every other view shows it
    assert (ws / "report.html").exists()
    with open_workspace(ws) as w:
        assert w.store.scalar("SELECT count(*) FROM segment_members") == 7  # the RFM segments
    alone = segmark("segment", "cluster", "-w", str(ws))
    assert alone.returncode == 1
    assert "it has 7 users, clustering needs at least 10" in alone.stderr
    # the same flow in Chinese, as demo --lang zh runs it: the output and the report
    ws_zh = tmp_path / "small-zh"
    out = segmark("run", "--events", str(events), "--lang", "zh", "-w", str(ws_zh))
    assert out.returncode == 0, out.stderr
    assert "导入行为事件" in out.stdout and "冠军用户" in out.stdout
    assert '<html lang="zh-CN">' in (ws_zh / "report.html").read_text(encoding="utf-8")
