"""The segments step: read a feature build, segment (RFM rules or clustering), profile, name and
explain the segments, and store everything with the fitted model, in one transaction.

Later commands read what this step stored: ``list_segmentations``/``get_segmentation`` and the
tables, ``last_refused_clustering`` (the last clustering attempt that found no real segments),
``explain_user`` ("why is this user here"), ``assign_users`` (place new or changed users with the
stored model, without refitting) and ``segment_migration`` (users and revenue moving between the
segments of two segmentations).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmark.core.segment import (
    RFMScorer,
    SegmentModel,
    apply_name_overrides,
    default_features,
    default_rfm_rules,
    effect_matrix,
    feature_profile,
    fit_surrogate,
    migration_matrix,
    name_segments,
    nearest_centres,
    parse_rfm_rules,
    rfm_catalog,
    rfm_segments,
    segment_summary,
)
from segmark.core.segment.migration import Migration
from segmark.core.segment.model import NoStructureError
from segmark.core.segment.rfm import RFMRule, flat_axes, ignore_axes
from segmark.core.segment.selection import CANDIDATE_COLUMNS, json_value
from segmark.errors import ConfigError, InputError, NotReadyError, SegmarkError
from segmark.pipeline.features import FeatureRun, get_feature_run, load_features, user_features
from segmark.signing import load_signed, signature
from segmark.store.base import EXPORT_CAPABILITY, Capability, Store, require, utc_now
from segmark.workspace import Workspace, workspace_key

KINDS = ("rfm", "cluster")
_AXIS_NAMES = {"r": "recency", "f": "number of orders", "m": "net spend"}
MODEL_FORMAT = "pickle"


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


@dataclass
class SegmentationResult:
    """What a segmentation run produced: the record and its segments (one row per segment)."""

    segmentation: Segmentation
    segments: pd.DataFrame


# -- running ---------------------------------------------------------------------------------------


def run_rfm(ws: Workspace, *, scale: int | None = None, feature_run_id: int | None = None) -> SegmentationResult:
    """RFM scores and the named scheme (settings' ``rfm_rules`` or the standard one) on a build."""
    settings = ws.settings.segment
    scale = scale or settings.rfm_scale
    if scale not in (3, 5):
        raise ConfigError(f"--scale must be 3 or 5, not {scale}")
    try:
        rules = parse_rfm_rules(settings.rfm_rules, scale) if settings.rfm_rules else default_rfm_rules(scale)
    except ValueError as exc:
        raise ConfigError(f"segment.rfm_rules: {exc}") from None
    started = utc_now()
    run, features = load_features(ws.store, feature_run_id)
    _require(features, ["recency_days", "frequency", "monetary"], run)
    flat = flat_axes(features)
    if flat:
        rules = ignore_axes(rules, flat)
    scorer = RFMScorer.fit(features, scale=scale)
    named = rfm_segments(scorer.transform(features), rules, scale=scale)
    catalog = rfm_catalog(rules)
    ids = {key: i for i, (key, _, _) in enumerate(catalog)}
    labels = named["segment"].map(ids).to_numpy(dtype=np.int64)
    keep = range(len(catalog))  # every segment the scheme can produce, empty ones too (for `assign`)
    segments = pd.DataFrame(
        [{"segment_id": i, "key": catalog[i][0], "name": catalog[i][1], "name_zh": catalog[i][2],
          "name_source": "rule", "definition": _rule_definition(rules, catalog[i][0])} for i in keep]
    ).set_index("segment_id")
    buyers = int((named["r_score"] > 0).sum())
    params = {"scale": scale, "rules": [_rule_dict(r) for r in rules], "feature_run_id": run.run_id}
    metrics = {"users": len(features), "buyers": buyers, "no_purchase": len(features) - buyers,
               "ignored_axes": flat}
    reason = (f"RFM {scale}-point quantile scores of {buyers:,} buyers, named by "
              f"{'the workspace' if settings.rfm_rules else 'the standard'} scheme of {len(rules)} rules")
    if flat:
        reason += (f"; every buyer has the same {', '.join(_AXIS_NAMES[a] for a in flat)}, so the rules' "
                   f"{'/'.join(a.upper() for a in flat)} ranges are ignored")
    members = pd.DataFrame({"user_id": features.index.astype(str), "segment_id": labels,
                            "r_score": named["r_score"].to_numpy(), "f_score": named["f_score"].to_numpy(),
                            "m_score": named["m_score"].to_numpy()})
    return _store(ws, kind="rfm", method="rfm", run=run, features=features, labels=labels,
                  segments=segments, members=members, feature_names=["recency_days", "frequency", "monetary"],
                  params=params, metrics=metrics, selection=None, candidates=None, reason=reason,
                  model={"kind": "rfm", "scorer": scorer, "rules": rules}, started=started,
                  overrides=settings.names)


def run_cluster(ws: Workspace, *, method: str | None = None, k: int | str | None = None,
                features: Sequence[str] | None = None, feature_run_id: int | None = None) -> SegmentationResult:
    """Cluster users of a build (automatic selection by default), then profile, name and explain.

    Raises ``NoStructureError`` (after recording the run and every candidate's figures) when the
    method or k is automatic and the data show no real segments.
    """
    s = ws.settings.segment
    method = method or s.method
    k = s.k if k is None else k
    started = utc_now()
    run, table = load_features(ws.store, feature_run_id)
    chosen = list(features or s.features or default_features(table.columns))
    if not chosen:
        raise InputError(f"feature build {run.run_id} has none of the default clustering features; "
                         "pass --features")
    _require(table, chosen, run)
    pca = None if s.pca is None else (int(s.pca) if s.pca >= 1 else float(s.pca))
    model = SegmentModel(method, k, features=chosen, pca=pca, methods=s.auto_methods, k_min=s.k_min,
                         k_max=s.k_max, min_share=s.min_segment_share, min_stability=s.min_stability,
                         min_gain=s.min_silhouette_gain, finer_ratio=s.finer_ratio, sample_size=s.sample_size,
                         random_state=s.random_state)
    params = {"method": method, "k": k, "features": chosen, "feature_run_id": run.run_id, "pca": pca,
              "auto_methods": s.auto_methods, "k_min": s.k_min, "k_max": s.k_max,
              "min_segment_share": s.min_segment_share, "min_stability": s.min_stability,
              "min_silhouette_gain": s.min_silhouette_gain, "finer_ratio": s.finer_ratio,
              "sample_size": s.sample_size, "random_state": s.random_state}
    try:
        model.fit(table)
    except NoStructureError as exc:
        run_id = ws.store.next_run_id()
        with ws.store.atomic():
            ws.store.record_run(run_id, "segment cluster", "failed", started_at=started, as_of=run.as_of,
                                params=params, metrics={"selection": exc.selection.to_dict()},
                                message=str(exc))
        raise
    except ValueError as exc:
        raise InputError(f"cannot cluster feature build {run.run_id}: {exc}") from None
    labels = model.labels_
    profile_cols = _numeric_columns(table)
    profile = feature_profile(table, labels, profile_cols)
    names = name_segments(effect_matrix(profile))
    segments = names.rename(columns={"source": "name_source"}).drop(columns="score")
    segments.index.name = "segment_id"
    surrogate = fit_surrogate(table, labels, numeric=model.numeric_, categorical=model.categorical_,
                              max_depth=s.rules_depth, random_state=s.random_state,
                              labels_zh={c.name: c.label_zh for c in run.columns if c.label_zh})
    segments["rules"] = [
        [{"text": r.text, "text_zh": r.text_zh, "users": r.users, "precision": r.precision,
          "coverage": r.coverage} for r in surrogate.rules_for(int(i))] for i in segments.index]
    segments["definition"] = None
    metrics = {"users": len(table), **{k: json_value(v) for k, v in model.scores_.items()},
               "surrogate_fidelity": surrogate.fidelity, "log_features": model.log_features_}
    selection = {k: v for k, v in model.selection_.to_dict().items() if k != "candidates"}
    candidates = model.selection_.candidates
    members = pd.DataFrame({"user_id": table.index.astype(str), "segment_id": labels,
                            "r_score": None, "f_score": None, "m_score": None})
    result = _store(ws, kind="cluster", method=model.method_, run=run, features=table, labels=labels,
                    segments=segments, members=members, feature_names=chosen, params=params, metrics=metrics,
                    selection=selection, candidates=candidates, reason=model.selection_.reason,
                    model={"kind": "cluster", "model": model.compact(), "surrogate": surrogate},
                    started=started, profile=profile, overrides=ws.settings.segment.names)
    return result


def _require(table: pd.DataFrame, columns: Sequence[str], run: FeatureRun) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"feature build {run.run_id} has no column {', '.join(missing)}; "
                         "see `segmark features describe` for what it holds")


def _numeric_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns
            if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])]


def _rule_definition(rules: Sequence[RFMRule], key: str) -> str | None:
    for r in rules:
        if r.key == key:
            parts = [f"{axis.upper()} {b[0]}-{b[1]}" if b[0] != b[1] else f"{axis.upper()} {b[0]}"
                     for axis, b in (("r", r.r), ("f", r.f), ("m", r.m)) if b is not None]
            return ", ".join(parts) or "any scores"
    return {"no_purchase": "no purchase before as_of (scores 0)", "other": "no rule matched"}.get(key)


def _rule_dict(r: RFMRule) -> dict[str, Any]:
    return {"key": r.key, "name": r.name, "name_zh": r.name_zh,
            "r": list(r.r) if r.r else None, "f": list(r.f) if r.f else None, "m": list(r.m) if r.m else None}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=json_value)


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("segmark", "scikit-learn", "numpy", "kmodes"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def _store(ws: Workspace, *, kind: str, method: str, run: FeatureRun, features: pd.DataFrame,
           labels: np.ndarray, segments: pd.DataFrame, members: pd.DataFrame, feature_names: list[str],
           params: dict[str, Any], metrics: dict[str, Any], selection: dict[str, Any] | None,
           candidates: pd.DataFrame | None, reason: str, model: dict[str, Any], started: datetime,
           profile: pd.DataFrame | None = None, overrides: dict[str, dict[str, str]] | None = None,
           ) -> SegmentationResult:
    """Write one segmentation and everything about it in one transaction, with its run record."""
    store = ws.store
    require(store, Capability.BLOBS, "store fitted segment models")
    key = workspace_key(ws.root, create=True)
    seg_id = store.next_run_id()
    if overrides:
        segments = apply_name_overrides(segments, overrides, kind=kind, segmentation_id=seg_id,
                                        source="name_source")
    summary = segment_summary(features, labels)
    segments = segments.join(summary, how="left")
    segments["size"] = segments["size"].fillna(0).astype(np.int64)
    segments["share"] = segments["share"].fillna(0.0)
    if profile is None:
        profile = feature_profile(features, labels, _numeric_columns(features))
    n_segments = int((segments["size"] > 0).sum())
    created = utc_now()
    info = Segmentation(seg_id, kind, method, run.run_id, run.as_of, n_segments, len(features), feature_names,
                        params, metrics, selection, reason, created)
    members = members.assign(segmentation_id=seg_id, source="fit", feature_run_id=run.run_id)
    members = members[["segmentation_id", "user_id", "segment_id", "r_score", "f_score", "m_score", "source",
                       "feature_run_id"]]
    profile_rows = profile.assign(segmentation_id=seg_id).rename(columns={"segment": "segment_id"})[
        ["segmentation_id", "segment_id", "feature", "median", "mean", "overall_median", "overall_mean", "lift",
         "effect"]]
    seg_rows = pd.DataFrame({
        "segmentation_id": seg_id, "segment_id": segments.index.astype(np.int64), "key": segments["key"],
        "name": segments["name"], "name_zh": segments["name_zh"], "name_source": segments["name_source"],
        "size": segments["size"], "share": segments["share"], "revenue": segments["revenue"],
        "revenue_share": segments["revenue_share"],
        "top_categories": [_json(v if isinstance(v, list) else []) for v in segments["top_categories"]],
        "definition": segments.get("definition"),
        "rules": [_json(v) if isinstance(v, list) else None for v in segments.get("rules", [None] * len(segments))],
    })
    blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    step = f"segment {kind}"
    try:
        with store.atomic():
            store.execute(
                "INSERT INTO segmentations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [seg_id, kind, method, run.run_id, run.as_of, n_segments, len(features), _json(feature_names),
                 _json(params), _json(metrics), None if selection is None else _json(selection), reason, created])
            store.insert("segments", seg_rows)
            store.insert("segment_members", members)
            store.insert("segment_profiles", profile_rows)
            if candidates is not None and len(candidates):
                cand = candidates.assign(segmentation_id=seg_id, position=np.arange(len(candidates)))
                cand["reason_params"] = [_json(p) if isinstance(p, dict) else None for p in cand["reason_params"]]
                cand = cand[["segmentation_id", "position", *CANDIDATE_COLUMNS]]
                store.insert("segment_candidates", cand)
            store.execute("INSERT INTO segment_models (segmentation_id, format, versions, model, signature) "
                          "VALUES (?, ?, ?, ?, ?)",
                          [seg_id, MODEL_FORMAT, _json(_versions()), blob,
                           _signature(key, seg_id, MODEL_FORMAT, blob)])
            store.record_run(seg_id, step, "ok", started_at=started, as_of=run.as_of, params=params,
                             metrics={**metrics, "segments": n_segments})
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(seg_id, step, "failed", started_at=started, as_of=run.as_of, params=params,
                         message=str(exc) or type(exc).__name__)
        raise
    return SegmentationResult(info, segments_table(store, seg_id))


# -- reading ---------------------------------------------------------------------------------------

_SEG_COLUMNS = ("segmentation_id, kind, method, feature_run_id, as_of, n_segments, n_users, features, params, "
                "metrics, selection, reason, created_at")


def _segmentation(row: tuple[Any, ...]) -> Segmentation:
    return Segmentation(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]),
                        json.loads(row[8]), json.loads(row[9]), json.loads(row[10]) if row[10] else None,
                        row[11], row[12])


def _ready(store: Store) -> None:
    if not store.table_exists("segmentations"):
        raise NotReadyError("this workspace has no segmentations: run `segmark segment rfm` or "
                            "`segmark segment cluster`")


def list_segmentations(store: Store) -> list[Segmentation]:
    """Every stored segmentation, newest first."""
    _ready(store)
    rows = store.query_rows(f"SELECT {_SEG_COLUMNS} FROM segmentations ORDER BY segmentation_id DESC")
    return [_segmentation(r) for r in rows]


def get_segmentation(store: Store, segmentation_id: int | None = None,
                     kind: str | None = None) -> Segmentation:
    """One segmentation: by id, else the latest (of ``kind`` when given)."""
    _ready(store)
    if segmentation_id is not None:
        rows = store.query_rows(f"SELECT {_SEG_COLUMNS} FROM segmentations WHERE segmentation_id = ?",
                                [segmentation_id])
        if not rows:
            raise NotReadyError(f"no segmentation {segmentation_id}: see `segmark segments list`")
    else:
        where, args = ("WHERE kind = ?", [kind]) if kind else ("", [])
        rows = store.query_rows(
            f"SELECT {_SEG_COLUMNS} FROM segmentations {where} ORDER BY segmentation_id DESC LIMIT 1", args)
        if not rows:
            what = f"{kind} segmentation" if kind else "segmentation"
            raise NotReadyError(f"no {what} yet: run `segmark segment {kind or 'cluster'}`")
    return _segmentation(rows[0])


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


def last_refused_clustering(store: Store) -> RefusedClustering | None:
    """The last clustering attempt that found no structure, with its candidates and reason; None
    when no attempt was refused. Whether it is newer than the latest stored clustering is for the
    caller to compare (``run_id`` against ``segmentation_id``)."""
    rows = store.query_rows("SELECT run_id, as_of, params, metrics, message FROM runs "
                            "WHERE step = 'segment cluster' AND status = 'failed' ORDER BY run_id DESC")
    for run_id, as_of, params, metrics, message in rows:
        record = _json_dict(metrics).get("selection")
        if not isinstance(record, dict) or not record.get("candidates") or record.get("structure_found", False):
            continue  # a failure of another kind (nothing was selected)
        feature_run = _json_dict(params).get("feature_run_id")
        candidates = pd.DataFrame(record["candidates"]).reindex(columns=CANDIDATE_COLUMNS)
        selection = {k: v for k, v in record.items() if k != "candidates"}
        selection["reason"] = selection.get("reason") or message or ""
        return RefusedClustering(int(run_id), None if feature_run is None else int(feature_run), as_of, selection,
                                 candidates)
    return None


def _json_dict(value: Any) -> dict[str, Any]:
    try:
        out = json.loads(value) if isinstance(value, str | bytes) else value
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


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


def distinguishing(profile: pd.DataFrame, segment_id: int, top: int = 3) -> list[dict[str, Any]]:
    """The features that set a segment apart most (largest absolute effect)."""
    part = profile[(profile["segment_id"] == segment_id) & profile["effect"].notna()]
    part = part.reindex(part["effect"].abs().sort_values(ascending=False).index).head(top)
    return [{"feature": r.feature, "median": json_value(r.median), "overall_median": json_value(r.overall_median),
             "lift": json_value(r.lift), "effect": json_value(r.effect)} for r in part.itertuples()]


def feature_labels_zh(store: Store, feature_run_id: int) -> dict[str, str]:
    """Chinese labels of a feature build's columns (购买次数 for frequency...)."""
    return dict(store.query_rows("SELECT name, label_zh FROM feature_columns WHERE run_id = ? AND label_zh "
                                 "IS NOT NULL AND label_zh <> ''", [feature_run_id]))


def _signature(key: bytes, segmentation_id: int, fmt: str, blob: bytes) -> str:
    """HMAC-SHA256 of a stored model under the workspace's key, bound to its segmentation and format."""
    return signature(key, segmentation_id, fmt, blob)


def load_model(ws: Workspace, segmentation_id: int) -> dict[str, Any]:
    """The stored model of a segmentation, unpickled only when its signature shows that this
    workspace wrote it, unchanged (its key is the file ``.segmark-key`` beside the database).

    Raises ``StoreError`` for a model written by another workspace (another key, or a database
    copied without its key), changed since it was written, or stored before models were signed.
    """
    store = ws.store
    signed = "signature" in store.table_columns("segment_models")
    row = store.query_rows(f"SELECT format, model, {'signature' if signed else 'NULL'} FROM segment_models "
                           "WHERE segmentation_id = ?", [segmentation_id])
    if not row:
        raise NotReadyError(f"segmentation {segmentation_id} has no stored model")
    fmt, blob, sig = row[0]
    return load_signed(ws.root, segmentation_id, fmt, blob, sig,
                       what=f"the stored model of segmentation {segmentation_id}",
                       remedy="Make a new segmentation here (`segmark segment rfm` or `segmark segment cluster`) "
                              "to use one.")


def members(store: Store, segmentation_id: int) -> pd.DataFrame:
    """Every member with its segment's names (and RFM scores), indexed by user_id."""
    df = store.query_df(
        "SELECT m.user_id, m.segment_id, s.key, s.name, s.name_zh, m.r_score, m.f_score, m.m_score, "
        "m.source, m.feature_run_id FROM segment_members m JOIN segments s "
        "ON s.segmentation_id = m.segmentation_id AND s.segment_id = m.segment_id "
        "WHERE m.segmentation_id = ? ORDER BY m.user_id", [segmentation_id])
    return df.set_index("user_id")


def export_segments(store: Store, out: Path | str, segmentation_id: int | None = None,
                    fmt: str | None = None) -> tuple[Segmentation, Path]:
    """Write every member with its segment to CSV, Parquet or JSON (format from the suffix)."""
    seg = get_segmentation(store, segmentation_id)
    path = Path(out)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    fmt = {"pq": "parquet", "jsonl": "json"}.get(fmt, fmt)
    if fmt not in EXPORT_CAPABILITY:
        raise InputError(f"cannot tell the export format from {path.name!r}: use .csv, .parquet or .json")
    require(store, EXPORT_CAPABILITY[fmt], f"export {fmt} files")
    path.parent.mkdir(parents=True, exist_ok=True)
    rfm = ", m.r_score, m.f_score, m.m_score" if seg.kind == "rfm" else ""
    store.export(
        f"SELECT m.user_id, m.segment_id, s.key AS segment_key, s.name AS segment_name, "
        f"s.name_zh AS segment_name_zh{rfm}, m.source FROM segment_members m JOIN segments s "
        f"ON s.segmentation_id = m.segmentation_id AND s.segment_id = m.segment_id "
        f"WHERE m.segmentation_id = ? ORDER BY m.user_id", path, fmt, [seg.segmentation_id])  # type: ignore[arg-type]
    return seg, path


# -- why -------------------------------------------------------------------------------------------


def explain_user(ws: Workspace, user_id: str, segmentation_id: int | None = None) -> dict[str, Any]:
    """Which segment a user is in and why: the RFM rule and scores, or the surrogate-tree rule the
    user's features satisfy and the distance to each segment's centre."""
    store = ws.store
    seg = get_segmentation(store, segmentation_id)
    row = store.query_rows(
        "SELECT segment_id, r_score, f_score, m_score, source, feature_run_id FROM segment_members "
        "WHERE segmentation_id = ? AND user_id = ?", [seg.segmentation_id, user_id])
    if not row:
        raise SegmarkError(f"user {user_id!r} is not in segmentation {seg.segmentation_id}; "
                           "place new users with `segmark segments assign`")
    segment_id, r, f, m, source, feature_run = row[0]
    table = segments_table(store, seg.segmentation_id)
    names = table[["name", "name_zh"]]
    run, values = user_features(store, user_id, feature_run)
    out: dict[str, Any] = {
        "user_id": user_id, "segmentation_id": seg.segmentation_id, "kind": seg.kind,
        "segment_id": int(segment_id), "name": names.loc[segment_id, "name"],
        "name_zh": names.loc[segment_id, "name_zh"], "placed_by": source, "feature_run_id": run.run_id,
        "as_of": run.as_of,
        "features": {c: values.get(c) for c in seg.features},
    }
    if seg.kind == "rfm":
        definition = table.loc[segment_id, "definition"]
        out.update({"scores": {"r": int(r), "f": int(f), "m": int(m)}, "rule": definition,
                    "because": f"R={r}, F={f}, M={m} matches {names.loc[segment_id, 'name']}: {definition}",
                    "because_zh": f"R={r}、F={f}、M={m}，符合“{names.loc[segment_id, 'name_zh']}”：{definition}"})
        return out
    stored = load_model(ws, seg.segmentation_id)
    model: SegmentModel = stored["model"]
    frame = pd.DataFrame([values], index=pd.Index([user_id], name="user_id"))
    frame = _typed_like(frame, model)
    why = stored["surrogate"].explain(frame)
    dist = model.transform(frame)[0]
    nearest = [{"segment_id": i, "name": names.loc[i, "name"], "name_zh": names.loc[i, "name_zh"],
                "distance": d} for i, d in nearest_centres(dist, top=min(3, len(dist)))]
    agrees = why["tree_segment"] == segment_id
    out.update({
        "rule": why["rule"], "rule_zh": why["rule_zh"], "rule_segment_id": why["tree_segment"],
        "rule_agrees": agrees, "nearest_centres": nearest,
        "because": (f"{why['rule']} -> {names.loc[why['tree_segment'], 'name']}"
                    + ("" if agrees else f" (the rules' summary; the model itself placed the user in "
                                         f"{names.loc[segment_id, 'name']})")
                    + f"; nearest centre: {nearest[0]['name']}"),
        "because_zh": (f"{why['rule_zh']} → {names.loc[why['tree_segment'], 'name_zh']}"
                       + ("" if agrees else f"（规则近似；模型实际分到“{names.loc[segment_id, 'name_zh']}”）")
                       + f"；最近的中心：{nearest[0]['name_zh']}"),
    })
    return out


def _typed_like(frame: pd.DataFrame, model: SegmentModel) -> pd.DataFrame:
    """One user's values as the model saw them in training: numbers as floats, text as objects."""
    for c in model.numeric_:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    for c in model.categorical_:
        frame[c] = frame[c].astype(object)
    return frame


# -- assignment and migration ------------------------------------------------------------------------


def assign_users(ws: Workspace, segmentation_id: int | None = None, feature_run_id: int | None = None, *,
                 only_new: bool = False) -> dict[str, Any]:
    """Place the users of a feature build in an existing segmentation with its stored model (no
    refit): every user of the build, or with ``only_new`` those not yet members. A user placed
    again replaces their earlier placement. Returns counts: assigned, new, moved, unchanged."""
    store = ws.store
    require(store, Capability.DELETE, "place users again in a segmentation")
    started = utc_now()
    seg = get_segmentation(store, segmentation_id)
    run, table = load_features(store, feature_run_id)
    before = store.query_df("SELECT user_id, segment_id FROM segment_members WHERE segmentation_id = ?",
                            [seg.segmentation_id]).set_index("user_id")["segment_id"]
    if only_new:
        table = table[~table.index.isin(before.index)]
    stored = load_model(ws, seg.segmentation_id)
    if len(table) == 0:
        labels = np.array([], dtype=np.int64)
        scores = None
    elif stored["kind"] == "rfm":
        scores = stored["scorer"].transform(table)
        named = rfm_segments(scores, stored["rules"])
        ids = dict(store.query_rows("SELECT key, segment_id FROM segments WHERE segmentation_id = ?",
                                    [seg.segmentation_id]))
        labels = named["segment"].map(ids).to_numpy(dtype=np.int64)
    else:
        model: SegmentModel = stored["model"]
        _require(table, list(model.feature_names_in_), run)
        labels = model.predict(table)
        scores = None
    users = table.index.astype(str)
    frame = pd.DataFrame({
        "segmentation_id": seg.segmentation_id, "user_id": users, "segment_id": labels,
        "r_score": None if scores is None else scores["r_score"].to_numpy(),
        "f_score": None if scores is None else scores["f_score"].to_numpy(),
        "m_score": None if scores is None else scores["m_score"].to_numpy(),
        "source": "assign", "feature_run_id": run.run_id})
    previous = before.reindex(users)
    report = {"segmentation_id": seg.segmentation_id, "feature_run_id": run.run_id, "assigned": len(frame),
              "new": int(previous.isna().sum()),
              "moved": int(((previous.to_numpy() != labels) & previous.notna().to_numpy()).sum()),
              "by_segment": {int(k): int(v) for k, v in zip(*np.unique(labels, return_counts=True), strict=True)}}
    report["unchanged"] = report["assigned"] - report["new"] - report["moved"]
    run_id = store.next_run_id()
    params = {"segmentation_id": seg.segmentation_id, "feature_run_id": run.run_id, "only_new": only_new}
    try:
        with store.atomic():
            if len(frame):
                store.delete_keys("segment_members", frame[["user_id"]],
                                  where={"segmentation_id": seg.segmentation_id})
                store.insert("segment_members", frame)
            store.record_run(run_id, "segments assign", "ok", started_at=started, as_of=run.as_of,
                             params=params, metrics={k: v for k, v in report.items() if k != "by_segment"})
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, "segments assign", "failed", started_at=started, as_of=run.as_of,
                         params=params, message=str(exc) or type(exc).__name__)
        raise
    return report


@dataclass
class MigrationReport:
    """Users and revenue moving between two segmentations; the matrices are keyed by segment key
    (stable across runs and languages), with ``(new)`` and ``(gone)`` for users at one date only."""

    before: Segmentation
    after: Segmentation
    migration: Migration
    names_before: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Segment key -> (English name, Chinese name) in the earlier segmentation."""
    names_after: dict[str, tuple[str, str]] = field(default_factory=dict)
    """The same for the later segmentation."""

    def name(self, key: str, lang: str = "en", *, later: bool = False) -> str:
        """A row (or, with ``later``, column) key's display name in ``lang``; (new) and (gone) as they are."""
        pair = (self.names_after if later else self.names_before).get(key)
        if pair is None:
            return key
        return (pair[1] or pair[0]) if lang == "zh" else pair[0]

    def to_dict(self) -> dict[str, Any]:
        def table(df: pd.DataFrame | None) -> dict[str, dict[str, float]] | None:
            if df is None:
                return None
            return {str(i): {str(c): json_value(v) for c, v in row.items()} for i, row in df.iterrows()}

        def names(pairs: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
            return {k: {"name": n, "name_zh": z} for k, (n, z) in pairs.items()}

        return {"from": self.before.to_dict(), "to": self.after.to_dict(),
                "users": table(self.migration.users), "revenue": table(self.migration.revenue),
                "stayed_share": json_value(self.migration.stayed_share),
                "names": {"from": names(self.names_before), "to": names(self.names_after)}}


def segment_migration(store: Store, from_id: int | None = None, to_id: int | None = None) -> MigrationReport:
    """Users and revenue moving between the segments of two segmentations.

    By default the pair is the latest segmentation and the latest one of the same kind made on a
    feature build with another as_of, the earlier date first. Segments are matched by key (stable
    across runs, whatever their names in either language, renamed or not), so RFM schemes and
    clusterings with the same archetypes compare directly; the report carries both names of every
    key. Revenue is each user's net spend in the later build (in the earlier one for users who left).
    """
    after = get_segmentation(store, to_id)
    if from_id is None:
        rows = store.query_rows(
            f"SELECT {_SEG_COLUMNS} FROM segmentations WHERE kind = ? AND as_of <> ? "
            "ORDER BY segmentation_id DESC LIMIT 1", [after.kind, after.as_of])
        if not rows:
            raise NotReadyError(f"no other {after.kind} segmentation at a different as_of than segmentation "
                                f"{after.segmentation_id} ({after.as_of:%Y-%m-%d}): build features at another "
                                "date and segment again, or give two ids")
        before = _segmentation(rows[0])
        if to_id is None and before.as_of > after.as_of:
            before, after = after, before
    else:
        before = get_segmentation(store, from_id)
    m_before, m_after = members(store, before.segmentation_id), members(store, after.segmentation_id)
    revenue = _revenue(store, after.feature_run_id).reindex(m_after.index)
    gone = m_before.index.difference(m_after.index)
    if len(gone):
        revenue = pd.concat([revenue, _revenue(store, before.feature_run_id).reindex(gone)])
    t_before, t_after = segments_table(store, before.segmentation_id), segments_table(store, after.segmentation_id)
    names_before = {str(k): (str(n), str(z)) for k, n, z in zip(t_before["key"], t_before["name"],
                                                                t_before["name_zh"], strict=True)}
    names_after = {str(k): (str(n), str(z)) for k, n, z in zip(t_after["key"], t_after["name"], t_after["name_zh"],
                                                               strict=True)}
    order = list(dict.fromkeys([*names_before, *names_after]))
    result = migration_matrix(m_before["key"], m_after["key"], revenue=revenue, order=order)
    return MigrationReport(before, after, result, names_before, names_after)


def _revenue(store: Store, feature_run_id: int) -> pd.Series:
    run = get_feature_run(store, feature_run_id)
    df = store.query_df(f"SELECT user_id, monetary FROM {run.table_name}")
    return df.set_index("user_id")["monetary"].astype(float)
