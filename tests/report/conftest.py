"""Report fixtures: a hand-made ReportData whose readings are known, and a real headless Chromium."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from segmark.demo import generate_shop, write_shop
from segmark.pipeline.features import build_features
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.segments import run_cluster, run_rfm
from segmark.report import (
    ClusterView,
    MapPoints,
    MigrationView,
    Overview,
    ReportData,
    RFMView,
    Segments,
    Selection,
    build_charts,
)
from segmark.workspace import init_workspace, open_workspace

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("SEGMARK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

RFM_NAMES = {"champions": ("Champions", "冠军用户"), "loyal": ("Loyal", "忠诚用户"),
             "at_risk": ("At Risk", "流失风险用户"), "lost": ("Lost", "已流失用户"),
             "no_purchase": ("No purchase yet", "未购买用户")}


def _segments(kind: str, rows: list[tuple[str, str, str, int, float]], run_id: int) -> Segments:
    """(key, name, name_zh, users, revenue) -> a Segments table with shares."""
    t = pd.DataFrame(rows, columns=["segment", "name", "name_zh", "size", "revenue"]).set_index("segment")
    t["share"] = t["size"] / t["size"].sum()
    t["revenue_share"] = t["revenue"] / t["revenue"].sum()
    return Segments(kind, run_id, datetime(2025, 1, 1), t)


def make_report_data() -> ReportData:
    """A small shop whose every figure is known: 100 users, revenue 1,000."""
    ov = Overview(
        shop="toy-shop", events=1000, users=100, items=40,
        first_ts=datetime(2024, 1, 1, 8), last_ts=datetime(2024, 12, 31, 20),
        events_by_type={"view": 700, "cart": 200, "purchase": 80, "refund": 20},
        quarantine=pd.DataFrame([("events", "unparseable_ts", 6), ("users", "invalid_age", 2)],
                                columns=["table", "reason", "rows"]),
        sources=pd.DataFrame([("events", "/data/events.csv", 1010, 1000, 6, 4)],
                             columns=["table", "file", "rows_read", "accepted", "quarantined", "duplicates"]),
        buyers=70, revenue=1000.0, as_of=datetime(2025, 1, 1))
    rfm_seg = _segments("rfm", [
        ("champions", "Champions", "冠军用户", 8, 410.0), ("loyal", "Loyal", "忠诚用户", 12, 200.0),
        ("at_risk", "At Risk", "流失风险用户", 19, 150.0), ("lost", "Lost", "已流失用户", 31, 240.0),
        ("no_purchase", "No purchase yet", "未购买用户", 30, 0.0)], run_id=3)
    cells = pd.DataFrame([
        (5, 5, "champions", 8, 410.0), (4, 4, "loyal", 12, 200.0), (1, 4, "at_risk", 19, 150.0),
        (1, 1, "lost", 25, 200.0), (1, 1, "at_risk", 0, 0.0), (2, 1, "lost", 6, 40.0),
        (0, 0, "no_purchase", 30, 0.0)], columns=["r_score", "f_score", "segment", "users", "monetary_sum"])
    rfm_profile = pd.DataFrame([(s, f, lift) for s, lifts in {
        "champions": (0.3, 4.0, 5.1), "loyal": (0.5, 2.0, 1.7), "at_risk": (2.0, 1.5, 1.2), "lost": (3.0, 0.5, 0.6),
        "no_purchase": (np.nan, 0.0, 0.0)}.items() for f, lift in zip(("recency_days", "frequency", "monetary"), lifts,
                                                                     strict=True)],
        columns=["segment", "feature", "lift"])
    rfm = RFMView(rfm_seg, cells, scale=5, profile=rfm_profile)

    cl_seg = _segments("cluster", [
        ("0", "Window shoppers", "只逛不买用户", 50, 100.0), ("1", "High-value loyal", "高价值忠诚用户", 30, 800.0),
        ("2", "Cart abandoners", "加购未买用户", 20, 100.0)], run_id=4)
    feats = ["views_90d", "monetary", "carts_90d"]
    lifts = {"0": (2.0, 0.2, 0.5), "1": (0.8, 2.7, 1.0), "2": (1.1, 0.5, 3.5)}
    profile = pd.DataFrame([(s, f, lifts[s][i], lifts[s][i] * 10, 10.0) for s in lifts for i, f in enumerate(feats)],
                           columns=["segment", "feature", "lift", "median", "overall_median"])
    rules = pd.DataFrame([
        ("0", "views_90d > 20 and frequency <= 0", "views_90d > 20且frequency <= 0", 45, 0.9, 0.9),
        ("1", "monetary > 500", "monetary > 500", 28, 0.95, 0.93),
        ("2", "carts_90d >= 5", "carts_90d >= 5", 18, 0.85, 0.9)],
        columns=["segment", "text", "text_zh", "users", "precision", "coverage"])
    candidates = pd.DataFrame([
        ("kmeans", 2, 2, 0.30, 0.10, 500.0, 1.2, 0.95, 0.3, "eligible", "stability not measured"),
        ("kmeans", 3, 3, 0.42, 0.25, 650.0, 0.8, 0.91, 0.2, "winner", "largest silhouette gain among stable"),
        ("kmeans", 4, 4, 0.35, 0.18, 600.0, 0.9, np.nan, 0.01, "rejected", "smallest segment holds 1.0%"),
        ("hdbscan", None, 5, 0.20, 0.02, 300.0, 1.5, np.nan, 0.05, "eligible", "silhouette gain below 0.05")],
        columns=["method", "k", "n_clusters", "silhouette", "gain", "calinski_harabasz", "davies_bouldin",
                 "stability", "min_share", "status", "reason"])
    candidates["k"] = candidates["k"].astype("Int64")
    selection = Selection(candidates, "kmeans", 3, "kmeans k=3: the largest silhouette gain", True,
                          {"min_gain": 0.05, "min_stability": 0.6, "min_share": 0.02})
    rng = np.random.default_rng(0)
    points = pd.DataFrame({"user_id": [f"u{i}" for i in range(100)], "x": rng.normal(size=100),
                           "y": rng.normal(size=100), "segment": ["0"] * 50 + ["1"] * 30 + ["2"] * 20})
    cluster = ClusterView(cl_seg, selection, MapPoints(points, "pca", (0.4, 0.2), 3, 100), profile, rules, 0.87,
                          feats)
    names = {k: RFM_NAMES[k] for k in RFM_NAMES}
    moves = pd.DataFrame([[6, 1, 0, 1, 0], [0, 9, 2, 0, 1], [0, 0, 15, 4, 0], [0, 0, 0, 30, 1], [2, 2, 2, 0, 0]],
                         index=["champions", "loyal", "at_risk", "lost", "(new)"],
                         columns=["champions", "loyal", "at_risk", "lost", "(gone)"])
    migration = MigrationView("rfm", 1, 3, datetime(2024, 12, 1), datetime(2025, 1, 1), moves, names, names)
    return ReportData(ov, rfm, cluster, [migration], {"rfm": 2, "cluster": 1},
                      {"views_90d": "近90天浏览次数", "monetary": "净消费金额", "carts_90d": "近90天加购次数"})


@pytest.fixture(scope="session")
def report_data() -> ReportData:
    """The toy shop's report data (shared: tests must not change it)."""
    return make_report_data()


@pytest.fixture(scope="session")
def toy_charts(report_data: ReportData) -> dict[str, dict[str, Any]]:
    """The toy shop's charts by language and key (built once: Plotly figures are slow to build)."""
    return {lang: build_charts(report_data, lang) for lang in ("en", "zh")}


# -- the sample shop as a workspace ----------------------------------------------------------------

@pytest.fixture(scope="session")
def features_shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A sample shop of 2,000 users, ingested with its planted faults, features built; no segments.

    Returns the workspace folder and the generator's count of dirty rows per kind.
    """
    root = init_workspace(tmp_path_factory.mktemp("report") / "features-shop")
    shop = generate_shop(n_users=2_000, seed=3)
    paths = write_shop(shop, root / "data")
    with open_workspace(root) as ws:
        for table in ("users", "items", "events"):
            ingest_file(ws, table, paths[table])
        build_features(ws)
    return root, shop.dirty


@pytest.fixture(scope="session")
def segmented_shop(features_shop: tuple[Path, dict[str, int]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same shop segmented twice: RFM and clustering as of 2025-11-01, then as of the default date
    (the day after the last event, 2026-01-01), so the latest segmentations have a migration."""
    root = tmp_path_factory.mktemp("report") / "segmented-shop"
    shutil.copytree(features_shop[0], root)
    with open_workspace(root) as ws:
        (current,) = ws.store.query_rows("SELECT max(run_id) FROM feature_runs")[0]
        earlier = build_features(ws, as_of="2025-11-01")
        for run_id in (earlier.run_id, current):
            run_rfm(ws, feature_run_id=run_id)
            run_cluster(ws, feature_run_id=run_id)
    return root


# -- a real browser ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_context() -> Iterator[Any]:
    """A headless Chromium (Debian's package) driven by Playwright, with a fresh profile.

    Fails, never skips, when the browser is missing: the report's rendering is part of the contract.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: the report's browser tests need it. Install it with "
                    "`sudo apt-get install -y chromium` (Debian/Ubuntu), or point SEGMARK_CHROMIUM at a "
                    "Chromium or Chrome binary.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        pytest.fail("the Python package playwright is missing: pip install -e '.[dev]' (no browser download "
                    "is needed: the tests use the system Chromium)")
    with tempfile.TemporaryDirectory(prefix="segmark-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, offline=True)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def open_in_browser(browser_context: Any) -> Any:
    """``open_in_browser(path, screenshot=None)`` -> what the page rendered (see ``_open_report``)."""
    return lambda path, screenshot=None: _open_report(browser_context, path, screenshot)


def _open_report(context: Any, path: Path, screenshot: str | None = None) -> dict[str, Any]:
    """Load a report file and return what rendered: per chart its SVG and size, errors and requests."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        try:  # the page marks itself when every chart has drawn or failed
            page.wait_for_selector("html[data-charts-done]", state="attached", timeout=20_000)
        except PlaywrightTimeout:
            errors.append("the page never finished drawing its charts")
        charts = page.evaluate("""() => Array.from(document.querySelectorAll('[data-chart]')).map(n => {
            const r = n.getBoundingClientRect();
            const svg = n.querySelector('.main-svg');
            return {key: n.dataset.chart, plotly: n.classList.contains('js-plotly-plot'), svg: !!svg,
                    width: r.width, height: r.height,
                    marks: n.querySelectorAll('.point, .bars path, .heatmaplayer image').length,
                    title: (n.querySelector('.gtitle') || {}).textContent || ''};
        })""")
        info = {"charts": charts, "errors": errors, "requests": requests,
                "plotly_plots": page.locator(".js-plotly-plot").count(),
                "h1": page.locator("h1").inner_text(),
                "sections": page.eval_on_selector_all("section.section", "els => els.map(e => e.id)"),
                # the model-selection table's box: wider content than the box means a sideways scroll
                "candidates": page.evaluate("""() => { const s = document.querySelector('.candidates .table-scroll');
                    return s ? {scroll: s.scrollWidth, client: s.clientWidth} : null; }""")}
        if screenshot:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
        return info
    finally:
        page.close()
