"""What a stored segmentation is, as the rest of segmark sees it: its record (``Segmentation``) and a
clustering attempt that found no real segments (``RefusedClustering``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from segmark.core.segment.fitted import KINDS
from segmark.core.segment.selection import json_value

SEG_COLUMNS = ("segmentation_id, kind, method, feature_run_id, as_of, n_segments, n_users, features, params, "
               "metrics, selection, reason, created_at")
"""The columns of ``segmentations`` in ``Segmentation``'s order."""


@dataclass(frozen=True)
class Segmentation:
    """One stored segmentation (its id is the run id)."""

    segmentation_id: int
    kind: str
    method: str
    feature_run_id: int
    as_of: datetime
    n_segments: int
    n_users: int
    features: list[str]
    params: dict[str, Any]
    metrics: dict[str, Any]
    selection: dict[str, Any] | None
    reason: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "selection"}

    def reason_in(self, lang: str) -> str:
        """Why this segmentation, in ``lang`` (the stored English sentence where the record cannot
        say it in another language)."""
        if lang == "en":
            return self.reason
        return KINDS[self.kind].reason(self.params, self.metrics, self.selection, lang) or self.reason

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Segmentation:
        """From a row of ``SELECT {SEG_COLUMNS} FROM segmentations``."""
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]),
                   json.loads(row[8]), json.loads(row[9]), json.loads(row[10]) if row[10] else None,
                   row[11], row[12])


@dataclass(frozen=True)
class RefusedClustering:
    """A ``segment cluster`` attempt that found no real segments: nothing was stored but its run
    record, which keeps every candidate's figures and why (see ``run_cluster``)."""

    run_id: int
    """Its run id: comparable with segmentation ids, which are run ids too (higher is later)."""
    feature_run_id: int | None
    as_of: datetime | None
    """The feature build's as_of (UTC)."""
    selection: dict[str, Any]
    """The selection record without its candidates: reason, reason_code, reason_params, thresholds..."""
    candidates: pd.DataFrame
    """Every candidate, columns as ``segment_candidates``."""

    @property
    def reason(self) -> str:
        return str(self.selection.get("reason") or "")

    @property
    def reason_code(self) -> str | None:
        return self.selection.get("reason_code")

    @property
    def reason_params(self) -> dict[str, Any]:
        return self.selection.get("reason_params") or {}


def to_json(value: Any) -> str:
    """JSON for the store's JSON columns: Chinese kept as it is, NumPy numbers as plain ones."""
    return json.dumps(value, ensure_ascii=False, default=json_value)


def json_dict(value: Any) -> dict[str, Any]:
    """A stored JSON object as a dict ({} for anything else)."""
    try:
        out = json.loads(value) if isinstance(value, str | bytes) else value
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}
