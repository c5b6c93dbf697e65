"""The tags, audiences and campaign sections on the sample shop, in a real browser: after tags, two
audiences, a simulated campaign (+5 points planted) read out and an uplift model, every chart of the
page draws in both languages and each reading quotes the stored figures."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from segmark.demo.campaign import baseline_from_features, simulate_campaign
from segmark.pipeline.audience import create_audience
from segmark.pipeline.campaign import campaign_readout, fit_uplift
from segmark.pipeline.features import load_features
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.report import write_report
from segmark.pipeline.tags import apply_tags
from segmark.report.text import fmt_pct
from segmark.workspace import open_workspace

from .test_browser import assert_rendered

pytestmark = pytest.mark.browser

SEGMENT_CHARTS = {"events_by_type", "quarantine", "sizes_rfm", "sizes_cluster", "rfm_grid", "map", "profile",
                  "selection", "migration_rfm", "migration_cluster"}
OUR_CHARTS = {"tag_values", "audience_groups", "campaign_readout", "campaign_segments", "campaign_qini"}


@pytest.fixture(scope="module")
def campaign_shop(segmented_shop: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("report") / "campaign-shop"
    shutil.copytree(segmented_shop, root)
    with open_workspace(root) as ws:
        apply_tags(ws)
        create_audience(ws, "winback", "has_tag('lifecycle_stage', '沉睡客户') OR segment = 'Lapsed'", holdout=0.2)
        create_audience(ws, "buyers", "frequency >= 1", holdout=0.5, seed=4)
        members = ws.store.query_df("SELECT m.user_id, m.arm FROM audience_members m JOIN audiences a "
                                    "USING (audience_id) WHERE a.name = 'buyers' ORDER BY m.user_id")
        _, features = load_features(ws.store)
        events = simulate_campaign(members, baseline_from_features(features.reindex(members["user_id"])),
                                   lift=0.05, since=datetime(2026, 1, 5), days=14, seed=2)
        events.to_csv(root / "campaign.csv", index=False)
        ingest_file(ws, "events", root / "campaign.csv")
        readout = campaign_readout(ws, "buyers", "2026-01-05")
        with threadpool_limits(1):
            fit_uplift(ws, "buyers", "2026-01-05", method="two-model")
    return root, json.loads(json.dumps(readout, default=str))


def test_every_chart_draws_in_both_languages(campaign_shop: tuple[Path, dict], tmp_path: Path,
                                             open_in_browser) -> None:
    root, readout = campaign_shop
    with open_workspace(root, read_only=True) as ws:
        paths = {lang: write_report(ws, tmp_path / f"campaign-{lang}.html", lang) for lang in ("en", "zh")}
    for lang, path in paths.items():
        info = open_in_browser(path, screenshot=f"report-campaign-{lang}.png")
        assert_rendered(info, SEGMENT_CHARTS | OUR_CHARTS)
        assert [s for s in info["sections"] if s in ("tags", "audiences", "campaign")] == ["tags", "audiences",
                                                                                            "campaign"]
    html = paths["en"].read_text(encoding="utf-8")
    t, c = readout["treatment"]["conversion_rate"], readout["control"]["conversion_rate"]
    lift = readout["lift"]
    assert (f"Treatment converted {fmt_pct(t)} against {fmt_pct(c)} for control: "
            f"{lift['absolute'] * 100:+.1f} points, 95% interval [{lift['ci_low'] * 100:+.1f}, "
            f"{lift['ci_high'] * 100:+.1f}]") in html
    assert "2 audiences saved; the largest, buyers" in html
    assert "Win-back coupon with a deadline" in html  # the playbook of the Lapsed segment
    zh = paths["zh"].read_text(encoding="utf-8")
    assert "实验组转化率" in zh and "限时召回优惠券" in zh and "年龄段" in zh
