"""The report's sections, one module each, in page order in ``REGISTRY``.

A section (:class:`~segmark.report.sections.base.ReportSection`) has an ``id``, a ``collect`` that
reads its data from the store into the shared ``ReportData`` (its own data under
``data.parts[id]``), and a ``build`` that lays that data out in a language as blocks: charts (each
with a one-line reading), tables, notes, and one line saying why when its step has not run.

To add a section: write ``report/sections/<id>.py`` with a class deriving from ``BaseSection``
(title and intro are the catalogue messages ``<area>.sec_<id>`` and ``<area>.sec_<id>_intro``),
and put an instance in ``REGISTRY`` where it belongs on the page. Nothing else changes: the page,
its contents list, ``segmark report`` and the tests that walk ``SECTIONS`` pick it up.
"""

from __future__ import annotations

from segmark.report.sections.audiences import AudiencesSection
from segmark.report.sections.base import (
    BaseSection,
    Block,
    Cell,
    CollectOptions,
    ReportSection,
    Section,
    add_chart,
    colors,
)
from segmark.report.sections.campaign import CampaignSection
from segmark.report.sections.map import MapSection
from segmark.report.sections.migration import MigrationSection
from segmark.report.sections.overview import OverviewSection
from segmark.report.sections.predictions import PredictionsSection
from segmark.report.sections.profile import ProfileSection
from segmark.report.sections.recommend import RecommendSection
from segmark.report.sections.rfm import RFMSection
from segmark.report.sections.rules import RulesSection
from segmark.report.sections.segments import SegmentsSection
from segmark.report.sections.selection import SelectionSection
from segmark.report.sections.tags import TagsSection

REGISTRY: list[ReportSection] = [
    OverviewSection(),
    SegmentsSection(),
    RFMSection(),
    MapSection(),
    ProfileSection(),
    RulesSection(),
    SelectionSection(),
    MigrationSection(),
    PredictionsSection(),
    RecommendSection(),
    TagsSection(),
    AudiencesSection(),
    CampaignSection(),
]
"""Every section, in page order (collection runs in this order too)."""

__all__ = [
    "REGISTRY",
    "BaseSection",
    "Block",
    "Cell",
    "CollectOptions",
    "ReportSection",
    "Section",
    "add_chart",
    "colors",
]
