"""The HTML report: plain data in (``model``), Plotly figures with readings (``figures``), one
self-contained page out (``render``), in English or Chinese (``text``).

Pure: the store is read by ``segmark.pipeline.report``, which fills :class:`ReportData` and writes
the file.
"""

from segmark.report.colors import segment_colors
from segmark.report.figures import Chart
from segmark.report.model import (
    ClusterView,
    MapPoints,
    MigrationView,
    Overview,
    ReportData,
    RFMView,
    Segments,
    Selection,
)
from segmark.report.projection import project_users
from segmark.report.render import SECTIONS, build_charts, render_report

__all__ = [
    "SECTIONS",
    "Chart",
    "ClusterView",
    "MapPoints",
    "MigrationView",
    "Overview",
    "RFMView",
    "ReportData",
    "Segments",
    "Selection",
    "build_charts",
    "project_users",
    "render_report",
    "segment_colors",
]
