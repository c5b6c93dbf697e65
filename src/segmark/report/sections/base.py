"""What a report section is: an id, a way to read its data from the store, and a way to lay it out
as blocks (charts, tables, notes, one-line gaps) in a language.

``collect`` is the only part that reads the store, and only through the store protocol; it puts
what it read into the shared :class:`~segmark.report.model.ReportData` (a section's own data goes in
``data.parts[section id]``). ``build`` is pure: from ``ReportData`` to a :class:`Section`, so a
section can be tested without a database. Parts that several sections show (the overview, the
RFM segmentation, the clustering, the migrations) are collected once, by the first section that
shows them; collection runs in page order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from segmark.report.colors import segment_colors
from segmark.report.figures import Chart
from segmark.report.model import ReportData, Segments
from segmark.report.projection import MAX_POINTS
from segmark.store.base import Store
from segmark.text import Lang, msg


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

    def add(self, chart: Chart | None, missing: str | None = None) -> None:
        """The chart, or (when its data is missing) one line saying why."""
        add_chart(self.blocks, chart, missing)


def add_chart(blocks: list[Block], chart: Chart | None, missing: str | None) -> None:
    if chart is not None:
        blocks.append(Block("chart", chart=chart))
    elif missing:
        blocks.append(Block("missing", text=missing))


def colors(seg: Segments | None) -> dict[str, str]:
    """Segment key -> colour, the same on every chart of a segmentation."""
    return {} if seg is None else segment_colors(seg.kind, [str(k) for k in seg.table.index])


@dataclass(frozen=True)
class CollectOptions:
    """How the report reads the store: the shop's name and how the map samples users."""

    shop: str = ""
    max_points: int = MAX_POINTS
    projection: str = "auto"
    """"pca", "umap", or "auto" (UMAP where umap-learn is installed, else PCA)."""
    random_state: int = 0
    root: Path | None = None
    """The workspace folder, for sections that read its files too (the playbooks)."""
    timezone: str = "UTC"
    """The shop's clock (``time.timezone``), for instants a section shows as a date."""


class ReportSection(Protocol):
    """One section of the page."""

    id: str
    """The section's anchor on the page (``#overview``) and its key in ``ReportData.parts``."""

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        """Read this section's data from the store into ``data`` (nothing is written)."""
        ...

    def build(self, data: ReportData, lang: Lang) -> Section:
        """The section's blocks in ``lang``; a missing part says so in one line, never fails."""
        ...


class BaseSection:
    """Defaults for a section: nothing to collect, title and intro from the message catalogue
    (``<area>.sec_<id>`` and ``<area>.sec_<id>_intro``)."""

    id: ClassVar[str]
    area: ClassVar[str] = "report"
    """The catalogue area of the section's title and intro."""

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        return None

    def section(self, lang: Lang, **intro: Any) -> Section:
        """An empty section with its title and intro (``intro`` fills the intro's placeholders)."""
        return Section(self.id, msg(f"{self.area}.sec_{self.id}", lang),
                       msg(f"{self.area}.sec_{self.id}_intro", lang, **intro))

    def build(self, data: ReportData, lang: Lang) -> Section:  # pragma: no cover - every section has one
        raise NotImplementedError
