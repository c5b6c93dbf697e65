"""A simulated campaign on the sample shop, end to end: a planted true lift of +4 points, purchases
ingested as a file, read out through the CLI; the interval covers the planted lift."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits
from typer.testing import CliRunner

from segmark.cli import app
from segmark.demo import generate_shop, write_shop
from segmark.demo.campaign import baseline_from_features, simulate_campaign
from segmark.errors import InputError, NotReadyError
from segmark.pipeline.audience import create_audience
from segmark.pipeline.campaign import campaign_readout, fit_uplift
from segmark.pipeline.features import build_features, load_features
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.segments import run_rfm
from segmark.workspace import init_workspace, open_workspace

LIFT = 0.04


@pytest.fixture(scope="module")
def campaign_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The sample shop (4,000 users), an audience of its buyers with half held out, and a campaign
    two weeks after the data ends whose purchases are simulated with +4 points for the treated."""
    base = tmp_path_factory.mktemp("campaign")
    shop = generate_shop(n_users=4_000, seed=3)
    paths = write_shop(shop, base / "shop")
    root = init_workspace(base / "ws", timezone=shop.timezone)
    since = shop.as_of + timedelta(days=3)
    with open_workspace(root) as ws:
        for table in ("users", "items", "events"):
            ingest_file(ws, table, paths[table])
        build_features(ws, as_of=shop.as_of.isoformat())
        run_rfm(ws)
        a = create_audience(ws, "buyers", "frequency >= 1", holdout=0.5, seed=7)
        assert a.control == round(a.size * 0.5)
        members = ws.store.query_df("SELECT user_id, arm FROM audience_members ORDER BY user_id")
        _, features = load_features(ws.store)
        baseline = baseline_from_features(features.reindex(members["user_id"]))
        events = simulate_campaign(members, baseline, lift=LIFT, since=datetime.combine(since, datetime.min.time()),
                                   days=14, seed=11)
        events.to_csv(base / "campaign.csv", index=False)
        report = ingest_file(ws, "events", base / "campaign.csv")
        assert report.files[0].accepted == len(events)
    return root, since.isoformat()


def test_the_readout_interval_covers_the_planted_lift(campaign_ws: tuple[Path, str], tmp_path: Path) -> None:
    root, since = campaign_ws
    ws_copy = tmp_path / "ws"
    shutil.copytree(root, ws_copy)
    r = CliRunner().invoke(app, ["campaign", "readout", "buyers", "--since", since, "--json", "-w", str(ws_copy)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    for arm in ("treatment", "control"):
        assert set(out[arm]) >= {"users", "conversions", "conversion_rate", "revenue_per_user"}
    lift = out["lift"]
    assert set(lift) >= {"absolute", "relative", "ci_low", "ci_high"}
    assert lift["ci_low"] <= LIFT <= lift["ci_high"]
    assert lift["ci_low"] > 0 and lift["p_value"] < 0.01  # 1,300 users per group detect +4 points
    assert lift["absolute"] == pytest.approx(out["treatment"]["conversion_rate"] - out["control"]["conversion_rate"])
    segments = {s["segment"]: s for s in out["by_segment"]}
    assert sum(s["treatment"]["users"] + s["control"]["users"] for s in segments.values()) == \
        out["treatment"]["users"] + out["control"]["users"]
    assert all(s["control"]["users"] > 0 for s in segments.values() if s["treatment"]["users"] >= 20)
    # the purchases counted are exactly the simulated ones (none of the shop's own are in the window)
    with open_workspace(ws_copy) as ws:
        simulated = ws.store.scalar("SELECT count(DISTINCT user_id) FROM events WHERE order_id LIKE 'CMP%'")
        assert out["treatment"]["conversions"] + out["control"]["conversions"] == simulated
        assert ws.store.scalar("SELECT count(*) FROM campaign_readouts") == 1
    r = CliRunner().invoke(app, ["campaign", "readout", "buyers", "--since", since, "-w", str(ws_copy), "--lang",
                                 "zh"])
    assert r.exit_code == 0 and "转化率提升" in r.output


def test_uplift_model_stores_every_members_score(campaign_ws: tuple[Path, str], tmp_path: Path) -> None:
    root, since = campaign_ws
    ws_copy = tmp_path / "ws"
    shutil.copytree(root, ws_copy)
    with open_workspace(ws_copy) as ws:
        with threadpool_limits(1):  # OpenMP threads on a busy 2-core machine only slow small fits down
            r = fit_uplift(ws, "buyers", since, method="two-model")
        assert set(r) >= {"qini", "auuc", "auuc_random", "curve"}
        # the planted lift is the same for everyone, so a ranking cannot beat random by much
        assert abs(r["qini"]) < 0.02
        n = ws.store.scalar("SELECT count(*) FROM uplift_scores WHERE run_id = ?", [r["run_id"]])
        assert n == ws.store.scalar("SELECT size FROM audiences WHERE name = 'buyers'")


def test_readout_needs_a_control_group(campaign_ws: tuple[Path, str], tmp_path: Path) -> None:
    root, since = campaign_ws
    ws_copy = tmp_path / "ws"
    shutil.copytree(root, ws_copy)
    with open_workspace(ws_copy) as ws:
        create_audience(ws, "all_in", "frequency >= 1")
        with pytest.raises(NotReadyError, match=r"no control group.*holdout=0\.1, or --holdout 0\.1"):
            campaign_readout(ws, "all_in", since)
        local = r"\d{4}-\d\d-\d\d \d\d:\d\d[+-]\d\d:\d\d"  # the shop's clock, with its offset
        with pytest.raises(InputError, match=rf"^until \(2025-06-01 00:00[+-]\d\d:\d\d\) must be after since "
                                             rf"\({local}\); "
                                             "without until the window ends after the last event$"):
            campaign_readout(ws, "buyers", since, "2025-06-01")
        early = campaign_readout(ws, "buyers", "2025-06-01", since)
        assert "before the audience's features as_of" in early["warning"]


def test_plan_cli() -> None:
    r = CliRunner().invoke(app, ["campaign", "plan", "--baseline", "0.1", "--lift", "0.05", "--json"])
    data = json.loads(r.stdout)
    assert (data["control"], data["treatment"], data["power"]) == (686, 686, 0.8)
    r = CliRunner().invoke(app, ["campaign", "plan", "--baseline", "0.1", "--lift", "9", "--relative"])
    assert r.exit_code == 1 and "between 0 and 1" in r.output
    assert pd.notna(data["total"])
