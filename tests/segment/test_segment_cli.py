"""The segment commands on a real workspace: in-process through the real Typer app (fast), and
once as a separate process, as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from segmark.cli import app

runner = CliRunner()


def segmark(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_segment_commands_end_to_end(shop_template: Path, tmp_path: Path):
    ws = tmp_path / "ws"
    shutil.copytree(shop_template, ws)
    w = ("-w", str(ws))

    out = segmark("segment", "rfm", "--lang", "zh", *w)
    assert out.exit_code == 0, out.output
    assert "冠军用户" in out.stdout and "R 4-5, F 4-5, M 4-5" in out.stdout

    out = segmark("segment", "cluster", "--method", "kmeans", "--k", "6", "--json", *w)
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["kind"] == "cluster" and result["n_segments"] == 6
    assert sum(s["size"] for s in result["segments"]) == 3000
    cluster_id = result["segmentation_id"]

    listing = json.loads(segmark("segments", "list", "--json", *w).stdout)
    assert [s["kind"] for s in listing] == ["cluster", "rfm"]

    shown = segmark("segments", "show", str(cluster_id), *w)
    assert shown.exit_code == 0 and "candidates" in shown.stdout and "winner" in shown.stdout
    detail = json.loads(segmark("segments", "show", str(cluster_id), "--json", *w).stdout)
    assert len(detail["candidates"]) == 1 and detail["segments"][0]["distinguishing"]

    user = pd.read_csv(shop_template / "truth.csv", dtype=str)["user_id"].iloc[0]
    why = json.loads(segmark("segments", "why", user, "--json", *w).stdout)
    assert why["segmentation_id"] == cluster_id and why["rule"]
    human = segmark("segments", "why", user, "--lang", "zh", *w)
    assert human.exit_code == 0 and "最近的中心" in human.stdout

    out_file = tmp_path / "seg.csv"
    assert segmark("segments", "export", "--out", str(out_file), *w).exit_code == 0
    assert len(pd.read_csv(out_file)) == 3000

    assigned = json.loads(segmark("segments", "assign", "--json", *w).stdout)
    assert assigned["assigned"] == 3000 and assigned["new"] == 0

    # A second RFM segmentation on the earlier feature build gives a migration between dates.
    runs = json.loads(segmark("features", "runs", "--json", *w).stdout)
    early = min(r["run_id"] for r in runs)
    assert segmark("segment", "rfm", "--features-run", str(early), *w).exit_code == 0
    mig = segmark("segments", "migration", *w)
    assert mig.exit_code == 0, mig.output
    assert "kept their segment" in mig.stdout


def test_errors_are_messages(shop_template: Path, tmp_path: Path):
    ws = tmp_path / "ws"
    shutil.copytree(shop_template, ws)
    w = ("-w", str(ws))
    bad_k = segmark("segment", "cluster", "--k", "many", *w)
    assert bad_k.exit_code != 0 and "--k" in bad_k.output
    missing = segmark("segment", "cluster", "--features", "frequency,shoe_size", *w)
    assert missing.exit_code == 1 and "shoe_size" in missing.output and "Traceback" not in missing.output
    none = segmark("segments", "show", *w)
    assert none.exit_code == 1 and "segmark segment" in none.output
    (ws / "segmark.toml").write_text("[segment]\nmin_silhouette_gain = 0.9\n", encoding="utf-8")
    refused = segmark("segment", "cluster", *w)
    assert refused.exit_code == 1 and "no real segments" in refused.output


def test_as_a_separate_process(shop_template: Path, tmp_path: Path):
    ws = tmp_path / "ws"
    shutil.copytree(shop_template, ws)
    out = subprocess.run([sys.executable, "-m", "segmark.cli", "segment", "rfm", "--json", "-w", str(ws)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["kind"] == "rfm"
