"""The library page (docs/library.md) runs as written, and makes the same segments as the command
line on the same files."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import segmark as sm
from segmark.cli import app

PAGE = Path(__file__).resolve().parents[1] / "docs" / "library.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The page's code blocks run in order in one namespace, in a fresh folder, like a notebook."""
    folder = tmp_path_factory.mktemp("library")
    namespace: dict[str, Any] = {"__name__": "__main__"}
    here = Path.cwd()
    os.chdir(folder)
    try:
        blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
        assert len(blocks) >= 6
        for i, block in enumerate(blocks):
            exec(compile(block, f"{PAGE.name} block {i + 1}", "exec"), namespace)
    finally:
        os.chdir(here)
    return namespace, folder


def test_the_page_runs_and_makes_what_it_says(page: tuple[dict[str, Any], Path]) -> None:
    ns, folder = page
    assert ns["ws"].root is None and not list(folder.glob("*.duckdb"))  # the workspace was in memory
    features, members = ns["features"], ns["members"]
    assert features.index.name == "user_id" and features.index.is_unique
    assert set(members.index) == set(features.index)  # every user of the build has a segment
    assert {"segment_id", "key", "name", "name_zh"} <= set(members.columns)
    assert ns["why"]["segment_id"] == members.loc[ns["user"], "segment_id"]
    assert ns["placed"]["assigned"] == 0  # the later build holds no user the clustering lacks
    exported = pd.read_parquet(folder / "rfm_segments.parquet")
    assert len(exported) == len(features)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert 'lang="zh-CN"' in html and "用户分群报告" in html


def test_the_later_steps_of_the_page_make_what_it_says(page: tuple[dict[str, Any], Path]) -> None:
    """Predictions, CLV, recommendations, tags and an audience, each checked against the page's own
    frames: the audience holds exactly the scored users its expression selects."""
    ns, folder = page
    scores = ns["scores"]
    assert scores.index.name == "user_id" and scores.index.is_unique
    assert set(scores["churn_decile"]) == set(range(1, 11)) and scores["churn_probability"].between(0, 1).all()
    assert ns["risky"] == scores["churn_probability"].idxmax()
    assert ns["churn"].params["horizon_days"] == 60 and ns["churn"].horizon_days == 60
    assert ns["clv"]["customers"] == int(scores["clv_decile"].notna().sum())
    assert scores["p_alive"].dropna().between(0, 1).all()
    lists = ns["lists"]  # a known user and one the build never saw: three ranked items each
    assert lists.groupby("user_id")["rank"].apply(list).to_dict() == {ns["risky"]: [1, 2, 3],
                                                                      "a-new-visitor": [1, 2, 3]}
    selected = scores[(scores["churn_decile"] >= 8) & (scores["clv_decile"] >= 5)]
    win_back = ns["win_back"]
    assert win_back.size == len(selected) and win_back.treatment + win_back.control == win_back.size
    assert 0 < win_back.control < win_back.size * 0.2  # about 10 % held out, stratified by segment
    exported = pd.read_csv(folder / "win_back.csv", dtype={"user_id": str})
    assert set(exported["user_id"]) == set(selected.index.astype(str))
    assert exported["group"].value_counts().to_dict() == {"treatment": win_back.treatment,
                                                          "control": win_back.control}
    assert {t["tag"] for t in ns["tags"].taxonomy} >= {"churn_risk", "clv_level", "value_tier"}


def test_the_library_makes_the_same_segments_as_the_command_line(page: tuple[dict[str, Any], Path],
                                                                 tmp_path: Path) -> None:
    ns, folder = page
    runner = CliRunner()
    root = str(tmp_path / "cli-shop")

    def segmark(*args: str) -> str:
        result = runner.invoke(app, [*args, "-w", root] if args[0] != "init" else list(args))
        assert result.exit_code == 0, result.output
        return result.stdout

    segmark("init", root)
    for table in ("users", "items", "events"):
        segmark("ingest", table, str(folder / "shop" / f"{table}.csv"))
    segmark("features", "build")
    rfm = json.loads(segmark("segment", "rfm", "--json"))
    cluster = json.loads(segmark("segment", "cluster", "--json"))
    segmark("segments", "export", str(rfm["segmentation_id"]), "--out", str(tmp_path / "rfm.csv"))
    segmark("segments", "export", str(cluster["segmentation_id"]), "--out", str(tmp_path / "cluster.csv"))

    def by_user(frame: pd.DataFrame, key: str) -> pd.Series:
        return frame.assign(user_id=frame["user_id"].astype(str)).set_index("user_id")[key].sort_index()

    cli_rfm = pd.read_csv(tmp_path / "rfm.csv", dtype={"user_id": str})
    lib_rfm = pd.read_parquet(folder / "rfm_segments.parquet")
    assert by_user(cli_rfm, "segment_key").equals(by_user(lib_rfm, "segment_key"))
    assert by_user(cli_rfm, "r_score").equals(by_user(lib_rfm, "r_score").astype(cli_rfm["r_score"].dtype))

    cli_cluster = pd.read_csv(tmp_path / "cluster.csv", dtype={"user_id": str})
    lib_members = ns["members"].reset_index()
    assert by_user(cli_cluster, "segment_key").equals(by_user(lib_members, "key"))
    lib = ns["clusters"].segmentation
    assert (cluster["method"], cluster["n_segments"], cluster["reason"]) == (lib.method, lib.n_segments, lib.reason)


def test_the_public_names() -> None:
    assert sorted(sm.__all__) == sorted(set(sm.__all__))
    for name in sm.__all__:
        assert getattr(sm, name) is not None, name
    for name in ("open_workspace", "init_workspace", "memory_workspace", "ingest_frame", "build_features",
                 "load_features", "run_rfm", "run_cluster"):
        assert name in sm.__all__
