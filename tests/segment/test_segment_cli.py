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
from segmark.numbers import significant

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
    # The JSON keeps the English reason with its code and figures; --lang zh says it in Chinese.
    assert detail["reason"].startswith("kmeans k=6 as asked: silhouette ")
    assert detail["selection"]["reason_code"] == "forced"
    assert detail["candidates"][0]["reason_code"] == "asked_for" and detail["candidates"][0]["reason"] == "asked for"
    chinese = segmark("segments", "show", str(cluster_id), "--lang", "zh", *w)
    assert chinese.exit_code == 0 and "按指定使用 kmeans k=6：轮廓系数 " in chinese.stdout and "入选" in chinese.stdout
    assert "as asked" not in chinese.stdout and "resampling" not in chinese.stdout

    user = pd.read_csv(shop_template / "truth.csv", dtype=str)["user_id"].iloc[0]
    why = json.loads(segmark("segments", "why", user, "--json", *w).stdout)
    assert why["segmentation_id"] == cluster_id and why["rule"]
    human = segmark("segments", "why", user, "--lang", "zh", *w)
    assert human.exit_code == 0 and "最近的中心" in human.stdout
    assert f"（分群 {cluster_id}，聚类分群，建模时划分）" in human.stdout  # the kind in Chinese too
    english = segmark("segments", "why", user, *w)
    assert f"(segmentation {cluster_id}, clustering, placed by fit)" in english.stdout
    assert "days since last visit recency_visit_days" in english.stdout  # the label, then the column

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
    # the revenue moved, as the JSON holds it: the largest cell's net spend, to three significant digits
    moved = json.loads(segmark("segments", "migration", "--json", *w).stdout)
    largest = max(v for row in moved["revenue"].values() for v in row.values())
    assert "net spend of those users" in mig.stdout and significant(largest) in mig.stdout
    assert "back in time" not in mig.stdout and "matched by their key" not in mig.stdout
    # two ids in the order given: later first says it runs back in time; RFM against a clustering says
    # only shared archetypes line up
    rfm = sorted(s["segmentation_id"] for s in json.loads(segmark("segments", "list", "--json", *w).stdout)
                 if s["kind"] == "rfm")
    backward = segmark("segments", "migration", str(rfm[0]), str(rfm[1]), *w)
    assert backward.exit_code == 0 and "runs back in time; give the earlier id first" in backward.stdout
    mixed = segmark("segments", "migration", str(rfm[0]), str(cluster_id), *w)
    assert mixed.exit_code == 0 and f"segmentation {rfm[0]} is RFM, {cluster_id} is clustering" in mixed.stdout


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
    refused_zh = segmark("segment", "cluster", "--lang", "zh", *w)
    assert refused_zh.exit_code == 1 and "没有真实的分群：" in refused_zh.output
    assert "no real segments" not in refused_zh.output


def test_as_a_separate_process(shop_template: Path, tmp_path: Path):
    ws = tmp_path / "ws"
    shutil.copytree(shop_template, ws)
    out = subprocess.run([sys.executable, "-m", "segmark.cli", "segment", "rfm", "--json", "-w", str(ws)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["kind"] == "rfm"


def _column(table, header: str) -> list[str]:
    (col,) = [c for c in table.columns if c.header == header]
    return [str(v) for v in col._cells]


def test_segments_table_labels_revenue_share_and_keeps_fit_figures_together(shop_template: Path, tmp_path: Path):
    """users, share and revenue share all describe the fit; members placed later by `segments assign`
    get a column of their own instead of changing "users" under a fit-time "share"."""
    from segmark.cli.segment_cmds import _segments_view
    from segmark.pipeline.features import load_features
    from segmark.pipeline.segments import assign_users, members, profile_table, run_rfm, segments_table
    from segmark.workspace import open_workspace

    root = tmp_path / "ws"
    shutil.copytree(shop_template, root)
    with open_workspace(root) as ws:
        early_run, late_run = sorted(r for (r,) in ws.store.query_rows("SELECT run_id FROM feature_runs"))
        seg = run_rfm(ws, feature_run_id=early_run).segmentation
        fitted = members(ws.store, seg.segmentation_id)
        _, early = load_features(ws.store, early_run)
        assign_users(ws, seg.segmentation_id, late_run, only_new=True)
        now = members(ws.store, seg.segmentation_id)
        table = segments_table(ws.store, seg.segmentation_id)
        profile = profile_table(ws.store, seg.segmentation_id)
    assert len(now) > len(fitted)  # newcomers were placed after the fit
    # The expected figures, from the members at fit and the early build's net spend (negative as 0).
    spend = early["monetary"].clip(lower=0).groupby(fitted["key"].reindex(early.index)).sum()
    size = fitted["key"].value_counts()
    shown = table[(table["size"] > 0) | (table["members"] > 0)]
    view = _segments_view(seg, table, profile, zh=False)
    headers = [c.header for c in view.columns]
    assert headers[:6] == ["id", "segment", "users", "share", "revenue share", "members now"]
    assert "revenue" not in headers
    keys = list(shown["key"])
    assert _column(view, "users") == [f"{int(size.get(k, 0)):,}" for k in keys]
    assert _column(view, "share") == [f"{size.get(k, 0) / len(fitted):.1%}" for k in keys]
    assert _column(view, "revenue share") == [f"{spend.get(k, 0.0) / spend.sum():.1%}" for k in keys]
    assert _column(view, "members now") == [f"{int((now['key'] == k).sum()):,}" for k in keys]
    zh = _segments_view(seg, table, profile, zh=True)
    assert [c.header for c in zh.columns][2:6] == ["用户数", "用户占比", "收入占比", "当前成员数"]
    # Without later placements the table has no members column.
    fit_only = table.assign(members=table["size"])
    assert "members now" not in [c.header for c in _segments_view(seg, fit_only, profile, zh=False).columns]


def test_segments_show_after_an_automatic_clustering(shop_template: Path, tmp_path: Path):
    """The default search includes HDBSCAN, whose candidates have no k (a missing value in a nullable
    integer column): `segments show` lists them with "-" instead of crashing on it."""
    ws = tmp_path / "ws"
    shutil.copytree(shop_template, ws)
    w = ("-w", str(ws))
    made = segmark("segment", "cluster", "--json", *w)
    assert made.exit_code == 0, made.output
    candidates = json.loads(segmark("segments", "show", "--json", *w).stdout)["candidates"]
    no_k = [c for c in candidates if c["k"] is None]
    assert no_k and {c["method"] for c in no_k} <= {"hdbscan", "dbscan"}
    shown = segmark("segments", "show", *w)
    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.stdout.splitlines() if line.startswith("│ ") and line.count("│") > 9]
    assert len(rows) == len(candidates)  # every candidate has its row, the one without k too
    assert any(r.split("│")[1].strip() == "hdbscan" and r.split("│")[2].strip() == "-" for r in rows)
