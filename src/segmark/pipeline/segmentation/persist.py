"""Writing a segmentation: its record, segments, members, profiles, candidates and the signed fitted
model, in one transaction with its run record (a failure leaves the store as it was plus a
``failed`` run record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from segmark.core.segment import apply_name_overrides, feature_profile, segment_summary
from segmark.core.segment.fitted import FittedSegmentation
from segmark.core.segment.selection import CANDIDATE_COLUMNS
from segmark.pipeline.features import FeatureRun
from segmark.pipeline.segmentation.records import Segmentation, to_json
from segmark.signing import PICKLE, sign_pickle
from segmark.store.base import Capability, require, utc_now
from segmark.workspace import Workspace

MEMBER_COLUMNS = ["segmentation_id", "user_id", "segment_id", "r_score", "f_score", "m_score", "source",
                  "feature_run_id"]
PROFILE_COLUMNS = ["segmentation_id", "segment_id", "feature", "median", "mean", "overall_median", "overall_mean",
                   "lift", "effect"]


@dataclass
class Fit:
    """What fitting produced, ready to store: the fitted segmentation, how it labels the build's
    users, its segments and the evidence for it."""

    fitted: FittedSegmentation
    method: str
    run: FeatureRun
    features: pd.DataFrame
    """The feature table it was fitted on (indexed by user_id)."""
    labels: np.ndarray
    """Segment id of each row of ``features``."""
    segments: pd.DataFrame
    """One row per segment id: key, name, name_zh, name_source, definition, rules (cluster)."""
    members: pd.DataFrame
    """user_id, segment_id and the kind's scores (``FittedSegmentation.assign``'s columns)."""
    feature_names: list[str]
    metrics: dict[str, Any]
    reason: str
    selection: dict[str, Any] | None = None
    candidates: pd.DataFrame | None = None
    profile: pd.DataFrame | None = None
    """Per segment and feature; computed from ``features`` when None."""

    @property
    def kind(self) -> str:
        return self.fitted.kind

    @property
    def params(self) -> dict[str, Any]:
        """The fitted segmentation's own parameters and the build it was fitted on."""
        return {**self.fitted.get_params(), "feature_run_id": self.run.run_id}


def numeric_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns
            if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])]


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("segmark", "scikit-learn", "numpy", "kmodes"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def store_fit(ws: Workspace, fit: Fit, *, started: datetime,
              overrides: dict[str, dict[str, str]] | None = None) -> Segmentation:
    """Write one segmentation and everything about it in one transaction, with its run record;
    returns its record (its id is the run id)."""
    store = ws.store
    require(store, Capability.BLOBS, "store fitted segment models")
    seg_id = store.next_run_id()
    segments = fit.segments
    if overrides:
        segments = apply_name_overrides(segments, overrides, kind=fit.kind, segmentation_id=seg_id,
                                        source="name_source")
    segments = segments.join(segment_summary(fit.features, fit.labels), how="left")
    segments["size"] = segments["size"].fillna(0).astype(np.int64)
    segments["share"] = segments["share"].fillna(0.0)
    profile = fit.profile
    if profile is None:
        profile = feature_profile(fit.features, fit.labels, numeric_columns(fit.features))
    n_segments = int((segments["size"] > 0).sum())
    params = fit.params
    created = utc_now()
    info = Segmentation(seg_id, fit.kind, fit.method, fit.run.run_id, fit.run.as_of, n_segments, len(fit.features),
                        fit.feature_names, params, fit.metrics, fit.selection, fit.reason, created)
    members = fit.members.assign(segmentation_id=seg_id, source="fit", feature_run_id=fit.run.run_id)[MEMBER_COLUMNS]
    profile_rows = profile.assign(segmentation_id=seg_id).rename(columns={"segment": "segment_id"})[PROFILE_COLUMNS]
    seg_rows = pd.DataFrame({
        "segmentation_id": seg_id, "segment_id": segments.index.astype(np.int64), "key": segments["key"],
        "name": segments["name"], "name_zh": segments["name_zh"], "name_source": segments["name_source"],
        "size": segments["size"], "share": segments["share"], "revenue": segments["revenue"],
        "revenue_share": segments["revenue_share"],
        "top_categories": [to_json(v if isinstance(v, list) else []) for v in segments["top_categories"]],
        "definition": segments.get("definition"),
        "rules": [to_json(v) if isinstance(v, list) else None for v in segments.get("rules", [None] * len(segments))],
    })
    blob, sig = sign_pickle(ws, seg_id, fit.fitted)
    step = f"segment {fit.kind}"
    try:
        with store.atomic():
            store.execute(
                "INSERT INTO segmentations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [seg_id, fit.kind, fit.method, fit.run.run_id, fit.run.as_of, n_segments, len(fit.features),
                 to_json(fit.feature_names), to_json(params), to_json(fit.metrics),
                 None if fit.selection is None else to_json(fit.selection), fit.reason, created])
            store.insert("segments", seg_rows)
            store.insert("segment_members", members)
            store.insert("segment_profiles", profile_rows)
            if fit.candidates is not None and len(fit.candidates):
                cand = fit.candidates.assign(segmentation_id=seg_id, position=np.arange(len(fit.candidates)))
                cand["reason_params"] = [to_json(p) if isinstance(p, dict) else None for p in cand["reason_params"]]
                store.insert("segment_candidates", cand[["segmentation_id", "position", *CANDIDATE_COLUMNS]])
            store.execute("INSERT INTO segment_models (segmentation_id, format, versions, model, signature) "
                          "VALUES (?, ?, ?, ?, ?)", [seg_id, PICKLE, to_json(_versions()), blob, sig])
            store.record_run(seg_id, step, "ok", started_at=started, as_of=fit.run.as_of, params=params,
                             metrics={**fit.metrics, "segments": n_segments})
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(seg_id, step, "failed", started_at=started, as_of=fit.run.as_of, params=params,
                         message=str(exc) or type(exc).__name__)
        raise
    return info
