"""Section "rules": the surrogate tree's rules for each segment, with precision, coverage and fidelity."""

from __future__ import annotations

from segmark.features.labels import relabel
from segmark.report.model import ReportData
from segmark.report.sections.base import BaseSection, Block, Cell, Section, colors
from segmark.report.sections.segments import no_structure
from segmark.report.text import fmt_int, fmt_pct, tr
from segmark.text import Lang


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
        text = str(getattr(r, text_col)) if lang == "zh" else relabel(str(r.text), data.feature_labels_en)
        rows.append([Cell(names.get(key, key), color=colors.get(key)), Cell(text),
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


class RulesSection(BaseSection):
    id = "rules"

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        cl_seg = data.cluster.segments if data.cluster is not None else None
        gap = tr("no_structure_short", lang) if no_structure(data) else None
        section.blocks.extend(rules_blocks(data, colors(cl_seg), lang, gap))
        return section
