"""Section "rfm": buyers per recency score x frequency score cell, coloured by their RFM segment."""

from __future__ import annotations

from segmark.report.figures import rfm_grid_chart
from segmark.report.model import ReportData
from segmark.report.sections.base import BaseSection, Block, Section, colors
from segmark.report.text import tr
from segmark.text import Lang


class RFMSection(BaseSection):
    """Shows the RFM part the segments section collected."""

    id = "rfm"

    def build(self, data: ReportData, lang: Lang) -> Section:
        rfm = data.rfm
        section = self.section(lang, scale=rfm.scale if rfm is not None else 5)
        if rfm is not None:  # the names are relative to the shop; too short a history warns
            for note in (rfm.notes_zh if lang == "zh" else rfm.notes) or []:
                section.blocks.append(Block("note", text=note))
        section.add(rfm_grid_chart(rfm, colors(rfm.segments), lang) if rfm else None, tr("missing_rfm", lang))
        return section
