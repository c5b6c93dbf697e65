"""Section "map": a sample of the clustering's users on two axes (PCA or UMAP), coloured by segment."""

from __future__ import annotations

import pandas as pd

from segmark.errors import InputError
from segmark.pipeline.features import get_feature_run
from segmark.pipeline.segments import Segmentation, get_segmentation, segments_table
from segmark.report.figures import map_chart
from segmark.report.model import MapPoints, ReportData
from segmark.report.projection import project_users, sample_quotas
from segmark.report.sections.base import BaseSection, CollectOptions, Section, colors
from segmark.report.sections.segments import no_structure
from segmark.report.text import tr
from segmark.sql import ident
from segmark.store.base import Store
from segmark.text import Lang


def collect_map(store: Store, seg: Segmentation, keys: dict[int, str], *, max_points: int, projection: str,
                random_state: int) -> MapPoints | None:
    """A sample of members (per-segment quotas drawn in the store, in an order set by ``random_state``)
    placed on two axes."""
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


class MapSection(BaseSection):
    id = "map"

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        cv = data.cluster
        if cv is None or cv.segments is None:
            return
        seg = get_segmentation(store, cv.segments.run_id)
        keys = {int(i): str(k) for i, k in segments_table(store, seg.segmentation_id)["key"].items()}
        cv.map = collect_map(store, seg, keys, max_points=options.max_points, projection=options.projection,
                             random_state=options.random_state)

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        cv = data.cluster
        cl_seg = cv.segments if cv is not None else None
        gap = tr("no_structure_short", lang) if no_structure(data) else None
        chart = map_chart(cv.map, cl_seg, colors(cl_seg), lang) if cv and cv.map and cl_seg else None
        section.add(chart, gap or tr("missing_map", lang))
        return section
