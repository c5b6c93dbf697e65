"""The report in a real browser (headless Chromium): every chart draws, no script error, no network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from segmark.pipeline.report import write_report
from segmark.report import SECTIONS, ReportData, render_report
from segmark.workspace import open_workspace

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # where conftest keeps the screenshots

pytestmark = pytest.mark.browser


def assert_rendered(info: dict[str, Any], expected: set[str]) -> None:
    """Every expected chart has Plotly's SVG at a visible size; nothing failed or left the file."""
    assert info["errors"] == []
    assert [u for u in info["requests"] if not u.startswith(("file:", "data:", "blob:", "about:"))] == []
    charts = {c["key"]: c for c in info["charts"]}
    assert set(charts) == expected
    assert info["plotly_plots"] == len(expected)
    for key, c in charts.items():
        assert c["plotly"] and c["svg"], key
        assert c["width"] > 300 and c["height"] > 150, (key, c["width"], c["height"])
        assert c["marks"] > 0, key  # bars, points or heatmap cells were drawn
        assert c["title"], key


def test_toy_report_renders_in_both_languages(report_data: ReportData, tmp_path: Path, open_in_browser) -> None:
    expected = {"events_by_type", "quarantine", "sizes_rfm", "sizes_cluster", "rfm_grid", "map", "profile",
                "selection", "migration_rfm"}
    for lang in ("en", "zh"):
        path = tmp_path / f"toy-{lang}.html"
        path.write_text(render_report(report_data, lang), encoding="utf-8")
        info = open_in_browser(path)
        assert_rendered(info, expected)
        assert info["sections"] == list(SECTIONS)  # sections without data say so in one line
        box = info["candidates"]  # at 1280 px the selection table fits: its "why" is not cut
        assert box is not None and box["scroll"] <= box["client"], box
        titles = {c["key"]: c["title"] for c in info["charts"]}
        if lang == "zh":
            assert info["h1"] == "用户分群报告" and titles["rfm_grid"].startswith("RFM 网格")
        else:
            assert info["h1"] == "Customer segment report" and titles["map"] == "Users on two axes (PCA)"


def test_a_chart_that_fails_to_draw_is_caught(report_data: ReportData, tmp_path: Path, open_in_browser) -> None:
    """The check above has teeth: a figure missing from the page's data is an error and an empty chart."""
    html = render_report(ReportData(report_data.overview), "en")  # two charts: events by type, quarantine
    html = html.replace('"quarantine":{', '"quarantine_gone":{', 1)
    path = tmp_path / "broken.html"
    path.write_text(html, encoding="utf-8")
    info = open_in_browser(path)
    assert any("chart quarantine failed" in e for e in info["errors"]), info["errors"]
    charts = {c["key"]: c for c in info["charts"]}
    assert not charts["quarantine"]["svg"] and charts["events_by_type"]["svg"]


def test_sample_shop_report_renders_with_every_chart(segmented_shop: Path, tmp_path: Path, open_in_browser) -> None:
    """The sample shop after two segmentation runs: ten charts, in English and Chinese; screenshots are
    kept in test-artifacts/ for a person to look at."""
    expected = {"events_by_type", "quarantine", "sizes_rfm", "sizes_cluster", "rfm_grid", "map", "profile",
                "selection", "migration_rfm", "migration_cluster"}
    with open_workspace(segmented_shop, read_only=True) as ws:
        paths = {lang: write_report(ws, tmp_path / f"shop-{lang}.html", lang) for lang in ("en", "zh")}
    for lang, path in paths.items():
        info = open_in_browser(path, screenshot=f"report-sample-shop-{lang}.png")
        assert_rendered(info, expected)
        assert (ARTIFACTS / f"report-sample-shop-{lang}.png").stat().st_size > 50_000
    # the map draws every sampled user: one point per user, in one trace per segment
    points = sum(c["marks"] for c in info["charts"] if c["key"] == "map")
    assert points >= 1_000
