"""The report on real shops with their presets: Taobao's behaviour sample (in Chinese) and UCI Online
Retail (in English), through ingestion, features, RFM and automatic clustering."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markupsafe import escape

from segmark.core.segment import NoStructureError
from segmark.pipeline.features import build_features
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.report import write_report
from segmark.pipeline.segments import get_segmentation, run_cluster, run_rfm, segments_table
from segmark.report import SECTIONS
from segmark.report.text import tr
from segmark.workspace import init_workspace, open_workspace

CASES = {
    "taobao": ("taobao-userbehavior-sample/UserBehavior_first814users.csv", "taobao", "zh"),
    "online-retail": ("uci-online-retail/online_retail_full_no_invoice_stockcode.parquet", "online-retail", "en"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_real_shop_report(case: str, shared_data: Path, tmp_path: Path) -> None:
    rel, preset, lang = CASES[case]
    root = init_workspace(tmp_path / case)
    with open_workspace(root) as ws:
        ingest_file(ws, "events", shared_data / rel, mapping=preset)
        build_features(ws)
        run_rfm(ws)
        try:
            run_cluster(ws)
            clustered = True
        except NoStructureError:  # recorded with every candidate: the report must show them and why
            clustered = False
        html = write_report(ws, tmp_path / f"{case}.html", lang).read_text(encoding="utf-8")
        rfm = segments_table(ws.store, get_segmentation(ws.store, kind="rfm").segmentation_id).query("size > 0")
        cluster = (segments_table(ws.store, get_segmentation(ws.store, kind="cluster").segmentation_id)
                   if clustered else None)
        n_events = ws.store.scalar("SELECT count(*) FROM events")
        n_quarantined = ws.store.scalar("SELECT count(*) FROM quarantine")

    assert re.findall(r'<section id="(\w+)"', html) == list(SECTIONS)
    figs = json.loads(re.search(r'id="segmark-figures">(.*?)</script>', html, re.S).group(1))
    dumped = json.dumps(figs, ensure_ascii=False)
    column = "name_zh" if lang == "zh" else "name"
    assert all(name in dumped for name in rfm[column]), list(rfm[column])
    expected = {"events_by_type", "sizes_rfm", "rfm_grid", "profile", "selection"}
    expected |= {"quarantine"} if n_quarantined else set()
    if clustered:
        expected |= {"sizes_cluster", "map"}
        assert all(name in dumped for name in cluster[column])
    else:
        assert str(escape(tr("no_structure_short", lang))) in html
        assert figs["profile"]["layout"]["title"]["text"] == f"<b>{tr('t_profile_rfm', lang)}</b>"
    assert set(figs) == expected
    assert f"{n_events:,}" in html  # the header card and the overview reading hold the exact count
    assert tr("missing_migration", lang, n=1) in html
    if lang == "zh":
        assert '<html lang="zh-CN">' in html and "数据概览与质量" in html
