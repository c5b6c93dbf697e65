"""What ``run_rfm``/``run_cluster`` return: the stored segmentation as an object to work with in a
notebook (its members, why a user is where they are, placing new users, exporting)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from segmark.localtime import local_day
from segmark.pipeline.segmentation.read import members, segments_table
from segmark.pipeline.segmentation.records import Segmentation
from segmark.workspace import Workspace


class SegmentationResult:
    """One stored segmentation of a workspace.

    ``segmentation`` is its record, ``segments`` its segments (one row per segment id, read when the
    result was made), ``members`` every member (a DataFrame indexed by user_id, read on first use)."""

    def __init__(self, segmentation: Segmentation, ws: Workspace) -> None:
        self.segmentation = segmentation
        self.workspace = ws
        self.segments = segments_table(ws.store, segmentation.segmentation_id)

    @property
    def segmentation_id(self) -> int:
        return self.segmentation.segmentation_id

    @cached_property
    def members(self) -> pd.DataFrame:
        """Every member: segment_id, segment key (``key``), ``name``, ``name_zh``, RFM scores, how they
        were placed (``source``) and from which feature build; indexed by user_id."""
        return members(self.workspace.store, self.segmentation_id)

    def explain(self, user_id: str) -> dict[str, Any]:
        """Why ``user_id`` is in their segment (see ``explain_user``)."""
        from segmark.pipeline.segmentation.use import explain_user

        return explain_user(self.workspace, user_id, self.segmentation_id)

    def assign(self, feature_run_id: int | None = None, *, only_new: bool = False) -> dict[str, Any]:
        """Place the users of a (newer) feature build with the stored model (see ``assign_users``)."""
        from segmark.pipeline.segmentation.use import assign_users

        report = assign_users(self.workspace, self.segmentation_id, feature_run_id, only_new=only_new)
        self.__dict__.pop("members", None)  # read again on next use
        return report

    def export(self, path: Path | str, fmt: str | None = None) -> Path:
        """Write every member with its segment to CSV, Parquet or JSON (see ``export_segments``)."""
        from segmark.pipeline.segmentation.use import export_segments

        return export_segments(self.workspace.store, path, self.segmentation_id, fmt)[1]

    def __repr__(self) -> str:
        s = self.segmentation
        return (f"<SegmentationResult {s.segmentation_id}: {s.kind} ({s.method}), {s.n_segments} segments of "
                f"{s.n_users:,} users as of {local_day(s.as_of, self.workspace.settings.time.timezone)}>")
