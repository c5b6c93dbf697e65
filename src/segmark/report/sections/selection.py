"""Section "selection": every candidate model tried, its scores, and why the winner won (or none did)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from segmark.core.segment.reasons import shown_status
from segmark.report.figures import selection_chart
from segmark.report.model import ReportData
from segmark.report.sections.base import BaseSection, Block, Cell, Section
from segmark.report.text import fmt_num, fmt_pct, selection_reason, status_label, tr
from segmark.text import Lang


def candidates_table(c: pd.DataFrame, lang: Lang) -> Block:
    def get(row: Any, name: str) -> Any:
        return getattr(row, name, float("nan"))

    rows, classes = [], []
    for r in c.itertuples():
        k = get(r, "k")
        found = get(r, "n_clusters")
        status = shown_status(get(r, "status"), get(r, "reason_code"))
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


class SelectionSection(BaseSection):
    id = "selection"

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        cv = data.cluster
        if cv is None or cv.selection is None or cv.selection.candidates.empty:
            section.blocks.append(Block("missing", text=tr("missing_selection", lang)))
            return section
        sel = cv.selection
        section.add(selection_chart(sel, lang))
        note = selection_reason(sel.reason_code, sel.reason_params, sel.reason, lang)
        if note:
            section.blocks.append(Block("note", text=note))
        section.blocks.append(candidates_table(sel.candidates, lang))
        return section
