"""Section "campaign": the latest campaign readout (treatment against control, overall and per
segment) and the latest uplift model's Qini curve."""

from __future__ import annotations

from segmark.pipeline.campaign import latest_readouts, latest_uplift
from segmark.report.campaign_charts import qini_chart, readout_chart, segment_lift_chart
from segmark.report.model import ReportData
from segmark.report.sections.base import BaseSection, Block, CollectOptions, Section
from segmark.store.base import Store
from segmark.text import Lang, msg


class CampaignSection(BaseSection):
    id = "campaign"
    area = "audience"

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        readouts = latest_readouts(store, limit=1)
        uplift = latest_uplift(store)
        if readouts or uplift:
            data.parts[self.id] = {"readout": readouts[0] if readouts else None, "uplift": uplift}

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        part = data.parts.get(self.id)
        if part is None:
            section.blocks.append(Block("missing", text=msg("audience.missing_readout", lang)))
            return section
        r = part["readout"]
        if r is None:
            section.blocks.append(Block("missing", text=msg("audience.missing_readout", lang)))
        else:
            section.add(readout_chart(r, lang), msg("audience.missing_readout", lang))
            section.add(segment_lift_chart(r, lang), msg("audience.missing_segments", lang))
        section.add(qini_chart(part["uplift"], lang), msg("audience.missing_uplift", lang))
        return section
