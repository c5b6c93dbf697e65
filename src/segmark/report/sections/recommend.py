"""Section "recommend": the latest build and the latest evaluation, overall and per segment."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from segmark.errors import NotReadyError
from segmark.localtime import local_day
from segmark.report.figures import ACCENT, Chart, _style
from segmark.report.model import ReportData
from segmark.report.sections.base import BaseSection, Block, Cell, CollectOptions, Section
from segmark.store.base import Store
from segmark.text import Lang, msg

COLUMNS = ("precision@10", "recall@10", "recall@20", "ndcg@10", "map@10", "hit_rate@10", "coverage")
BASELINES = ("popularity", "repeat")
GREY = "#9aa0a6"


def collect_recommend(store: Store, timezone: str = "UTC") -> dict[str, Any] | None:
    """The latest build (its as_of as the shop's local date) and evaluation (figures in long
    format), or None when neither exists."""
    from segmark.pipeline.recommend import evaluation_table, get_build

    if not store.table_exists("recommend_builds"):
        return None
    try:
        build = get_build(store).to_dict()
        build["as_of_day"] = local_day(build["as_of"], timezone)
    except NotReadyError:
        build = None
    try:
        figures = evaluation_table(store)
    except NotReadyError:
        figures = None
    if build is None and figures is None:
        return None
    picked = None
    names: dict[str, tuple[str, str]] = {}
    if figures is not None and len(figures):
        run_id = store.scalar("SELECT max(run_id) FROM recommend_evaluations WHERE kind = 'test'")
        metrics = store.scalar("SELECT metrics FROM runs WHERE run_id = ?", [run_id])
        picked = json.loads(metrics).get("picked") if metrics else None
    seg_id = None if build is None else build.get("segmentation_id")
    if seg_id is not None:
        names = {str(k): (str(n), str(z)) for k, n, z in store.query_rows(
            "SELECT key, name, name_zh FROM segments WHERE segmentation_id = ?", [seg_id])}
    return {"build": build, "figures": figures, "picked": picked, "names": names}


def _overall(figures: pd.DataFrame) -> pd.DataFrame:
    rows = figures[figures["segment_key"].isna()]
    return rows.pivot_table(index="method", columns="metric", values="value", aggfunc="first", sort=False)


def methods_chart(part: dict[str, Any], lang: Lang, k: int = 20) -> Chart | None:
    """recall@k of every method, baselines grey, auto highlighted; the reading compares them."""
    figures = part.get("figures")
    if figures is None or not len(figures):
        return None
    table = _overall(figures)
    col = f"recall@{k}"
    if col not in table.columns or "auto" not in table.index:
        return None
    values = table[col].dropna()
    order = values.sort_values().index.tolist()
    colours = [ACCENT if m == "auto" else GREY if m in BASELINES else "#72b7b2" for m in order]
    labels = [f"auto = {part.get('picked')}" if m == "auto" else m for m in order]
    fig = go.Figure(go.Bar(x=[float(values[m]) for m in order], y=labels, orientation="h", marker_color=colours,
                           texttemplate="%{x:.1%}", textposition="auto", hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    title = msg("recommend.report.t_methods", lang, k=k)
    _style(fig, title, msg("recommend.report.x_recall", lang, k=k), None, height=max(240, 110 + 26 * len(order)),
           left=200)
    reading = msg("recommend.report.reading", lang, best=f"auto ({part.get('picked')})", best_value=values["auto"],
                  k=k, pop_value=float(values.get("popularity", 0.0)), rep_value=float(values.get("repeat", 0.0)))
    return Chart("recommend_methods", title, fig, reading)


def segments_chart(part: dict[str, Any], lang: Lang, k: int = 20) -> Chart | None:
    """recall@k per segment for auto and the two baselines."""
    figures = part.get("figures")
    if figures is None or not len(figures):
        return None
    col = f"recall@{k}"
    seg = figures[figures["segment_key"].notna() & (figures["metric"] == col)]
    if seg.empty or "auto" not in set(seg["method"]):
        return None
    names = part.get("names") or {}

    def label(key: str) -> str:
        pair = names.get(key)
        return key if pair is None else (pair[1] if lang == "zh" else pair[0])

    keys = seg[seg["method"] == "auto"].sort_values("value")["segment_key"].tolist()
    fig = go.Figure()
    for method, colour in (("popularity", "#c9ccd1"), ("repeat", GREY), ("auto", ACCENT)):
        rows = seg[seg["method"] == method].set_index("segment_key")["value"]
        fig.add_trace(go.Bar(x=[float(rows.get(k2, 0.0)) for k2 in keys], y=[label(k2) for k2 in keys],
                             orientation="h", name=method if method != "auto" else f"auto = {part.get('picked')}",
                             marker_color=colour, hovertemplate="%{y}: %{x:.2%}<extra></extra>"))
    title = msg("recommend.report.chart", lang, k=k)
    _style(fig, title, msg("recommend.report.x_recall", lang, k=k), msg("recommend.report.x_segment", lang),
           height=max(260, 120 + 40 * len(keys)), legend=True, left=160)
    fig.update_layout(barmode="group")
    auto = seg[seg["method"] == "auto"].set_index("segment_key")["value"]
    reading = msg("recommend.report.segment_reading", lang, segment=label(str(auto.idxmax())), k=k,
                  value=float(auto.max()), low=label(str(auto.idxmin())), low_value=float(auto.min()))
    return Chart("recommend_segments", title, fig, reading)


class RecommendSection(BaseSection):
    id = "recommend"
    area = "recommend"

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        data.parts[self.id] = collect_recommend(store, options.timezone)

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        part = data.parts.get(self.id)
        if not part:
            section.blocks.append(Block("missing", text=msg("recommend.report.none", lang)))
            return section
        build = part.get("build")
        if build is not None:
            section.blocks.append(Block("note", text=msg(
                "recommend.report.build", lang, method=build["method"], as_of=build["as_of_day"],
                users=int(build["n_users"]), reason=build["reason"])))
        figures = part.get("figures")
        if figures is None or not len(figures):
            section.blocks.append(Block("missing", text=msg("recommend.report.no_evaluation", lang)))
            return section
        section.add(methods_chart(part, lang))
        table = _overall(figures)
        cols = [c for c in COLUMNS if c in table.columns]
        holdout = str(figures["holdout"].iloc[0])
        rows = [[Cell(f"auto = {part.get('picked')}" if m == "auto" else str(m)),
                 *[Cell(f"{table.loc[m, c]:.3f}", numeric=True) for c in cols]] for m in table.index]
        section.blocks.append(Block("table", text=msg("recommend.report.table", lang, holdout=holdout),
                                    columns=[msg("recommend.col.method", lang), *cols], rows=rows))
        section.add(segments_chart(part, lang))
        return section
