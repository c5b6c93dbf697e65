"""Section "segments": every segment's share of users beside its share of revenue.

It also collects what the RFM, map, profile, rules and selection sections show: the latest RFM
segmentation and the latest clustering attempt (the stored clustering, unless a later attempt
found no real segments, whose candidates and reason are shown instead).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from segmark.core.segment.fitted import rfm_notes
from segmark.pipeline.features import get_feature_run
from segmark.pipeline.segments import (
    RefusedClustering,
    Segmentation,
    candidates_table,
    last_refused_clustering,
    list_segmentations,
)
from segmark.report.figures import sizes_chart
from segmark.report.model import ClusterView, ReportData, RFMView
from segmark.report.sections._read import (
    local_as_of,
    profile_by_key,
    segments_by_key,
    selection_view,
    to_float,
)
from segmark.report.sections.base import BaseSection, Block, CollectOptions, Section, colors
from segmark.report.text import selection_reason, tr
from segmark.store.base import Store
from segmark.text import Lang


def collect_rfm(store: Store, seg: Segmentation) -> RFMView:
    """The RFM segments and the users (and their net spend) per R x F cell, counted in the store."""
    segments, keys = segments_by_key(store, seg)
    table = get_feature_run(store, seg.feature_run_id).table_name
    cells = store.query_df(
        "SELECT coalesce(m.r_score, 0) AS r_score, coalesce(m.f_score, 0) AS f_score, m.segment_id, "
        "count(*) AS users, coalesce(sum(f.monetary), 0) AS monetary_sum "
        f"FROM segment_members m LEFT JOIN {table} f USING (user_id) "
        "WHERE m.segmentation_id = ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", [seg.segmentation_id])
    cells["segment"] = [keys.get(int(i), str(i)) for i in cells.pop("segment_id")]
    cells = cells.astype({"r_score": int, "f_score": int, "users": int, "monetary_sum": float})
    return RFMView(segments, cells, int(seg.params.get("scale", 5)), profile_by_key(store, seg, keys),
                   rfm_notes(seg.metrics, "en"), rfm_notes(seg.metrics, "zh"))


def collect_cluster(store: Store, seg: Segmentation) -> ClusterView:
    """The clustering: segments, selection record, profiles and rules (the map is the map section's)."""
    segments, keys = segments_by_key(store, seg)
    profile = profile_by_key(store, seg, keys)
    rules = pd.DataFrame(
        [{"segment": key, **rule} for key, rs in segments.table["rules"].items() for rule in (rs or [])],
        columns=["segment", "text", "text_zh", "users", "precision", "coverage"])
    selection = selection_view(seg.selection or {}, candidates_table(store, seg.segmentation_id))
    return ClusterView(segments, selection, None, profile, rules, to_float(seg.metrics.get("surrogate_fidelity")),
                       list(seg.features))


def collect_refused_cluster(refused: RefusedClustering) -> ClusterView:
    """A clustering attempt that found no real segments: its candidates and why, and no segments."""
    return ClusterView(None, selection_view(refused.selection, refused.candidates))


def collect_segmentations(store: Store, data: ReportData) -> None:
    """The RFM and clustering parts from the latest segmentation of each kind, and the header's date:
    the as_of of the newest of what is shown (RFM segmentation or clustering attempt)."""
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
        data.cluster = collect_cluster(store, latest["cluster"])
        shown.append((latest["cluster"].segmentation_id, latest["cluster"].feature_run_id))
    if shown:
        newest = max(shown, key=lambda part: part[0])[1]
        data.overview.as_of = (None if newest is None else local_as_of(store, newest)) or data.overview.as_of


class SegmentsSection(BaseSection):
    id = "segments"

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        collect_segmentations(store, data)

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        rfm_seg = data.rfm.segments if data.rfm is not None else None
        cv = data.cluster
        cl_seg = cv.segments if cv is not None else None
        blocks = section.blocks
        if rfm_seg is None and cl_seg is None and (cv is None or cv.selection is None):
            blocks.append(Block("missing", text=tr("missing_segments", lang)))
            return section
        section.add(sizes_chart(rfm_seg, colors(rfm_seg), lang) if rfm_seg else None, tr("missing_rfm", lang))
        if cl_seg is not None:
            section.add(sizes_chart(cl_seg, colors(cl_seg), lang), tr("missing_cluster", lang))
        elif cv is not None and cv.selection is not None and not cv.selection.structure_found:
            sel = cv.selection
            reason = selection_reason(sel.reason_code, sel.reason_params, None, lang, short=True)
            if not sel.reason_code:  # a record made before reasons had codes: its English sentence
                reason = re.sub(r"^no real segments:\s*", "", sel.reason.strip().rstrip("."))
            blocks.append(Block("missing", text=tr("no_structure", lang, reason=reason)))
        else:
            blocks.append(Block("missing", text=tr("missing_cluster", lang)))
        return section


def no_structure(data: ReportData) -> bool:
    """The latest clustering attempt found no real segments (what the cluster's sections then say)."""
    cv = data.cluster
    return cv is not None and cv.segments is None and cv.selection is not None
