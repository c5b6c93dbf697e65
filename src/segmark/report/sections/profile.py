"""Section "profile": each segment's lift on each feature; the RFM segments' when there is no clustering."""

from __future__ import annotations

from segmark.report.figures import profile_chart
from segmark.report.model import ClusterView, ReportData
from segmark.report.sections.base import BaseSection, Section, colors
from segmark.report.sections.segments import no_structure
from segmark.report.text import tr
from segmark.text import Lang

RFM_FEATURES = ("recency_days", "frequency", "monetary")


class ProfileSection(BaseSection):
    id = "profile"

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        cv = data.cluster
        cl_seg = cv.segments if cv is not None else None
        rfm_seg = data.rfm.segments if data.rfm is not None else None
        if cv is not None and cl_seg is not None:
            chart = profile_chart(cv, colors(cl_seg), lang, data.feature_labels, data.feature_labels_en)
        elif data.rfm is not None and data.rfm.profile is not None:
            rfm_view = ClusterView(rfm_seg, profile=data.rfm.profile, features=list(RFM_FEATURES))
            chart = profile_chart(rfm_view, colors(rfm_seg), lang, data.feature_labels, data.feature_labels_en)
        else:
            chart = None
        gap = tr("no_structure_short", lang) if no_structure(data) else None
        section.add(chart, gap or tr("missing_profile", lang))
        return section
