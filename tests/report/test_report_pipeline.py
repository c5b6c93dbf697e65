"""The report from a real workspace: the sample shop (2,000 users) through ingestion, features and
segmentation, read back by ``collect_report_data`` and written by ``write_report`` and ``segmark report``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from segmark.demo import generate_shop, write_shop
from segmark.errors import NotReadyError
from segmark.pipeline.features import build_features
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.report import collect_report_data, resolve_lang, write_report
from segmark.workspace import Workspace, init_workspace, open_workspace

EXPECTED_REASON = {  # the generator's fault kinds -> quarantine reasons
    "events.unparseable_timestamp": "unparseable_ts", "events.unknown_event_type": "unknown_event_type",
    "events.negative_price": "negative_price", "events.non_numeric_price": "non_numeric_price",
    "events.empty_user_id": "missing_user_id", "users.age_out_of_range": "invalid_age",
    "users.unparseable_signup_date": "unparseable_date", "users.empty_user_id": "missing_user_id",
}


@pytest.fixture(scope="module")
def features_shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A sample shop of 2,000 users, ingested with its planted faults, features built; no segments."""
    root = init_workspace(tmp_path_factory.mktemp("report") / "features-shop")
    shop = generate_shop(n_users=2_000, seed=3)
    paths = write_shop(shop, root / "data")
    with open_workspace(root) as ws:
        for table in ("users", "items", "events"):
            ingest_file(ws, table, paths[table])
        build_features(ws)
    return root, shop.dirty


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
