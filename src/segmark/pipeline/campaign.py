"""Campaign measurement: after a send, the audience's treatment and control groups compared on
conversion and revenue in a window, overall and per segment; sample sizes for planning; and uplift
models fitted on a readout's window to choose whom to target next time.

Conversion is "bought at least once in [since, until)"; revenue is net spend in the window
(purchase amounts minus refund amounts), zero for users who bought nothing. Every readout is kept
(``campaign_readouts``) with its window. SciPy and scikit-learn are imported by the functions that
use them, so that importing segmark (and every CLI command) stays quick.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from segmark.core.audience.holdout import hash_order
from segmark.errors import InputError, NotReadyError
from segmark.localtime import local_day, local_time
from segmark.pipeline.audience import Audience, get_audience
from segmark.pipeline.features import default_as_of, get_feature_run, parse_as_of
from segmark.sql import ident
from segmark.store.base import Store, utc_now
from segmark.workspace import Workspace

STEP = "campaign readout"
UPLIFT_STEP = "campaign uplift"


def _window(ws: Workspace, since: str | date | datetime, until: str | date | datetime | None) -> tuple[datetime,
                                                                                                      datetime]:
    tz = ws.settings.time.timezone
    start = parse_as_of(since, tz)
    end = parse_as_of(until, tz) if until is not None else default_as_of(ws.store, tz)
    if end <= start:
        raise InputError(f"until ({local_time(end, tz)}) must be after since ({local_time(start, tz)}); "
                         "without until the window ends after the last event")
    return start, end


def outcomes(store: Store, audience: Audience, since: datetime, until: datetime) -> pd.DataFrame:
    """Every member with arm, segment, converted (bought in the window) and revenue (net spend)."""
    df = store.query_df(
        "SELECT m.user_id, m.arm, m.segment_key, coalesce(o.orders, 0) > 0 AS converted, "
        "coalesce(o.revenue, 0.0) AS revenue FROM audience_members m LEFT JOIN ("
        "SELECT user_id, count(*) FILTER (WHERE event_type = 'purchase') AS orders, "
        "coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0) "
        "- coalesce(sum(amount) FILTER (WHERE event_type = 'refund'), 0) AS revenue "
        "FROM events WHERE user_id IS NOT NULL AND ts >= ? AND ts < ? AND event_type IN ('purchase', 'refund') "
        "GROUP BY user_id) o ON o.user_id = m.user_id WHERE m.audience_id = ? ORDER BY m.user_id",
        [since, until, audience.audience_id])
    df["converted"] = df["converted"].astype(bool)
    df["revenue"] = df["revenue"].astype(float)
    return df


def campaign_readout(ws: Workspace, audience: str, since: str | date | datetime,
                     until: str | date | datetime | None = None, *, confidence: float = 0.95,
                     seed: int = 0) -> dict[str, Any]:
    """Treatment against control after the send: conversion and revenue per user, absolute and
    relative lift with intervals and an exact permutation p-value, overall and per segment."""
    from segmark.core.audience.lift import readout, readout_by

    started = utc_now()
    store = ws.store
    a = get_audience(store, audience)
    if a.control == 0:
        raise NotReadyError(f"audience {audience!r} has no control group, so there is nothing to compare with: "
                            "create it with a holdout (holdout=0.1, or --holdout 0.1)")
    start, end = _window(ws, since, until)
    df = outcomes(store, a, start, end)
    treated = (df["arm"] == "treatment").to_numpy()
    conv, rev = df["converted"].to_numpy(), df["revenue"].to_numpy()
    result = readout(conv[treated], rev[treated], conv[~treated], rev[~treated], confidence=confidence, seed=seed)
    names = {}
    if a.ids.get("segmentation_id") is not None:
        names = {str(k): (str(n), str(z)) for k, n, z in store.query_rows(
            "SELECT key, name, name_zh FROM segments WHERE segmentation_id = ?", [a.ids["segmentation_id"]])}
    by = readout_by(df["segment_key"].fillna("(none)").to_numpy(), treated, conv, rev, confidence=confidence, seed=seed)
    result["by_segment"] = [{"segment": k, "name": names.get(k, (k, k))[0], "name_zh": names.get(k, (k, k))[1], **v}
                            for k, v in by.items()]
    result.update({"audience": a.name, "audience_id": a.audience_id, "since": start, "until": end,
                   "as_of": a.as_of})
    if start < a.as_of:
        day = local_day(a.as_of, ws.settings.time.timezone)
        result["warning"] = (f"the window starts before the audience's features as_of ({day}): "
                             "purchases that shaped the audience may be counted")
    run_id = store.next_run_id()
    params = {"audience": a.name, "since": start, "until": end, "confidence": confidence}
    try:
        with store.atomic():
            store.execute("INSERT INTO campaign_readouts VALUES (?, ?, ?, ?, ?, ?)",
                          [run_id, a.audience_id, start, end, json.dumps(result, default=str, ensure_ascii=False),
                           utc_now()])
            store.record_run(run_id, STEP, "ok", started_at=started, as_of=end, params=params,
                             metrics={"lift": result["lift"]["absolute"], "p_value": result["lift"]["p_value"]})
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, STEP, "failed", started_at=started, as_of=end, params=params,
                         message=str(exc) or type(exc).__name__)
        raise
    result["run_id"] = run_id
    return result


def latest_readouts(store: Store, limit: int = 10) -> list[dict[str, Any]]:
    """The newest readouts, each as stored."""
    if not store.table_exists("campaign_readouts"):
        return []
    rows = store.query_rows("SELECT run_id, result FROM campaign_readouts ORDER BY run_id DESC LIMIT ?", [limit])
    return [{**json.loads(r), "run_id": int(i)} for i, r in rows]


def campaign_plan(baseline: float, lift: float, *, power: float = 0.8, alpha: float = 0.05,
                  relative: bool = False, holdout: float = 0.5) -> dict[str, Any]:
    """Users needed per group (``holdout`` = control share of the audience) to detect ``lift``."""
    from segmark.core.audience.power import sample_size

    try:
        return sample_size(baseline, lift, power=power, alpha=alpha, relative=relative, control_share=holdout)
    except ValueError as exc:
        raise InputError(str(exc)) from None


# -- uplift ----------------------------------------------------------------------------------------


def _feature_matrix(store: Store, feature_run_id: int, user_ids: pd.Series) -> tuple[np.ndarray, list[str]]:
    run = get_feature_run(store, feature_run_id)
    numeric = [c.name for c in run.columns if c.kind != "text"]
    df = store.query_df(f"SELECT user_id, {', '.join(ident(c) for c in numeric)} FROM {ident(run.table_name)} "
                        "WHERE user_id IN (SELECT unnest(?))", [list(user_ids)]).set_index("user_id")
    df = df.reindex(user_ids.to_numpy())
    return df.to_numpy(dtype=float), numeric


def fit_uplift(ws: Workspace, audience: str, since: str | date | datetime, until: str | date | datetime | None = None,
               *, method: str = "x-learner", seed: int = 0) -> dict[str, Any]:
    """Fit an uplift model on a campaign's outcomes (features from the audience's feature build),
    judge it on the half of the members it did not see (Qini curve, AUUC against random targeting),
    then refit on everyone and store each member's estimated uplift."""
    from segmark.core.audience.uplift import METHODS, qini_curve, uplift_scores

    if method not in METHODS:
        raise InputError(f"unknown uplift method {method!r} (one of {', '.join(METHODS)})")
    started = utc_now()
    store = ws.store
    a = get_audience(store, audience)
    if a.control == 0:
        raise NotReadyError(f"audience {audience!r} has no control group: uplift needs a holdout")
    start, end = _window(ws, since, until)
    df = outcomes(store, a, start, end)
    X, names = _feature_matrix(store, int(a.ids["feature_run_id"]), df["user_id"])
    t = (df["arm"] == "treatment").to_numpy()
    y = df["converted"].to_numpy().astype(float)
    if t.sum() < 20 or (~t).sum() < 20:
        raise InputError(f"audience {audience!r} has {int(t.sum())} treated and {int((~t).sum())} control users: "
                         "uplift needs at least 20 of each")
    test = (hash_order(df["user_id"], seed + 1) % 2).astype(bool)
    model = METHODS[method]().fit(X[~test], t[~test], y[~test])
    held = model.predict(X[test])
    metrics = uplift_scores(y[test], t[test], held)
    x, q = qini_curve(y[test], t[test], held)
    step = max(1, len(x) // 100)
    curve = {"share": [*(x[::step] / x[-1]).tolist(), 1.0], "qini": [*q[::step].tolist(), float(q[-1])]}
    final = METHODS[method]().fit(X, t, y)
    scores = final.predict(X)
    run_id = store.next_run_id()
    params = {"audience": a.name, "since": start, "until": end, "method": method, "seed": seed}
    try:
        with store.atomic():
            store.execute("INSERT INTO uplift_models VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          [run_id, a.audience_id, None, method, json.dumps(names, ensure_ascii=False),
                           json.dumps(metrics), json.dumps(curve), utc_now()])
            store.insert("uplift_scores", pd.DataFrame({"run_id": run_id, "user_id": df["user_id"],
                                                        "uplift": scores}))
            store.record_run(run_id, UPLIFT_STEP, "ok", started_at=started, as_of=end, params=params,
                             metrics=metrics)
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, UPLIFT_STEP, "failed", started_at=started, as_of=end, params=params,
                         message=str(exc) or type(exc).__name__)
        raise
    return {"run_id": run_id, "audience": a.name, "method": method, "since": start, "until": end,
            "users": len(df), "test_users": int(test.sum()), **metrics, "curve": curve}


def latest_uplift(store: Store) -> dict[str, Any] | None:
    if not store.table_exists("uplift_models"):
        return None
    rows = store.query_rows("SELECT u.run_id, a.name, u.method, u.metrics, u.curve FROM uplift_models u "
                            "JOIN audiences a ON a.audience_id = u.audience_id ORDER BY u.run_id DESC LIMIT 1")
    if not rows:
        return None
    run_id, name, method, metrics, curve = rows[0]
    return {"run_id": int(run_id), "audience": name, "method": method, **json.loads(metrics),
            "curve": json.loads(curve)}
