"""The report page: sections of charts, tables and one-line readings, rendered by Jinja2 into one
self-contained HTML string (Plotly's JavaScript, the styles and every figure inlined).

Pure apart from reading the package's own template, stylesheet and Plotly bundle: data in, a string
out. The sections are the modules of ``segmark.report.sections``, in the order of their registry;
writing the file is the pipeline's job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import plotly.io as pio
import plotly.offline

from segmark.report.figures import FONT_STACK, Chart
from segmark.report.model import ReportData
from segmark.report.sections import REGISTRY, Block, Cell, Section
from segmark.report.sections.overview import overview_reading
from segmark.report.sections.rules import rules_blocks
from segmark.report.sections.selection import candidates_table
from segmark.report.text import Lang, fmt_compact, fmt_date, fmt_int, fmt_pct, tr

__all__ = ["SECTIONS", "Block", "Card", "Cell", "Section", "build_cards", "build_charts", "build_sections",
           "candidates_table", "overview_reading", "render_report", "rules_blocks"]

SECTIONS = tuple(section.id for section in REGISTRY)
"""Section ids in page order; every report has all of them (a missing one says why in one line)."""


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
    # the tiles count all the data; the date in the header is the segments' (a feature build's
    # as_of, which an earlier --as-of puts before the last event), or the data's end without one
    subtitle = (tr("subtitle", lang, shop=ov.shop, as_of=fmt_date(ov.as_of)) if ov.as_of is not None
                else tr("subtitle_data", lang, shop=ov.shop, as_of=fmt_date(ov.last_ts)))
    return _template().render(
        lang=lang, html_lang="zh-CN" if lang == "zh" else "en", shop=ov.shop,
        title=tr("title", lang), subtitle=subtitle,
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
        Card(fmt_compact(ov.revenue, lang), tr("card_revenue", lang), f"{ov.revenue:,.0f}")
        if ov.revenue is not None else Card(tr("unknown", lang), tr("card_revenue", lang), tr("no_prices", lang)),
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

def build_sections(data: ReportData, lang: Lang) -> list[Section]:
    """Every registered section, in page order."""
    return [section.build(data, lang) for section in REGISTRY]


# -- assets ---------------------------------------------------------------------------------------

def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no "<" at all, so neither "</script>" nor "<!--<script>" (which
    would keep the element open past its end tag, swallowing the page) can come from a label or name."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


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
