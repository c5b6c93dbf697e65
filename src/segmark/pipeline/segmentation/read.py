"""Reading stored segmentations: records, segments, members, profiles, candidates, the last refused
clustering, and the fitted model (verified before it is unpickled)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from segmark.core.segment.claims import MIN_LISTED_EFFECT, MIN_TERM_CHANGE, implied_by
from segmark.core.segment.fitted import FittedSegmentation, from_parts
from segmark.core.segment.naming import concept
from segmark.core.segment.selection import CANDIDATE_COLUMNS, json_value
from segmark.errors import NotFoundError, NotReadyError
from segmark.pipeline.segmentation.records import SEG_COLUMNS, RefusedClustering, Segmentation, json_dict
from segmark.signing import load_signed
from segmark.store.base import Store
from segmark.workspace import Workspace


def _ready(store: Store) -> None:
    if not store.table_exists("segmentations"):
        raise NotReadyError("this workspace has no segmentations: run `segmark segment rfm` or "
                            "`segmark segment cluster`")


def list_segmentations(store: Store) -> list[Segmentation]:
    """Every stored segmentation, newest first."""
    _ready(store)
    rows = store.query_rows(f"SELECT {SEG_COLUMNS} FROM segmentations ORDER BY segmentation_id DESC")
    return [Segmentation.from_row(r) for r in rows]


def get_segmentation(store: Store, segmentation_id: int | None = None,
                     kind: str | None = None) -> Segmentation:
    """One segmentation: by id (``NotFoundError`` when there is none), else the latest (of ``kind``
    when given; ``NotReadyError`` when none was made yet)."""
    _ready(store)
    if segmentation_id is not None:
        rows = store.query_rows(f"SELECT {SEG_COLUMNS} FROM segmentations WHERE segmentation_id = ?",
                                [segmentation_id])
        if not rows:
            raise NotFoundError(f"no segmentation {segmentation_id}: see `segmark segments list`")
    else:
        where, args = ("WHERE kind = ?", [kind]) if kind else ("", [])
        rows = store.query_rows(
            f"SELECT {SEG_COLUMNS} FROM segmentations {where} ORDER BY segmentation_id DESC LIMIT 1", args)
        if not rows:
            what = f"{kind} segmentation" if kind else "segmentation"
            raise NotReadyError(f"no {what} yet: run `segmark segment {kind or 'cluster'}`")
    return Segmentation.from_row(rows[0])


def last_refused_clustering(store: Store) -> RefusedClustering | None:
    """The last clustering attempt that found no structure, with its candidates and reason; None
    when no attempt was refused. Whether it is newer than the latest stored clustering is for the
    caller to compare (``run_id`` against ``segmentation_id``)."""
    rows = store.query_rows("SELECT run_id, as_of, params, metrics, message FROM runs "
                            "WHERE step = 'segment cluster' AND status = 'failed' ORDER BY run_id DESC")
    for run_id, as_of, params, metrics, message in rows:
        record = json_dict(metrics).get("selection")
        if not isinstance(record, dict) or not record.get("candidates") or record.get("structure_found", False):
            continue  # a failure of another kind (nothing was selected)
        feature_run = json_dict(params).get("feature_run_id")
        candidates = pd.DataFrame(record["candidates"]).reindex(columns=CANDIDATE_COLUMNS)
        selection = {k: v for k, v in record.items() if k != "candidates"}
        selection["reason"] = selection.get("reason") or message or ""
        return RefusedClustering(int(run_id), None if feature_run is None else int(feature_run), as_of, selection,
                                 candidates)
    return None


def segments_table(store: Store, segmentation_id: int) -> pd.DataFrame:
    """The segments of a segmentation, with their current number of members (after assignments)."""
    df = store.query_df(
        "SELECT s.segment_id, s.key, s.name, s.name_zh, s.name_source, s.size, s.share, s.revenue, "
        "s.revenue_share, s.top_categories, s.definition, s.rules, coalesce(m.members, 0) AS members "
        "FROM segments s LEFT JOIN (SELECT segment_id, count(*) AS members FROM segment_members "
        "WHERE segmentation_id = ? GROUP BY segment_id) m USING (segment_id) "
        "WHERE s.segmentation_id = ? ORDER BY s.segment_id", [segmentation_id, segmentation_id])
    df["top_categories"] = [json.loads(v) if isinstance(v, str) else [] for v in df["top_categories"]]
    df["rules"] = [json.loads(v) if isinstance(v, str) else [] for v in df["rules"]]
    df["members"] = df["members"].astype(np.int64)
    return df.set_index("segment_id")


def profile_table(store: Store, segmentation_id: int) -> pd.DataFrame:
    """Every segment's median, mean, lift and effect per feature (long format)."""
    return store.query_df(
        "SELECT segment_id, feature, median, mean, overall_median, overall_mean, lift, effect "
        "FROM segment_profiles WHERE segmentation_id = ? ORDER BY segment_id, feature", [segmentation_id])


def candidates_table(store: Store, segmentation_id: int) -> pd.DataFrame:
    """The model-selection candidates of a clustering (empty for RFM), in the order they were tried;
    ``reason_params`` as dicts (None for candidates stored before reasons had codes)."""
    df = store.query_df(
        f"SELECT {', '.join(CANDIDATE_COLUMNS)} FROM segment_candidates WHERE segmentation_id = ? "
        "ORDER BY position", [segmentation_id])
    df["reason_params"] = [json.loads(v) if isinstance(v, str) else None for v in df["reason_params"]]
    return df


def members(store: Store, segmentation_id: int) -> pd.DataFrame:
    """Every member with its segment's names (and RFM scores), indexed by user_id."""
    df = store.query_df(
        "SELECT m.user_id, m.segment_id, s.key, s.name, s.name_zh, m.r_score, m.f_score, m.m_score, "
        "m.source, m.feature_run_id FROM segment_members m JOIN segments s "
        "ON s.segmentation_id = m.segmentation_id AND s.segment_id = m.segment_id "
        "WHERE m.segmentation_id = ? ORDER BY m.user_id", [segmentation_id])
    return df.set_index("user_id")


def distinguishing(profile: pd.DataFrame, segment_id: int, top: int = 3,
                   key: str | None = None) -> list[dict[str, Any]]:
    """The features that set a segment apart most (largest absolute effect), only where a figure
    shows the difference: the segment's median against everyone's, or, where the medians are the
    same (0 and 0 for a count most users do not have), its mean (``stat``: "median" or "mean").
    A feature with no effect (too few users with a value, unknown money, a weekday code) is never
    listed, nor one below :data:`~segmark.core.segment.claims.MIN_LISTED_EFFECT`, nor a second one
    that measures the same (``orders_30d`` after ``frequency``), nor a figure within
    :data:`~segmark.core.segment.claims.MIN_TERM_CHANGE` of the shop's, nor one the segment's
    definition settles (``key``'s :data:`~segmark.core.segment.claims.IMPLIED`: no spend among users
    with no purchase)."""
    part = profile[(profile["segment_id"] == segment_id) & profile["effect"].notna()]
    part = part.reindex(part["effect"].abs().sort_values(ascending=False).index)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in part.itertuples():
        if abs(r.effect) < MIN_LISTED_EFFECT:
            break  # sorted by effect: the rest are smaller still
        if concept(r.feature) in seen or implied_by(key, r.feature):
            continue
        sign = np.sign(r.effect)
        if sign * (r.median - r.overall_median) > 0:
            stat, value, overall = "median", r.median, r.overall_median
        elif sign * (r.mean - r.overall_mean) > 0 and r.median == r.overall_median:
            stat, value, overall = "mean", r.mean, r.overall_mean
        else:
            continue
        if abs(value - overall) < MIN_TERM_CHANGE * abs(overall):
            continue  # 529 days as a customer against the shop's 503: no difference to act on
        seen.add(concept(r.feature))
        out.append({"feature": r.feature, "stat": stat, "value": json_value(value), "overall": json_value(overall),
                    "median": json_value(r.median), "overall_median": json_value(r.overall_median),
                    "mean": json_value(r.mean), "overall_mean": json_value(r.overall_mean),
                    "lift": json_value(r.lift), "effect": json_value(r.effect)})
        if len(out) == top:
            break
    return out


def feature_labels_zh(store: Store, feature_run_id: int) -> dict[str, str]:
    """Chinese labels of a feature build's columns (购买次数 for frequency...)."""
    return dict(store.query_rows("SELECT name, label_zh FROM feature_columns WHERE run_id = ? AND label_zh "
                                 "IS NOT NULL AND label_zh <> ''", [feature_run_id]))


def load_segmentation(ws: Workspace, segmentation_id: int) -> FittedSegmentation:
    """The fitted segmentation stored with a segmentation, unpickled only when its signature shows
    that this workspace wrote it, unchanged (``segmark.signing``).

    Raises ``StoreError`` for a model written by another workspace (another key, or a database
    copied without its key), changed since it was written, or stored before models were signed.
    """
    store = ws.store
    signed = "signature" in store.table_columns("segment_models")
    row = store.query_rows(f"SELECT format, model, {'signature' if signed else 'NULL'} FROM segment_models "
                           "WHERE segmentation_id = ?", [segmentation_id])
    if not row:
        raise NotFoundError(f"segmentation {segmentation_id} has no stored model")
    fmt, blob, sig = row[0]
    stored = load_signed(ws, segmentation_id, fmt, blob, sig,
                         what=f"the stored model of segmentation {segmentation_id}",
                         remedy="Make a new segmentation here (`segmark segment rfm` or `segmark segment cluster`, "
                                "or sm.run_rfm / sm.run_cluster) to use one.")
    return from_parts(stored)  # models stored before the interface are dicts of their parts


def load_model(ws: Workspace, segmentation_id: int) -> dict[str, Any]:
    """The stored model's parts by name (``kind``, and ``model``/``surrogate`` or ``scorer``/``rules``),
    as callers read them before :func:`load_segmentation`, verified the same way."""
    fitted = load_segmentation(ws, segmentation_id)
    return {"kind": fitted.kind, **fitted.parts()}
