"""The report from a real workspace: the sample shop (2,000 users) through ingestion, features and
segmentation, read back by ``collect_report_data`` and written by ``write_report`` and ``segmark report``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import date
from html import unescape
from pathlib import Path

import pytest

from segmark.core.segment.model import NoStructureError
from segmark.errors import NotReadyError
from segmark.pipeline.features import build_features
from segmark.pipeline.report import collect_report_data, resolve_lang, write_report
from segmark.pipeline.segments import get_segmentation, last_refused_clustering, run_cluster, run_rfm, segments_table
from segmark.report import SECTIONS
from segmark.report.text import fmt_pct
from segmark.workspace import Workspace, init_workspace, open_workspace

ALL_CHARTS = {"events_by_type", "quarantine", "sizes_rfm", "sizes_cluster", "rfm_grid", "map", "profile",
              "selection", "migration_rfm", "migration_cluster"}


def page_figures(html: str) -> dict:
    """The figures embedded in a report page, by chart key."""
    data = re.search(r'<script type="application/json" id="segmark-figures">(.*?)</script>', html, re.S)
    assert data is not None
    return json.loads(data.group(1))

EXPECTED_REASON = {  # the generator's fault kinds -> quarantine reasons
    "events.unparseable_timestamp": "unparseable_ts", "events.unknown_event_type": "unknown_event_type",
    "events.negative_price": "negative_price", "events.non_numeric_price": "non_numeric_price",
    "events.empty_user_id": "missing_user_id", "users.age_out_of_range": "invalid_age",
    "users.unparseable_signup_date": "unparseable_date", "users.empty_user_id": "missing_user_id",
}


def test_overview_matches_the_store_and_the_planted_faults(features_shop: tuple[Path, dict[str, int]]) -> None:
    root, dirty = features_shop
    with open_workspace(root, read_only=True) as ws:
        data = collect_report_data(ws.store)
        ov = data.overview
        assert ov.events == ws.store.scalar("SELECT count(*) FROM events")
        assert ov.users == ws.store.scalar("SELECT count(DISTINCT user_id) FROM events")
        assert ov.revenue == pytest.approx(ws.store.scalar(
            "SELECT sum(CASE event_type WHEN 'purchase' THEN amount WHEN 'refund' THEN -amount ELSE 0 END) "
            "FROM events"))
    planted: dict[tuple[str, str], int] = {}
    for kind, n in dirty.items():
        if kind in EXPECTED_REASON and n:
            key = (kind.split(".")[0], EXPECTED_REASON[kind])
            planted[key] = planted.get(key, 0) + n
    got = {(t, r): n for t, r, n in ov.quarantine.itertuples(index=False)}
    assert got == planted
    assert ov.rows_quarantined == sum(planted.values())
    assert set(ov.sources["table"]) == {"users", "items", "events"}
    assert ov.as_of is not None and ov.first_ts < ov.last_ts
    assert data.feature_labels["monetary"] == "净消费金额"


def test_before_segmentation_the_report_says_what_to_run(features_shop: tuple[Path, dict[str, int]],
                                                        tmp_path: Path) -> None:
    root, _ = features_shop
    out = tmp_path / "before.html"
    with open_workspace(root, read_only=True) as ws:
        if ws.store.table_exists("segment_runs"):
            pytest.fail("this workspace should have no segmentation yet")
        write_report(ws, out, "en")
    html = out.read_text(encoding="utf-8")
    assert "No RFM segmentation yet: run `segmark segment rfm`." in html
    assert "Migration needs two segmentation runs of the same kind; this workspace has 0." in html
    assert 'data-chart="events_by_type"' in html and 'data-chart="quarantine"' in html


def test_empty_workspace_is_not_ready(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotReadyError, match="segmark ingest events"):
        write_report(ws, tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_language_comes_from_the_flag_then_report_lang_then_lang(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "zh-shop")
    (root / "segmark.toml").write_text('lang = "zh"\n', encoding="utf-8")
    with open_workspace(root) as ws:
        assert resolve_lang(ws, None) == "zh" and resolve_lang(ws, "en") == "en"
    (root / "segmark.toml").write_text('lang = "zh"\n[report]\nlang = "en"\n', encoding="utf-8")
    with open_workspace(root) as ws:
        assert resolve_lang(ws, None) == "en"


def test_cli_writes_the_report(features_shop: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    root, _ = features_shop
    out = tmp_path / "报告" / "report.html"
    done = subprocess.run([sys.executable, "-m", "segmark.cli", "report", "--out", str(out), "--lang", "zh",
                           "-w", str(root)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "report written to" in done.stdout and out.exists()
    html = out.read_text(encoding="utf-8")
    assert "<title>用户分群报告 · features-shop</title>" in html
    bad = subprocess.run([sys.executable, "-m", "segmark.cli", "report", "--lang", "fr", "-w", str(root)],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "fr" in bad.stderr


# -- after segmentation -----------------------------------------------------------------------------

def test_segmented_shop_report_shows_every_chart_and_the_stored_names(segmented_shop: Path, tmp_path: Path) -> None:
    with open_workspace(segmented_shop, read_only=True) as ws:
        rfm, cluster = get_segmentation(ws.store, kind="rfm"), get_segmentation(ws.store, kind="cluster")
        names = {kind: segments_table(ws.store, seg.segmentation_id).query("size > 0")
                 for kind, seg in (("rfm", rfm), ("cluster", cluster))}
        n_candidates = ws.store.scalar("SELECT count(*) FROM segment_candidates WHERE segmentation_id = ?",
                                       [cluster.segmentation_id])
        pages = {lang: write_report(ws, tmp_path / f"report-{lang}.html", lang).read_text(encoding="utf-8")
                 for lang in ("en", "zh")}
    for lang, html in pages.items():
        figs = page_figures(html)
        assert set(figs) == ALL_CHARTS, lang
        assert re.findall(r'<section id="(\w+)"', html) == list(SECTIONS)
        dumped = json.dumps(figs, ensure_ascii=False)
        column = "name_zh" if lang == "zh" else "name"
        for kind, table in names.items():
            for name in table[column]:
                assert name in dumped, (lang, kind, name)
        if lang == "zh":  # every chart title in Chinese, and no English segment name in the figures
            assert all(re.search(r"[\u4e00-\u9fff]", f["layout"]["title"]["text"]) for f in figs.values())
            assert not [n for n in names["cluster"]["name"] if n not in names["cluster"]["name_zh"].tolist()
                        and re.search(rf"\b{re.escape(n)}\b", dumped)]
    en = pages["en"]
    fidelity = fmt_pct(cluster.metrics["surrogate_fidelity"])
    assert f"The rules agree with the segments for {fidelity} of held-out users" in en
    assert en.count('<tr class="winner">') == 1
    assert len(re.findall(r'<tr class="(?:winner|eligible|rejected)">', en)) == n_candidates
    assert "migration from run" in en and len(en) < 6_000_000


def test_rfm_grid_and_map_agree_with_the_members(segmented_shop: Path) -> None:
    with open_workspace(segmented_shop, read_only=True) as ws:
        data = collect_report_data(ws.store, max_points=500)
        rfm, cluster = get_segmentation(ws.store, kind="rfm"), get_segmentation(ws.store, kind="cluster")
        cells = dict(((r, f), n) for r, f, n in ws.store.query_rows(
            "SELECT r_score, f_score, count(*) FROM segment_members WHERE segmentation_id = ? GROUP BY 1, 2",
            [rfm.segmentation_id]))
        sizes = dict(ws.store.query_rows(
            "SELECT s.key, count(*) FROM segment_members m JOIN segments s USING (segmentation_id, segment_id) "
            "WHERE segmentation_id = ? GROUP BY 1", [cluster.segmentation_id]))
        n_users = ws.store.scalar("SELECT n_users FROM feature_runs WHERE run_id = ?", [cluster.feature_run_id])
    got = data.rfm.cells.groupby(["r_score", "f_score"])["users"].sum().to_dict()
    assert got == cells and data.rfm.scale == 5
    mp = data.cluster.map
    assert mp.n_total == sum(sizes.values()) == n_users
    assert len(mp.points) <= 500 + 30 * len(sizes)
    per_segment = mp.points["segment"].value_counts()
    assert set(per_segment.index) == set(sizes)  # every segment is on the map, the small ones too
    assert all(per_segment[k] >= min(30, n) for k, n in sizes.items())
    assert mp.points["user_id"].is_unique and mp.method == "pca" and 0 < sum(mp.explained) <= 1
    kinds = {m.kind: m for m in data.migrations}
    assert set(kinds) == {"rfm", "cluster"} and kinds["rfm"].to_run == rfm.segmentation_id
    # every user of the later run is counted once (the "(gone)" column holds the earlier run's leavers)
    later = kinds["rfm"].users.drop(columns="(gone)", errors="ignore")
    assert int(later.to_numpy().sum()) == sum(cells.values())


ENGLISH_SELECTION_WORDS = re.compile(
    r"\b(silhouette|stable|stability|unstable|segments?|candidates?|structureless|resampling|below|above|asked|"
    r"finest|largest|smallest|fit|measured|uniform|warning|users|preferred|real)\b", re.I)


def _section_text(html: str, section: str) -> str:
    found = re.search(rf'<section id="{section}".*?</section>', html, re.S)
    assert found is not None, section
    return unescape(re.sub(r"<[^>]+>", " ", found.group(0)))


def test_the_chinese_page_says_why_in_chinese(segmented_shop: Path, tmp_path: Path) -> None:
    """Model selection's reason and every candidate's reason are rendered from their codes: the
    Chinese page (text and chart hovers) has no English selection sentence; the English page shows
    the stored English text."""
    with open_workspace(segmented_shop, read_only=True) as ws:
        cluster = get_segmentation(ws.store, kind="cluster")
        stored = ws.store.query_rows("SELECT reason FROM segment_candidates WHERE segmentation_id = ? "
                                     "AND reason <> ''", [cluster.segmentation_id])
        pages = {lang: write_report(ws, tmp_path / f"r-{lang}.html", lang).read_text(encoding="utf-8")
                 for lang in ("en", "zh")}
    zh = _section_text(pages["zh"], "selection")
    assert "入选" in zh and re.search(r"重抽样 ARI|轮廓系数", zh)
    assert not ENGLISH_SELECTION_WORDS.search(zh), ENGLISH_SELECTION_WORDS.search(zh)
    hovers = json.dumps([t.get("customdata") for t in page_figures(pages["zh"])["selection"]["data"]],
                        ensure_ascii=False)
    assert re.search(r"[\u4e00-\u9fff]", hovers) and not ENGLISH_SELECTION_WORDS.search(hovers)
    en = _section_text(pages["en"], "selection")
    assert cluster.reason in en and all(r in en for (r,) in stored)


def test_the_page_shows_the_latest_clustering_attempt_and_dates_the_header_by_the_newest_part(
        segmented_shop: Path, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(segmented_shop, root)
    with open_workspace(root) as ws:
        earlier, latest = (r for (r,) in ws.store.query_rows("SELECT run_id FROM feature_runs ORDER BY as_of"))
        stored = get_segmentation(ws.store, kind="cluster")
        assert stored.feature_run_id == latest
        # The newest segmentation is now an RFM one on the earlier build (2025-11-01): it dates the header,
        # even though the clustering shown was made on the later build (2026-01-01).
        run_rfm(ws, feature_run_id=earlier)
        data = collect_report_data(ws.store, max_points=300)
        assert data.overview.as_of.date() == date(2025, 11, 1)
        assert data.cluster.segments is not None and data.cluster.segments.run_id == stored.segmentation_id
    (root / "segmark.toml").write_text("[segment]\nmin_silhouette_gain = 0.9\n", encoding="utf-8")
    with open_workspace(root) as ws:
        with pytest.raises(NoStructureError):
            run_cluster(ws, feature_run_id=latest)
        refused = last_refused_clustering(ws.store)
        assert refused is not None and refused.run_id > stored.segmentation_id
        assert refused.feature_run_id == latest and len(refused.candidates) == 37
        assert refused.reason.startswith("no real segments: ") and refused.reason_code == "no_gain"
        data = collect_report_data(ws.store, max_points=300)
        pages = {lang: write_report(ws, tmp_path / f"r-{lang}.html", lang).read_text(encoding="utf-8")
                 for lang in ("en", "zh")}
    # The refusal is newer than the stored clustering: the page shows it, not the older clusters.
    cv = data.cluster
    assert cv.segments is None and cv.map is None and not cv.selection.structure_found
    assert len(cv.selection.candidates) == 37 and data.overview.as_of.date() == date(2026, 1, 1)
    assert 'data-chart="sizes_cluster"' not in pages["en"] and 'data-chart="map"' not in pages["en"]
    assert "No behaviour segments: the clustering found no real structure (no candidate beats" in pages["en"]
    assert "没有行为分群：聚类未发现真实的分群结构（没有候选的轮廓系数比无结构数据高出 0.90" in pages["zh"]
    assert "segments as of 2026-01-01" in pages["en"] and "分群截至 2026-01-01" in pages["zh"]
    # A clustering stored after the refusal is the latest attempt again.
    with open_workspace(root) as ws:
        forced = run_cluster(ws, method="kmeans", k=4, feature_run_id=earlier).segmentation
        data = collect_report_data(ws.store, max_points=300)
    assert data.cluster.segments is not None and data.cluster.segments.run_id == forced.segmentation_id
    assert data.overview.as_of.date() == date(2025, 11, 1)


def test_migration_runs_forward_in_time_when_the_earlier_date_was_segmented_last(
        features_shop: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    """A build as of 2025-11-01 segmented after the current one (2026-01-01): the latest
    segmentation is the earlier date's, yet the chart goes from 2025-11-01 to 2026-01-01."""
    from segmark.report.sections.migration import collect_migration

    root = tmp_path / "ws"
    shutil.copytree(features_shop[0], root)
    with open_workspace(root) as ws:
        (current,) = ws.store.query_rows("SELECT max(run_id) FROM feature_runs")[0]
        later = run_rfm(ws, feature_run_id=current).segmentation
        earlier = run_rfm(ws, feature_run_id=build_features(ws, as_of="2025-11-01").run_id).segmentation
        assert earlier.segmentation_id > later.segmentation_id
        view = collect_migration(ws.store, get_segmentation(ws.store, kind="rfm"))
        assert view is not None
        assert (view.from_run, view.to_run) == (earlier.segmentation_id, later.segmentation_id)
        assert (f"{view.from_as_of:%Y-%m-%d}", f"{view.to_as_of:%Y-%m-%d}") == ("2025-11-01", "2026-01-01")
        html = write_report(ws, tmp_path / "r.html", "en").read_text(encoding="utf-8")
    title = page_figures(html)["migration_rfm"]["layout"]["title"]["text"]
    assert title.index("2025-11-01") < title.index("2026-01-01"), title
