"""The report page: sections of charts, tables and one-line readings, rendered by Jinja2 into one
self-contained HTML string (Plotly's JavaScript, the styles and every figure inlined).

Pure apart from reading the package's own template, stylesheet and Plotly bundle: data in, a string
out. Writing the file is the pipeline's job.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import PurePath
from typing import Any

import jinja2
import pandas as pd
import plotly.io as pio
import plotly.offline

from segmark.report.colors import segment_colors
from segmark.report.figures import (
    FONT_STACK,
    Chart,
    events_by_type_chart,
    map_chart,
    migration_chart,
    profile_chart,
    quarantine_chart,
    rfm_grid_chart,
    selection_chart,
    sizes_chart,
)
from segmark.report.model import ClusterView, ReportData, Segments
from segmark.report.text import (
    Lang,
    fmt_compact,
    fmt_date,
    fmt_int,
    fmt_num,
    fmt_pct,
    selection_reason,
    status_label,
    table_label,
    tr,
)

RFM_FEATURES = ("recency_days", "frequency", "monetary")

SECTIONS = ("overview", "segments", "rfm", "map", "profile", "rules", "selection", "migration")
"""Section ids in page order; every report has all of them (a missing one says why in one line)."""


@dataclass
class Cell:
    text: str
    color: str | None = None
    numeric: bool = False


@dataclass
class Block:
    kind: str  # chart, table, missing, note
    chart: Chart | None = None
    text: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    row_classes: list[str] = field(default_factory=list)
    css: str = ""


@dataclass
class Section:
    id: str
    title: str
    intro: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Card:
    value: str
    label: str
    note: str = ""


def render_report(data: ReportData, lang: Lang = "en") -> str:
    """The whole page as one HTML string."""
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")
    sections = build_sections(data, lang)
    charts = [b.chart for s in sections for b in s.blocks if b.kind == "chart" and b.chart is not None]
    figures = {c.key: json.loads(pio.to_json(c.figure, validate=False)) for c in charts}
    ov = data.overview
    as_of = ov.as_of or ov.last_ts
    return _template().render(
        lang=lang, html_lang="zh-CN" if lang == "zh" else "en", shop=ov.shop,
        title=tr("title", lang), subtitle=tr("subtitle", lang, shop=ov.shop, as_of=fmt_date(as_of)),
        contents=tr("contents", lang), footer=tr("footer", lang, shop=ov.shop),
        cards=build_cards(data, lang), sections=sections, css=_asset("report.css"), font_stack=FONT_STACK,
        plotly_js=_plotly_js(), figures_json=_script_json(figures),
    )


def build_charts(data: ReportData, lang: Lang = "en") -> dict[str, Chart]:
    """Every chart the report would show, by key (what the page's tests count)."""
    return {b.chart.key: b.chart for s in build_sections(data, lang) for b in s.blocks
            if b.kind == "chart" and b.chart is not None}


# -- header ---------------------------------------------------------------------------------------

def build_cards(data: ReportData, lang: Lang) -> list[Card]:
    ov = data.overview
    read = ov.rows_read or ov.events
    cards = [
        Card(fmt_compact(ov.events, lang), tr("card_events", lang), fmt_int(ov.events)),
        Card(fmt_compact(ov.users, lang), tr("card_users", lang),
             f"{fmt_int(ov.buyers)} {tr('card_buyers', lang)}" if ov.buyers else ""),
        Card(fmt_compact(ov.items, lang), tr("card_items", lang), fmt_int(ov.items)),
        Card(fmt_compact(ov.revenue, lang), tr("card_revenue", lang), f"{ov.revenue:,.0f}"),
        Card(tr("card_days", lang, days=ov.days), tr("card_range", lang),
             f"{fmt_date(ov.first_ts)} – {fmt_date(ov.last_ts)}"),
        Card(fmt_int(ov.rows_quarantined), tr("card_quarantined", lang),
             fmt_pct(ov.rows_quarantined / read) if read else ""),
    ]
    cl = data.cluster.segments if data.cluster is not None else None
    if cl is not None:
        note = f"RFM: {len(data.rfm.segments.table)}" if data.rfm is not None else ""
        cards.append(Card(str(len(cl.table)), tr("card_segments", lang), note))
    elif data.rfm is not None:
        cards.append(Card(str(len(data.rfm.segments.table)), tr("card_segments", lang), "RFM"))
    return cards


# -- sections -------------------------------------------------------------------------------------

def _colors(seg: Segments | None) -> dict[str, str]:
    return {} if seg is None else segment_colors(seg.kind, [str(k) for k in seg.table.index])


def build_sections(data: ReportData, lang: Lang) -> list[Section]:
    rfm_seg = data.rfm.segments if data.rfm is not None else None
    cv = data.cluster
    cl_seg = cv.segments if cv is not None else None
    rfm_colors, cl_colors = _colors(rfm_seg), _colors(cl_seg)
    sections = {sid: Section(sid, tr(f"sec_{sid}", lang), tr(f"sec_{sid}_intro", lang)) for sid in SECTIONS}
    if data.rfm is not None:
        sections["rfm"].intro = tr("sec_rfm_intro", lang, scale=data.rfm.scale)
    else:
        sections["rfm"].intro = tr("sec_rfm_intro", lang, scale=5)

    # overview
    ov = sections["overview"].blocks
    ov.append(Block("note", text=overview_reading(data, lang)))
    _add(ov, events_by_type_chart(data.overview, lang), None)
    _add(ov, quarantine_chart(data.overview, lang), tr("no_quarantine", lang))
    src = data.overview.sources
    if src is not None and not src.empty:
        ov.append(Block("table", text=tr("sources", lang), columns=[
            tr("col_table", lang), tr("col_file", lang), tr("col_read", lang), tr("col_accepted", lang),
            tr("col_quarantined", lang), tr("col_duplicates", lang)], rows=[
            [Cell(table_label(str(r.table), lang)), Cell(PurePath(str(r.file)).name),
             Cell(fmt_int(r.rows_read), numeric=True),
             Cell(fmt_int(r.accepted), numeric=True), Cell(fmt_int(r.quarantined), numeric=True),
             Cell(fmt_int(r.duplicates), numeric=True)] for r in src.itertuples()]))

    # segment sizes
    sz = sections["segments"].blocks
    if rfm_seg is None and cl_seg is None and (cv is None or cv.selection is None):
        sz.append(Block("missing", text=tr("missing_segments", lang)))
    else:
        _add(sz, sizes_chart(rfm_seg, rfm_colors, lang) if rfm_seg else None, tr("missing_rfm", lang))
        if cl_seg is not None:
            _add(sz, sizes_chart(cl_seg, cl_colors, lang), tr("missing_cluster", lang))
        elif cv is not None and cv.selection is not None and not cv.selection.structure_found:
            sel = cv.selection
            reason = selection_reason(sel.reason_code, sel.reason_params, None, lang, short=True)
            if not sel.reason_code:  # a record made before reasons had codes: its English sentence
                reason = re.sub(r"^no real segments:\s*", "", sel.reason.strip().rstrip("."))
            sz.append(Block("missing", text=tr("no_structure", lang, reason=reason)))
        else:
            sz.append(Block("missing", text=tr("missing_cluster", lang)))

    # RFM grid
    _add(sections["rfm"].blocks, rfm_grid_chart(data.rfm, rfm_colors, lang) if data.rfm else None,
         tr("missing_rfm", lang))

    # map, profile, rules: the clustering's; without a clustering the profile shows the RFM segments
    no_structure = cv is not None and cl_seg is None and cv.selection is not None
    gap = tr("no_structure_short", lang) if no_structure else None
    _add(sections["map"].blocks, map_chart(cv.map, cl_seg, cl_colors, lang) if cv and cv.map and cl_seg else None,
         gap or tr("missing_map", lang))
    if cl_seg is not None:
        profiled = profile_chart(cv, cl_colors, lang, data.feature_labels)
    elif data.rfm is not None and data.rfm.profile is not None:
        rfm_view = ClusterView(rfm_seg, profile=data.rfm.profile, features=list(RFM_FEATURES))
        profiled = profile_chart(rfm_view, rfm_colors, lang, data.feature_labels)
    else:
        profiled = None
    _add(sections["profile"].blocks, profiled, gap or tr("missing_profile", lang))
    sections["rules"].blocks.extend(rules_blocks(data, cl_colors, lang, gap))

    # selection
    sel_blocks = sections["selection"].blocks
    if cv is None or cv.selection is None or cv.selection.candidates.empty:
        sel_blocks.append(Block("missing", text=tr("missing_selection", lang)))
    else:
        _add(sel_blocks, selection_chart(cv.selection, lang), None)
        note = selection_reason(cv.selection.reason_code, cv.selection.reason_params, cv.selection.reason, lang)
        if note:
            sel_blocks.append(Block("note", text=note))
        sel_blocks.append(candidates_table(cv.selection.candidates, lang))

    # migration
    mig = sections["migration"].blocks
    for mv in data.migrations:
        _add(mig, migration_chart(mv, lang), None)
    if not any(b.kind == "chart" for b in mig):
        n = max(data.runs_by_kind.values(), default=0)
        mig.append(Block("missing", text=tr("missing_migration", lang, n=n)))
    return [sections[sid] for sid in SECTIONS]


def _add(blocks: list[Block], chart: Chart | None, missing: str | None) -> None:
    if chart is not None:
        blocks.append(Block("chart", chart=chart))
    elif missing:
        blocks.append(Block("missing", text=missing))


def overview_reading(data: ReportData, lang: Lang) -> str:
    ov = data.overview
    read = ov.rows_read or (ov.events + ov.rows_quarantined)
    return tr("r_overview", lang, events=fmt_int(ov.events), users=fmt_int(ov.users), items=fmt_int(ov.items),
              days=fmt_int(ov.days), quarantined=fmt_int(ov.rows_quarantined),
              q_share=fmt_pct(ov.rows_quarantined / read) if read else "0%")


def rules_blocks(data: ReportData, colors: dict[str, str], lang: Lang, gap: str | None = None) -> list[Block]:
    cv = data.cluster
    if cv is None or cv.segments is None or cv.rules is None or cv.rules.empty:
        return [Block("missing", text=gap or tr("missing_rules", lang))]
    names = cv.segments.names(lang)
    rules = cv.rules.assign(segment=cv.rules["segment"].astype(str))
    order = {str(k): i for i, k in enumerate(cv.segments.table.index)}
    rules = rules.assign(_o=rules["segment"].map(order).fillna(len(order))).sort_values(
        ["_o", "users"], ascending=[True, False], kind="stable")
    text_col = "text_zh" if lang == "zh" and "text_zh" in rules else "text"
    rows = []
    for r in rules.itertuples():
        key = str(r.segment)
        rows.append([Cell(names.get(key, key), color=colors.get(key)), Cell(str(getattr(r, text_col))),
                     Cell(fmt_int(r.users), numeric=True),
                     Cell(fmt_pct(getattr(r, "precision", float("nan"))), numeric=True),
                     Cell(fmt_pct(getattr(r, "coverage", float("nan"))), numeric=True)])
    fidelity = cv.fidelity if cv.fidelity is not None else float("nan")
    reading = tr("r_rules", lang, fidelity=fmt_pct(fidelity), n=len(rows))
    return [
        Block("note", text=reading),
        Block("table", columns=[tr("col_segment", lang), tr("col_rule", lang), tr("col_users", lang),
                                tr("col_precision", lang), tr("col_coverage", lang)], rows=rows),
        Block("note", text=tr("rule_precision_note", lang)),
    ]


def candidates_table(c: pd.DataFrame, lang: Lang) -> Block:
    def get(row: Any, name: str) -> Any:
        return getattr(row, name, float("nan"))

    rows, classes = [], []
    for r in c.itertuples():
        k = get(r, "k")
        found = get(r, "n_clusters")
        status = str(get(r, "status"))
        rows.append([
            Cell(str(r.method)),
            Cell("–" if k is None or pd.isna(k) else str(int(k)), numeric=True),
            Cell("–" if found is None or pd.isna(found) else str(int(found)), numeric=True),
            Cell(status_label(status, lang)),
            Cell(fmt_num(_f(get(r, "silhouette")), 3), numeric=True),
            Cell(_signed(_f(get(r, "gain"))), numeric=True),
            Cell(fmt_num(_f(get(r, "calinski_harabasz")), 0), numeric=True),
            Cell(fmt_num(_f(get(r, "davies_bouldin")), 2), numeric=True),
            Cell(fmt_num(_f(get(r, "stability")), 2), numeric=True),
            Cell(fmt_pct(_f(get(r, "min_share"))), numeric=True),
            Cell(selection_reason(get(r, "reason_code"), get(r, "reason_params"), get(r, "reason"), lang)),
        ])
        classes.append(status)
    cols = ["col_method", "col_k", "col_found", "col_status", "col_silhouette", "col_gain", "col_ch", "col_db",
            "col_stability", "col_smallest", "col_why"]
    return Block("table", columns=[tr(x, lang) for x in cols], rows=rows, row_classes=classes, css="candidates")


def _f(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _signed(v: float) -> str:
    return f"{v:+.3f}" if math.isfinite(v) else "–"


# -- assets ---------------------------------------------------------------------------------------

def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no "</" can close it early."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


@cache
def _asset(name: str) -> str:
    return (resources.files("segmark.report") / name).read_text(encoding="utf-8")


@cache
def _plotly_js() -> str:
    return plotly.offline.get_plotlyjs()


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    return env.from_string(_asset("template.html"))
