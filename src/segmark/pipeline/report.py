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
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from segmark.errors import InputError, NotReadyError
from segmark.pipeline.features import get_feature_run
from segmark.pipeline.segments import (
    RefusedClustering,
    Segmentation,
    candidates_table,
    last_refused_clustering,
    list_segmentations,
    profile_table,
    segment_migration,
    segments_table,
)
from segmark.pipeline.status import workspace_status
from segmark.report import (
    ClusterView,
    MapPoints,
    MigrationView,
    Overview,
    ReportData,
    RFMView,
    Segments,
    Selection,
    project_users,
    render_report,
)
from segmark.report.projection import MAX_POINTS, sample_quotas
from segmark.sql import ident
from segmark.store.base import Store
from segmark.workspace import Workspace

LANGS = ("en", "zh")


def collect_report_data(store: Store, *, shop: str = "", max_points: int = MAX_POINTS,
                        projection: str = "auto", random_state: int = 0) -> ReportData:
    """Everything the report shows, read from the store (nothing is written).

    ``projection`` places users on the map: "pca", "umap", or "auto" (UMAP where umap-learn is
    installed, else PCA).
    """
    overview = collect_overview(store, shop or shop_name(store))
    data = ReportData(overview)
    if store.table_exists("feature_runs") and store.scalar("SELECT count(*) FROM feature_runs"):
        run = get_feature_run(store)
        overview.as_of = run.as_of_local
        data.feature_labels = {c.name: c.label_zh for c in run.columns if c.label_zh}
    collect_segmentation(store, data, max_points=max_points, projection=projection, random_state=random_state)
    return data


def shop_name(store: Store) -> str:
    """The workspace folder's name, from where the store's file lives ("" for a store in memory)."""
    location = Path(store.location)
    return location.parent.name if location.suffix else ""


def collect_overview(store: Store, shop: str) -> Overview:
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


def collect_segmentation(store: Store, data: ReportData, *, max_points: int = MAX_POINTS,
                         projection: str = "auto", random_state: int = 0) -> None:
    """Fill the RFM, clustering and migration parts from the latest segmentation of each kind.

    The clustering shown is the latest attempt: the latest stored clustering, unless a later
    ``segment cluster`` found no real segments, whose candidates and reason are shown instead. The
    header's date is the as_of of the newest of what is shown (RFM segmentation or clustering attempt).
    """
    if not store.table_exists("segmentations"):
        return
    latest: dict[str, Segmentation] = {}
    dates: dict[str, set[Any]] = {}
    for seg in list_segmentations(store):  # newest first
        latest.setdefault(seg.kind, seg)
        dates.setdefault(seg.kind, set()).add(seg.as_of)
    data.runs_by_kind = {kind: len(d) for kind, d in dates.items()}
    shown: list[tuple[int, int | None]] = []  # (run id, feature build) of each part shown
    if "rfm" in latest:
        data.rfm = collect_rfm(store, latest["rfm"])
        shown.append((latest["rfm"].segmentation_id, latest["rfm"].feature_run_id))
    refused = last_refused_clustering(store)
    if refused is not None and ("cluster" not in latest or refused.run_id > latest["cluster"].segmentation_id):
        data.cluster = collect_refused_cluster(refused)
        shown.append((refused.run_id, refused.feature_run_id))
    elif "cluster" in latest:
        data.cluster = collect_cluster(store, latest["cluster"], max_points=max_points, projection=projection,
                                       random_state=random_state)
        shown.append((latest["cluster"].segmentation_id, latest["cluster"].feature_run_id))
    if shown:
        newest = max(shown, key=lambda part: part[0])[1]
        data.overview.as_of = (None if newest is None else _local(store, newest)) or data.overview.as_of
    for kind in ("rfm", "cluster"):
        if data.runs_by_kind.get(kind, 0) >= 2:
            data.migrations.append(collect_migration(store, latest[kind]))


def _segments(store: Store, seg: Segmentation) -> tuple[Segments, dict[int, str]]:
    """The segments of a segmentation keyed by their stable key, and segment_id -> key."""
    table = segments_table(store, seg.segmentation_id)
    keys = {int(i): str(k) for i, k in table["key"].items()}
    table = table[table["size"] > 0].copy()
    table.index = [keys[int(i)] for i in table.index]
    table.index.name = "segment"
    shown = table[["name", "name_zh", "size", "share", "revenue", "revenue_share", "rules"]]
    return Segments(seg.kind, seg.segmentation_id, _local(store, seg.feature_run_id), shown), keys


def collect_rfm(store: Store, seg: Segmentation) -> RFMView:
    """The RFM segments and the users (and their net spend) per R x F cell, counted in the store."""
    segments, keys = _segments(store, seg)
    table = get_feature_run(store, seg.feature_run_id).table_name
    cells = store.query_df(
        "SELECT coalesce(m.r_score, 0) AS r_score, coalesce(m.f_score, 0) AS f_score, m.segment_id, "
        "count(*) AS users, coalesce(sum(f.monetary), 0) AS monetary_sum "
        f"FROM segment_members m LEFT JOIN {table} f USING (user_id) "
        "WHERE m.segmentation_id = ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", [seg.segmentation_id])
    cells["segment"] = [keys.get(int(i), str(i)) for i in cells.pop("segment_id")]
    cells = cells.astype({"r_score": int, "f_score": int, "users": int, "monetary_sum": float})
    return RFMView(segments, cells, int(seg.params.get("scale", 5)), _profile(store, seg, keys))


def _profile(store: Store, seg: Segmentation, keys: dict[int, str]) -> pd.DataFrame:
    """Per segment (by key) and feature: median, mean, lift and effect."""
    profile = profile_table(store, seg.segmentation_id)
    profile["segment"] = [keys.get(int(i), str(i)) for i in profile.pop("segment_id")]
    return profile


def collect_cluster(store: Store, seg: Segmentation, *, max_points: int, projection: str,
                    random_state: int) -> ClusterView:
    """The clustering: segments, selection record, a projected sample of users, profiles and rules."""
    segments, keys = _segments(store, seg)
    profile = _profile(store, seg, keys)
    rules = pd.DataFrame(
        [{"segment": key, **rule} for key, rs in segments.table["rules"].items() for rule in (rs or [])],
        columns=["segment", "text", "text_zh", "users", "precision", "coverage"])
    selection = _selection(seg.selection or {}, candidates_table(store, seg.segmentation_id))
    view = ClusterView(segments, selection, None, profile, rules, _float(seg.metrics.get("surrogate_fidelity")),
                       list(seg.features))
    view.map = collect_map(store, seg, keys, max_points=max_points, projection=projection,
                           random_state=random_state)
    return view


def collect_map(store: Store, seg: Segmentation, keys: dict[int, str], *, max_points: int,
                projection: str, random_state: int) -> MapPoints | None:
    """A sample of members (per-segment quotas drawn in the store) placed on two axes."""
    run = get_feature_run(store, seg.feature_run_id)
    present = {c.name for c in run.columns}
    columns = [c for c in seg.features if c in present]
    if not columns:
        return None
    sizes = pd.Series(dict(store.query_rows(
        "SELECT segment_id, count(*) FROM segment_members WHERE segmentation_id = ? GROUP BY 1",
        [seg.segmentation_id])), dtype="int64")
    if sizes.empty:
        return None
    quotas = sample_quotas(sizes, max_points)
    values = ", ".join(f"({int(k)}, {int(q)})" for k, q in quotas.items())
    cols = ", ".join(f"f.{ident(c)}" for c in columns)
    frame = store.query_df(
        f"WITH q(segment_id, quota) AS (VALUES {values}), ranked AS ("
        "  SELECT user_id, segment_id, row_number() OVER (PARTITION BY segment_id ORDER BY md5(user_id || ?), "
        "user_id) AS rn"
        "  FROM segment_members WHERE segmentation_id = ?) "
        f"SELECT r.user_id, r.segment_id, {cols} FROM ranked r JOIN q USING (segment_id) "
        f"JOIN {run.table_name} f USING (user_id) WHERE r.rn <= q.quota ORDER BY r.user_id",
        [str(random_state), seg.segmentation_id])
    if len(frame) < 3:
        return None
    kinds = {c.name: c.kind for c in run.columns}
    for c in columns:
        if kinds.get(c) == "text":
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    frame = frame.set_index(frame["user_id"].astype(str))
    labels = pd.Series([keys.get(int(i), str(i)) for i in frame["segment_id"]], index=frame.index)
    try:
        return project_users(frame[columns], labels, columns, max_points=len(frame), method=projection,
                             random_state=random_state, n_total=int(sizes.sum()))
    except ValueError as exc:
        raise InputError(f"map of users: {exc}") from None


def collect_refused_cluster(refused: RefusedClustering) -> ClusterView:
    """A clustering attempt that found no real segments: its candidates and why, and no segments."""
    return ClusterView(None, _selection(refused.selection, refused.candidates))


def _selection(record: dict[str, Any], candidates: pd.DataFrame) -> Selection:
    k = record.get("k")
    code, params = record.get("reason_code"), record.get("reason_params")
    return Selection(candidates, record.get("method"), None if k is None else int(k), str(record.get("reason") or ""),
                     bool(record.get("structure_found", True)),
                     {str(a): float(b) for a, b in (record.get("thresholds") or {}).items() if b is not None},
                     code if isinstance(code, str) else None, params if isinstance(params, dict) else {})


def collect_migration(store: Store, latest: Segmentation) -> MigrationView | None:
    """Users moving between the latest segmentation of a kind and the one before it (earlier as_of)."""
    try:
        report = segment_migration(store, to_id=latest.segmentation_id)
    except NotReadyError:
        return None
    before, after = report.before, report.after

    def names(seg: Segmentation, pairs: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        # the segments the page shows first, in its order (their colours follow it), then empty ones
        shown = [str(k) for k in _segments(store, seg)[0].table.index]
        return {k: pairs[k] for k in [*shown, *pairs] if k in pairs}

    users = report.migration.users.rename(index=str, columns=str)  # keyed by segment key, like the page
    names_before, names_after = names(before, report.names_before), names(after, report.names_after)
    return MigrationView(after.kind, before.segmentation_id, after.segmentation_id,
                         _local(store, before.feature_run_id), _local(store, after.feature_run_id), users,
                         names_before, names_after)


def _local(store: Store, feature_run_id: int) -> datetime | None:
    """A feature build's as_of on the shop's clock (what the reader calls "the date")."""
    try:
        return get_feature_run(store, feature_run_id).as_of_local
    except NotReadyError:
        return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
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
                 projection: str = "auto") -> Path:
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
