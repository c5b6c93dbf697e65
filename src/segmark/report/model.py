"""What the report shows, as plain data: filled by ``segmark.pipeline.report`` from the store, read by
the figure builders and the template.

Keeping the report's input a set of small frames (aggregated where the store can aggregate) makes
the figures testable without a database and keeps a 10-million-event shop from ever reaching the
report as per-event rows. A section whose data does not exist is ``None`` (or empty), and the page
says so in one line instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd


@dataclass
class Overview:
    """The shop's figures and the data-quality record."""

    shop: str
    """A name for the shop: the workspace folder's name."""
    events: int
    users: int
    """Distinct identified users with events."""
    items: int
    """Distinct items with events."""
    first_ts: datetime | None
    last_ts: datetime | None
    events_by_type: dict[str, int] = field(default_factory=dict)
    quarantine: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["table", "reason", "rows"]))
    """One row per (table, reason) with the number of rejected rows."""
    sources: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["table", "file", "rows_read", "accepted", "quarantined", "duplicates"]))
    """One row per ingested file."""
    buyers: int = 0
    revenue: float = 0.0
    """Net revenue: purchase amounts minus refund amounts, guests included."""
    guest_events: int = 0
    as_of: datetime | None = None
    """The date the latest features and segments were computed as of."""

    @property
    def rows_read(self) -> int:
        return int(self.sources["rows_read"].sum()) if len(self.sources) else 0

    @property
    def rows_quarantined(self) -> int:
        return int(self.quarantine["rows"].sum()) if len(self.quarantine) else 0

    @property
    def days(self) -> int:
        if self.first_ts is None or self.last_ts is None:
            return 0
        return (self.last_ts.date() - self.first_ts.date()).days + 1


@dataclass
class Segments:
    """One segmentation run as the report shows it."""

    kind: str
    """"rfm" or "cluster"."""
    run_id: int
    as_of: datetime | None
    table: pd.DataFrame
    """Index: segment key (str), in display order. Columns: name, name_zh, size, share, revenue,
    revenue_share."""

    def names(self, lang: str) -> dict[str, str]:
        """Segment key -> display name in ``lang`` (the stored Chinese name for zh)."""
        col = "name_zh" if lang == "zh" and "name_zh" in self.table else "name"
        return {str(k): str(v) if isinstance(v, str) and v else str(k) for k, v in self.table[col].items()}


@dataclass
class RFMView:
    """The RFM segmentation: segment table and the users per score cell."""

    segments: Segments
    cells: pd.DataFrame
    """One row per (r_score, f_score, segment): users and monetary_sum. Non-buyers (score 0) may be
    included; the grid leaves them out and counts them in the reading."""
    scale: int = 5
    profile: pd.DataFrame | None = None
    """Long table like ``ClusterView.profile``: shown when there is no clustering to profile."""


@dataclass
class MapPoints:
    """A sample of users placed in two dimensions."""

    points: pd.DataFrame
    """Columns: user_id, x, y, segment (key)."""
    method: str
    """"pca" or "umap"."""
    explained: tuple[float, float] | None
    """PCA's share of variance per axis (None for UMAP)."""
    n_features: int
    n_total: int


@dataclass
class Selection:
    """Model selection: every candidate with its scores, and the reason for the choice."""

    candidates: pd.DataFrame
    """Columns as ``segmark.core.segment.selection.CANDIDATE_COLUMNS`` (method, k, n_clusters,
    silhouette, gain, calinski_harabasz, davies_bouldin, stability, min_share, status, reason,
    reason_code, reason_params...); any of them may be missing. A row's reason is shown from its
    code and parameters in the page's language, else as its stored (English) text."""
    method: str | None
    k: int | None
    reason: str = ""
    """The stored English sentence: shown only when there is no ``reason_code``."""
    structure_found: bool = True
    thresholds: dict[str, float] = field(default_factory=dict)
    """The selection rule's thresholds (min_share, min_stability, min_gain)."""
    reason_code: str | None = None
    """The reason as a code of ``segmark.core.segment.reasons``, with ``reason_params``."""
    reason_params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ClusterView:
    """The behaviour clustering and everything that explains it."""

    segments: Segments | None
    """None when the selection found no real segments."""
    selection: Selection | None = None
    map: MapPoints | None = None
    profile: pd.DataFrame | None = None
    """Long table: segment, feature, lift, and optionally median, overall_median, effect."""
    rules: pd.DataFrame | None = None
    """Columns: segment, text, text_zh, users, precision, coverage."""
    fidelity: float | None = None
    features: list[str] = field(default_factory=list)
    """The features the clustering used."""


@dataclass
class MigrationView:
    """Users per (segment before, segment after) between two runs of one kind of segmentation."""

    kind: str
    from_run: int
    to_run: int
    from_as_of: datetime | None
    to_as_of: datetime | None
    users: pd.DataFrame
    """Rows: segment key in the earlier run, columns: in the later run; "(new)" and "(gone)" as in
    ``segmark.core.segment.migration``."""
    from_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Key -> (name, name_zh) for the earlier run."""
    to_names: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class ReportData:
    """Everything one report shows."""

    overview: Overview
    rfm: RFMView | None = None
    cluster: ClusterView | None = None
    migrations: list[MigrationView] = field(default_factory=list)
    runs_by_kind: dict[str, int] = field(default_factory=dict)
    """How many segmentation runs of each kind exist (the migration section says why it is empty)."""
    feature_labels: dict[str, str] = field(default_factory=dict)
    """Feature name -> Chinese label, from the feature catalog."""
    feature_labels_en: dict[str, str] = field(default_factory=dict)
    """Feature name -> English label, from the feature catalog (``segmark.features.labels``)."""
    parts: dict[str, Any] = field(default_factory=dict)
    """Each further section's own data, by section id (what its ``collect`` read; see
    ``segmark.report.sections``). A section whose step has not run leaves its part out."""
