"""Reading helpers several sections share: a segmentation's segments keyed by their stable key,
its profile, its selection record, and a feature build's local date."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from segmark.errors import NotFoundError, NotReadyError
from segmark.pipeline.features import get_feature_run
from segmark.pipeline.segments import Segmentation, profile_table, segments_table
from segmark.report.model import Segments, Selection
from segmark.store.base import Store


def segments_by_key(store: Store, seg: Segmentation) -> tuple[Segments, dict[int, str]]:
    """The segments of a segmentation keyed by their stable key, and segment_id -> key."""
    table = segments_table(store, seg.segmentation_id)
    keys = {int(i): str(k) for i, k in table["key"].items()}
    table = table[table["size"] > 0].copy()
    table.index = [keys[int(i)] for i in table.index]
    table.index.name = "segment"
    shown = table[["name", "name_zh", "size", "share", "revenue", "revenue_share", "rules"]]
    return Segments(seg.kind, seg.segmentation_id, local_as_of(store, seg.feature_run_id), shown), keys


def profile_by_key(store: Store, seg: Segmentation, keys: dict[int, str]) -> pd.DataFrame:
    """Per segment (by key) and feature: median, mean, lift and effect."""
    profile = profile_table(store, seg.segmentation_id)
    profile["segment"] = [keys.get(int(i), str(i)) for i in profile.pop("segment_id")]
    return profile


def selection_view(record: dict[str, Any], candidates: pd.DataFrame) -> Selection:
    k = record.get("k")
    code, params = record.get("reason_code"), record.get("reason_params")
    return Selection(candidates, record.get("method"), None if k is None else int(k), str(record.get("reason") or ""),
                     bool(record.get("structure_found", True)),
                     {str(a): float(b) for a, b in (record.get("thresholds") or {}).items() if b is not None},
                     code if isinstance(code, str) else None, params if isinstance(params, dict) else {})


def local_as_of(store: Store, feature_run_id: int) -> datetime | None:
    """A feature build's as_of on the shop's clock (what the reader calls "the date")."""
    try:
        return get_feature_run(store, feature_run_id).as_of_local
    except (NotReadyError, NotFoundError):  # a build dropped since: the page shows no date
        return None


def to_float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
