"""Making a segmentation: read a feature build, fit RFM rules or a clustering, profile, name and
explain the segments, and store everything (``persist.store_fit``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from segmark.config import SegmentSettings
from segmark.core.segment import (
    RFMScorer,
    SegmentModel,
    default_features,
    default_rfm_rules,
    effect_matrix,
    feature_profile,
    fit_surrogate,
    name_segments,
    parse_rfm_rules,
    rfm_catalog,
)
from segmark.core.segment.claims import revenue_known, segment_facts
from segmark.core.segment.fitted import ClusterSegmentation, RFMSegmentation, rfm_reason, rule_definition
from segmark.core.segment.history import quantiles, robust_span_days
from segmark.core.segment.model import MIN_USERS
from segmark.core.segment.rfm import flat_axes, ignore_axes
from segmark.core.segment.selection import json_value
from segmark.errors import ConfigError, InputError, NoStructureError, TooFewUsersError
from segmark.pipeline.features import FeatureRun, load_features
from segmark.pipeline.segmentation.persist import Fit, numeric_columns, store_fit
from segmark.pipeline.segmentation.result import SegmentationResult
from segmark.store.base import Store, utc_now
from segmark.workspace import Workspace

RFM_FEATURES = ["recency_days", "frequency", "monetary"]


def require_columns(table: pd.DataFrame, columns: Sequence[str], run: FeatureRun) -> None:
    """Every column a segmentation needs is in the build, else an InputError naming them."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"feature build {run.run_id} has no column {', '.join(missing)}; "
                         "see `segmark features describe` (or sm.load_features) for what it holds")


def history_metrics(store: Store, as_of: datetime) -> dict[str, float | None]:
    """The days the events before ``as_of`` cover: the robust span (the central 98% of events) and
    the whole range (``core.segment.history``)."""
    low, high = quantiles()
    row = store.query_rows(
        f"SELECT approx_quantile(epoch(ts), {low}), approx_quantile(epoch(ts), {high}), epoch(min(ts)), "
        "epoch(max(ts)) FROM events WHERE ts < ?", [as_of])[0]
    return {"history_days": robust_span_days(row[0], row[1]), "history_range_days": robust_span_days(row[2], row[3])}


def run_rfm(ws: Workspace, *, scale: int | None = None, feature_run_id: int | None = None) -> SegmentationResult:
    """RFM scores and the named scheme (settings' ``rfm_rules`` or the standard one) on a build."""
    settings = ws.settings.segment
    scale = scale or settings.rfm_scale
    if scale not in (3, 5):
        raise ConfigError(f"scale must be 3 or 5, not {scale}")
    try:
        rules = parse_rfm_rules(settings.rfm_rules, scale) if settings.rfm_rules else default_rfm_rules(scale)
    except ValueError as exc:
        raise ConfigError(f"segment.rfm_rules: {exc}") from None
    started = utc_now()
    run, features = load_features(ws.store, feature_run_id)
    require_columns(features, RFM_FEATURES, run)
    flat = flat_axes(features)
    if flat:
        rules = ignore_axes(rules, flat)
    fitted = RFMSegmentation(RFMScorer.fit(features, scale=scale), tuple(rules), scale)
    placed = fitted.assign(features)
    catalog = rfm_catalog(rules)
    segments = pd.DataFrame(  # every segment the scheme can produce, empty ones too (for `assign`)
        [{"segment_id": i, "key": key, "name": name, "name_zh": name_zh, "name_source": "rule",
          "definition": rule_definition(rules, key)} for i, (key, name, name_zh) in enumerate(catalog)]
    ).set_index("segment_id")
    buyers = int((placed["r_score"] > 0).sum())
    r1 = pd.to_numeric(features["recency_days"], errors="coerce")[placed["r_score"] == 1].median()
    metrics = {"users": len(features), "buyers": buyers, "no_purchase": len(features) - buyers,
               "ignored_axes": flat, "custom_rules": bool(settings.rfm_rules),
               "revenue_known": revenue_known(features), **history_metrics(ws.store, run.as_of),
               "r1_recency_days": None if pd.isna(r1) else float(r1)}
    reason = rfm_reason(metrics, fitted.get_params())
    members = placed.reset_index(names="user_id").assign(user_id=lambda d: d["user_id"].astype(str))
    fit = Fit(fitted, "rfm", run, features, placed["segment_id"].to_numpy(), segments, members, RFM_FEATURES,
              metrics, reason)
    info = store_fit(ws, fit, started=started, overrides=settings.names)
    return SegmentationResult(info, ws)


def cluster_model(settings: SegmentSettings, *, method: str, k: int | str, features: list[str]) -> SegmentModel:
    """The clustering estimator from the workspace's settings (the one place they become parameters)."""
    s = settings
    pca = None if s.pca is None else (int(s.pca) if s.pca >= 1 else float(s.pca))
    return SegmentModel(method, k, features=features, pca=pca, methods=s.auto_methods, k_min=s.k_min,
                        k_max=s.k_max, min_share=s.min_segment_share, min_stability=s.min_stability,
                        min_gain=s.min_silhouette_gain, finer_ratio=s.finer_ratio, sample_size=s.sample_size,
                        random_state=s.random_state)


def run_cluster(ws: Workspace, *, method: str | None = None, k: int | str | None = None,
                features: Sequence[str] | None = None, feature_run_id: int | None = None) -> SegmentationResult:
    """Cluster users of a build (automatic selection by default), then profile, name and explain.

    Raises ``NoStructureError`` (after recording the run and every candidate's figures) when the
    method or k is automatic and the data show no real segments.
    """
    s = ws.settings.segment
    started = utc_now()
    run, table = load_features(ws.store, feature_run_id)
    chosen = list(features or s.features or default_features(table.columns))
    if not chosen:
        raise InputError(f"feature build {run.run_id} has none of the default clustering features; "
                         "name the columns to cluster on (features=[...], or --features)")
    require_columns(table, chosen, run)
    if len(table) < MIN_USERS:
        raise TooFewUsersError(f"cannot cluster feature build {run.run_id}: it has {len(table)} users, "
                               f"clustering needs at least {MIN_USERS}", n_users=len(table), minimum=MIN_USERS)
    model = cluster_model(s, method=method or s.method, k=s.k if k is None else k, features=chosen)
    params = {**{p: json_value(v) if not isinstance(v, list | tuple) else list(v)
                 for p, v in model.get_params().items()}, "feature_run_id": run.run_id}
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
    profile = feature_profile(table, labels, numeric_columns(table))
    names = name_segments(effect_matrix(profile), facts=segment_facts(table, labels, columns=numeric_columns(table)))
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
               "revenue_known": revenue_known(table),
               "surrogate_fidelity": surrogate.fidelity, "log_features": model.log_features_}
    selection = {k: v for k, v in model.selection_.to_dict().items() if k != "candidates"}
    members = pd.DataFrame({"user_id": table.index.astype(str), "segment_id": labels,
                            "r_score": None, "f_score": None, "m_score": None})
    fitted = ClusterSegmentation(model.compact(), surrogate)
    fit = Fit(fitted, model.method_, run, table, np.asarray(labels), segments, members, chosen, metrics,
              model.selection_.reason, selection=selection, candidates=model.selection_.candidates, profile=profile)
    info = store_fit(ws, fit, started=started, overrides=s.names)
    return SegmentationResult(info, ws)
