"""segmark as a library: the steps on a workspace, with frames and result objects out, for notebooks
and scripts (``import segmark as sm``; see docs/library.md).

Each function is the one the CLI command calls, taking the workspace rather than a store, and
returning what a notebook works with: a feature table indexed by ``user_id``, a
``SegmentationResult`` with ``.members``, ``.explain``, ``.assign`` and ``.export``. Errors are
``segmark.errors`` exceptions whose messages name these functions' parameters.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from segmark.pipeline import features as _features
from segmark.pipeline import segmentation as _segmentation
from segmark.pipeline.features import FeatureRun
from segmark.pipeline.segmentation import SegmentationResult
from segmark.workspace import Workspace


def build_features(ws: Workspace, as_of: str | date | datetime | None = None, *,
                   windows: list[int] | None = None) -> FeatureRun:
    """Compute one row of features per user from the workspace's events, as of ``as_of`` (a local
    date or date-time on the shop's clock; default: the day after the last event), and keep it as a
    new feature build. Returns the build (``run_id``, ``as_of``, ``columns``...)."""
    return _features.build_features(ws, as_of=as_of, windows=windows)


def load_features(ws: Workspace, run_id: int | None = None) -> pd.DataFrame:
    """A feature build as a DataFrame indexed by ``user_id`` (the latest build unless ``run_id``).

    Counts are int64, other numbers float64 (NaN when undefined), labels strings or None. The
    build's id, as_of and column catalogue are in ``df.attrs`` (``run_id``, ``as_of``, ``columns``)."""
    run, table = _features.load_features(ws.store, run_id)
    table.attrs.update({"run_id": run.run_id, "as_of": run.as_of, "as_of_local": run.as_of_local,
                        "columns": {c.name: {"family": c.family, "kind": c.kind, "unit": c.unit,
                                             "label_zh": c.label_zh, "description": c.description}
                                    for c in run.columns}})
    return table


def run_rfm(ws: Workspace, *, scale: int | None = None, feature_run_id: int | None = None) -> SegmentationResult:
    """RFM segments of a feature build (the latest by default): quantile scores 1..``scale`` for
    recency, frequency and monetary value, named by the workspace's scheme or the standard one."""
    return _segmentation.run_rfm(ws, scale=scale, feature_run_id=feature_run_id)


def run_cluster(ws: Workspace, *, method: str | None = None, k: int | str | None = None,
                features: list[str] | None = None, feature_run_id: int | None = None) -> SegmentationResult:
    """Behaviour segments of a feature build by clustering, the method and ``k`` chosen
    automatically unless given, then profiled, named and explained.

    Raises ``NoStructureError`` (its ``selection`` holds every candidate's figures) when the data
    show no real segments."""
    return _segmentation.run_cluster(ws, method=method, k=k, features=features, feature_run_id=feature_run_id)


def segmentation(ws: Workspace, segmentation_id: int | None = None, *, kind: str | None = None) -> SegmentationResult:
    """A stored segmentation as a result object: by id, else the latest (of ``kind``, "rfm" or "cluster")."""
    seg = _segmentation.get_segmentation(ws.store, segmentation_id, kind)
    return SegmentationResult(seg, ws)


def explain(ws: Workspace, user_id: str, segmentation_id: int | None = None) -> dict[str, Any]:
    """Why a user is in their segment (the latest segmentation unless ``segmentation_id``):
    ``because``/``because_zh``, the rule, scores or nearest centres, and the user's features."""
    return _segmentation.explain_user(ws, user_id, segmentation_id)


def assign(ws: Workspace, segmentation_id: int | None = None, feature_run_id: int | None = None, *,
           only_new: bool = False) -> dict[str, Any]:
    """Place the users of a (newer) feature build in a stored segmentation with its model, without
    refitting; returns counts (assigned, new, moved, unchanged, by_segment)."""
    return _segmentation.assign_users(ws, segmentation_id, feature_run_id, only_new=only_new)


def export_segments(ws: Workspace, path: Path | str, segmentation_id: int | None = None,
                    fmt: str | None = None) -> Path:
    """Write every member of a segmentation with its segment (id, key, English and Chinese name,
    RFM scores) to CSV, Parquet or JSON; the format follows the suffix unless ``fmt`` is given."""
    return _segmentation.export_segments(ws.store, path, segmentation_id, fmt)[1]


def write_report(ws: Workspace, path: Path | str, lang: str | None = None) -> Path:
    """Write the workspace's HTML report (one self-contained file) in ``lang`` ("en" or "zh")."""
    from segmark.pipeline.report import write_report as _write  # Plotly: loaded only when needed

    return _write(ws, path, lang)
