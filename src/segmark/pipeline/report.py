"""The report step: read what the workspace holds, shape it for ``segmark.report``, write one HTML file.

``collect_report_data`` only reads: aggregates are computed in the store (events by type, users per
RFM cell, quarantine by reason) so a shop of any size reaches the report as small frames; only the
2-D map reads per-user features, for a sample of at most ``max_points`` users. Every section whose
tables do not exist yet (no features, no segmentation, a single run) is left empty, and the page
says so. ``write_report`` renders and writes the file atomically (a temporary file renamed into
place), so a failed render never leaves half a report.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from segmark.errors import InputError, NotReadyError
from segmark.pipeline.features import get_feature_run
from segmark.pipeline.status import workspace_status
from segmark.report import (
    Overview,
    ReportData,
    render_report,
)
from segmark.report.projection import MAX_POINTS
from segmark.store.duckdb import DuckDBStore
from segmark.workspace import Workspace

LANGS = ("en", "zh")


def collect_report_data(store: DuckDBStore, *, shop: str = "", max_points: int = MAX_POINTS,
                        projection: str = "pca", random_state: int = 0) -> ReportData:
    """Everything the report shows, read from the store (nothing is written)."""
    overview = collect_overview(store, shop or store.path.parent.name)
    data = ReportData(overview)
    if store.table_exists("feature_runs") and store.scalar("SELECT count(*) FROM feature_runs"):
        run = get_feature_run(store)
        overview.as_of = run.as_of_local
        data.feature_labels = {c.name: c.label_zh for c in run.columns if c.label_zh}
    collect_segmentation(store, data, max_points=max_points, projection=projection, random_state=random_state)
    return data


def collect_overview(store: DuckDBStore, shop: str) -> Overview:
    """The shop's figures and the data-quality record."""
    st = workspace_status(store, runs=0)
    ev = st["events"]
    buyers, revenue = store.query_rows(
        "SELECT count(DISTINCT user_id) FILTER (WHERE event_type = 'purchase' AND user_id IS NOT NULL), "
        "coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0) "
        "- coalesce(sum(amount) FILTER (WHERE event_type = 'refund'), 0) FROM events")[0]
    quarantine = pd.DataFrame(st["quarantine"], columns=["table", "reason", "rows"])
    sources = store.query_df(
        'SELECT table_name AS "table", path AS file, rows_read, accepted, quarantined, duplicates '
        "FROM sources ORDER BY source_id")
    return Overview(shop=shop, events=int(st["tables"]["events"]), users=int(ev["users"] or 0),
                    items=int(ev["items"] or 0), first_ts=ev["first_ts"], last_ts=ev["last_ts"],
                    events_by_type={str(k): int(v) for k, v in ev["by_type"].items()}, quarantine=quarantine,
                    sources=sources, buyers=int(buyers or 0), revenue=float(revenue or 0.0),
                    guest_events=int(ev["guest_events"] or 0))


def collect_segmentation(store: DuckDBStore, data: ReportData, *, max_points: int, projection: str,
                         random_state: int) -> None:
    """Fill the RFM, clustering and migration parts from the segmentation tables, where they exist."""
    # filled in once the segmentation tables land (migration 0003)
    return None


def resolve_lang(ws: Workspace, lang: str | None) -> str:
    """``lang`` if given, else ``report.lang`` when set in segmark.toml, else the workspace's ``lang``."""
    if lang is None:
        report = ws.settings.report
        lang = report.lang if "lang" in report.model_fields_set else ws.settings.lang
    if lang not in LANGS:
        raise InputError(f"report language must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def write_report(ws: Workspace, out: Path | str, lang: str | None = None, *, max_points: int = MAX_POINTS,
                 projection: str = "pca") -> Path:
    """Render the workspace's report in ``lang`` and write it to ``out``; returns the path written."""
    lang = resolve_lang(ws, lang)
    if not ws.store.scalar("SELECT count(*) FROM events"):
        raise NotReadyError("the workspace has no events yet: run `segmark ingest events FILE` first")
    data = collect_report_data(ws.store, shop=ws.root.name, max_points=max_points, projection=projection,
                               random_state=ws.settings.segment.random_state)
    html = render_report(data, lang)  # type: ignore[arg-type]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
