"""The recommendations step: read interactions from the store, evaluate, build, and serve.

- ``build_recommendations`` fits the chosen method (``auto``: the best candidate on the last holdout
  window before ``as_of``) on every event before ``as_of``, keeps each user's top items in
  ``recommendations`` (the latest build only), the segments' popular items for cold users in
  ``recommendation_fallbacks``, the repeat rates the repurchase policy was measured from, the
  validation figures and the signed model -- in one transaction with its run record.
- ``evaluate_recommendations`` holds out the last N days (or each buyer's last order), measures
  every method and ``auto`` (chosen on the window before) overall and per segment, and stores the
  figures with the latest build.
- ``top_items`` (the contract other steps read), ``recommend_user``, ``similar_items`` and
  ``export_recommendations`` read what a build stored.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmark.core.recommend import (
    CF_METHODS,
    METHODS,
    Interactions,
    ModelParams,
    build_model,
    choose,
    default_holdout_days,
    evaluate_split,
    holdout_days_split,
    interaction_matrix,
    last_order_split,
    repurchase_policy,
)
from segmark.core.recommend.blend import BlendedRecommender
from segmark.core.recommend.protocol import Evaluation, known_users
from segmark.core.recommend.split import data_span_days, with_age
from segmark.errors import ConfigError, InputError, NotFoundError, NotReadyError
from segmark.features.compose import local_epoch_sql
from segmark.localtime import local_day
from segmark.pipeline.features import default_as_of, parse_as_of
from segmark.signing import PICKLE, load_signed, sign_pickle
from segmark.store.base import Capability, Store, require, utc_now
from segmark.workspace import Workspace

STEP_BUILD = "recommend build"
STEP_EVALUATE = "recommend evaluate"
DOMAIN = "recommend"
"""The signing domain of recommendation models (segment models sign under the empty one)."""

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total): ``fit <method>`` and ``score`` stages."""

_ROWS_SQL = (
    "SELECT user_id, item_id, event_type, {day} AS day, count(*) AS n FROM events "
    "WHERE user_id IS NOT NULL AND item_id IS NOT NULL AND event_type IN ('view', 'fav', 'cart', 'purchase', "
    "'refund', 'search', 'remove_cart') AND ts < ? "
    "GROUP BY user_id, item_id, event_type, {day}"
)
_DAY_SECONDS = 86400


@dataclass(frozen=True)
class Build:
    """One stored build."""

    run_id: int
    method: str
    requested: str
    repurchase: str
    as_of: datetime
    segmentation_id: int | None
    n_users: int
    n_items: int
    list_length: int
    params: dict[str, Any]
    policy: dict[str, Any]
    selection: dict[str, Any] | None
    reason: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# -- reading inputs ---------------------------------------------------------------------------------


def _as_of(ws: Workspace, as_of: str | datetime | None) -> datetime:
    tz = ws.settings.time.timezone
    return default_as_of(ws.store, tz) if as_of is None else parse_as_of(as_of, tz)


def read_rows(store: Store, before: datetime, timezone: str = "UTC") -> pd.DataFrame:
    """Events of identified users on items before ``before``, counted per user, item, type and day.

    Days are the shop's calendar days (``timezone``), not UTC's: "the last N days" of a shop in
    Shanghai start at its midnight, and an order at 23:30 local time belongs to that day."""
    first, last = store.query_rows("SELECT min(ts), max(ts) FROM events")[0]
    if first is None:
        raise NotReadyError("no events with a user and an item before the cut-off: ingest events with item_id "
                            "(`segmark ingest events FILE`) first")
    local = local_epoch_sql(timezone, first, min(before, last))
    day = f"CAST(floor({local} / {_DAY_SECONDS}) AS BIGINT)"
    rows = store.query_df(_ROWS_SQL.format(day=day), [before])
    if rows.empty:
        raise NotReadyError("no events with a user and an item before the cut-off: ingest events with item_id "
                            "(`segmark ingest events FILE`) first")
    rows["user_id"] = rows["user_id"].astype(str)
    rows["item_id"] = rows["item_id"].astype(str)
    rows["day"] = pd.to_datetime(rows["day"].astype(np.int64), unit="D")
    return rows


def item_categories(store: Store) -> pd.Series:
    """Each item's category: the items table's where it has one, else the one its events name."""
    from_events = store.query_df("SELECT item_id, min(category) AS category FROM events WHERE item_id IS NOT NULL "
                                 "AND category IS NOT NULL GROUP BY item_id")
    out = pd.Series(from_events["category"].to_numpy(), index=from_events["item_id"].astype(str), dtype=object)
    if store.table_exists("items"):
        items = store.query_df("SELECT item_id, category FROM items WHERE category IS NOT NULL")
        out = pd.Series(items["category"].to_numpy(), index=items["item_id"].astype(str), dtype=object).combine_first(
            out)
    return out


def latest_segments(store: Store) -> tuple[int | None, pd.Series | None]:
    """The latest segmentation (a clustering if any, else RFM) and each member's segment key."""
    if not store.table_exists("segmentations"):
        return None, None
    for kind in ("cluster", "rfm"):
        seg_id = store.scalar("SELECT max(segmentation_id) FROM segmentations WHERE kind = ?", [kind])
        if seg_id is not None:
            df = store.query_df("SELECT m.user_id, s.key FROM segment_members m JOIN segments s ON "
                                "s.segmentation_id = m.segmentation_id AND s.segment_id = m.segment_id "
                                "WHERE m.segmentation_id = ?", [int(seg_id)])
            return int(seg_id), pd.Series(df["key"].to_numpy(), index=df["user_id"].astype(str), dtype=object)
    return None, None


def _params(ws: Workspace) -> ModelParams:
    r = ws.settings.recommend
    return ModelParams(item_neighbours=r.item_neighbours, user_neighbours=r.user_neighbours, factors=r.factors,
                       als_regularization=r.als_regularization, als_iterations=r.als_iterations,
                       bpr_iterations=r.bpr_iterations, random_state=r.random_state)


def _matrix(ws: Workspace, rows: pd.DataFrame, users: pd.Index | None, categories: pd.Series,
            segments: pd.Series | None) -> Interactions:
    r = ws.settings.recommend
    m = interaction_matrix(rows, weights=r.weights, half_life_days=r.half_life_days,
                           repeat_half_life_days=r.repeat_half_life_days, users=users, item_category=categories)
    return m.with_segments(segments)


def _policy(ws: Workspace, train: Interactions, mode: str):
    return repurchase_policy(mode, train.purchase_days, train.item_category,
                             min_rate=ws.settings.recommend.min_repeat_rate)


def _split_matrix(ws: Workspace, train_rows: pd.DataFrame, test: pd.DataFrame, categories: pd.Series,
                  segments: pd.Series | None) -> Interactions:
    users = pd.Index(sorted(set(train_rows["user_id"]) | set(test["user_id"])))
    return _matrix(ws, train_rows, users, categories, segments)


# -- evaluation -------------------------------------------------------------------------------------


@dataclass
class Window:
    """One split: its label, training rows and held-out purchases."""

    label: str
    train: pd.DataFrame
    test: pd.DataFrame
    cutoff: datetime | None


def windows(rows: pd.DataFrame, holdout: int | str) -> tuple[Window, Window]:
    """The validation and test windows: the last ``holdout`` days and the same length before them, or
    each buyer's last order and the one before."""
    if holdout == "last-order":
        train, test = last_order_split(rows)
        vtrain, vtest = last_order_split(train.drop(columns="age_days"))
        return (Window("last order (validation: the order before)", vtrain, vtest, None),
                Window("last order", train, test, None))
    days = int(holdout)
    end = rows["day"].max() + pd.Timedelta(days=1)
    cut = end - pd.Timedelta(days=days)
    vcut = cut - pd.Timedelta(days=days)
    vtrain, vtest = holdout_days_split(rows[rows["day"] < cut], vcut)
    train, test = holdout_days_split(rows, cut)
    return (Window(f"{days} days before {cut:%Y-%m-%d}", vtrain, vtest, vcut.to_pydatetime()),
            Window(f"last {days} days from {cut:%Y-%m-%d}", train, test, cut.to_pydatetime()))


def _resolve_holdout(ws: Workspace, rows: pd.DataFrame, holdout_days: int | None, holdout: str | None) -> int | str:
    if holdout is not None and holdout not in ("last-order",):
        raise ConfigError(f"holdout must be 'last-order', not {holdout!r} "
                          "(or give holdout_days=N, or --holdout-days N)")
    if holdout is not None and holdout_days is not None:
        raise ConfigError("give holdout_days or holdout='last-order' (--holdout-days or --holdout last-order), "
                          "not both")
    if holdout == "last-order":
        return "last-order"
    days = holdout_days or ws.settings.recommend.holdout_days
    if days is None:
        days = default_holdout_days(rows["day"])
    if days < 1:
        raise ConfigError("holdout_days must be at least 1")
    span = data_span_days(rows["day"])
    if 2 * days >= span:
        raise InputError(f"the events span {span} days: too few to hold out {days} days twice (for the test and "
                         "for auto's validation); use a smaller holdout_days or holdout='last-order' "
                         "(--holdout-days N or --holdout last-order)")
    return days


def _evaluate_window(ws: Workspace, window: Window, categories: pd.Series, segments: pd.Series | None,
                     ks: Sequence[int], methods: Sequence[str], progress: Progress | None) -> Evaluation:
    if window.test.empty:
        raise InputError(f"no purchases in the held-out window ({window.label}): nothing to measure against")
    train = _split_matrix(ws, window.train, window.test, categories, segments)
    policy = _policy(ws, train, ws.settings.recommend.repurchase)

    def on_fit(name: str) -> None:
        if progress is not None:
            progress(f"fit {name} ({window.label})", 0, 1)

    return evaluate_split(train, window.test, policy.allowed, ks=ks, methods=methods, params=_params(ws),
                          on_fit=on_fit)


def evaluate_recommendations(ws: Workspace, *, holdout_days: int | None = None, holdout: str | None = None,
                             ks: Sequence[int] = (10, 20), progress: Progress | None = None) -> dict[str, Any]:
    """Every method's figures on the held-out window, overall and per segment, with ``auto`` chosen
    on the window before; stored in ``recommend_evaluations`` with the latest build (if any)."""
    store = ws.store
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ConfigError("ks takes positive numbers, e.g. (10, 20)")
    started = utc_now()
    rows = read_rows(store, datetime(9999, 1, 1), ws.settings.time.timezone)
    spec = _resolve_holdout(ws, rows, holdout_days, holdout)
    categories = item_categories(store)
    seg_id, segments = latest_segments(store)
    methods = ws.settings.recommend.methods
    validation, test = windows(rows, spec)
    val = _evaluate_window(ws, validation, categories, segments, ks, methods, progress)
    picked = choose(val, f"recall@{max(ks)}")
    result = _evaluate_window(ws, test, categories, segments, ks, methods, progress)
    methods_out = dict(result.methods)
    by_segment: dict[str, dict[str, dict[str, float]]] = {}
    for method, per in result.by_segment.items():
        for seg, figures in per.items():
            by_segment.setdefault(seg, {})[method] = figures
    if picked in result.methods:
        methods_out["auto"] = result.methods[picked]
        for per in by_segment.values():
            if picked in per:
                per["auto"] = per[picked]
    build_id = store.scalar("SELECT max(run_id) FROM recommend_builds")
    out = {
        "holdout": test.label, "validation": validation.label, "k": ks,
        "users": result.users, "cold_users": result.cold_users, "segmentation_id": seg_id,
        "auto": {"picked": picked, "criterion": f"recall@{max(ks)}",
                 "validation": {name: figures.get(f"recall@{max(ks)}") for name, figures in val.methods.items()}},
        "methods": methods_out, "by_segment": by_segment,
        "build_run_id": None if build_id is None else int(build_id),
    }
    run_id = store.next_run_id()
    params = {"holdout": spec, "k": ks, "methods": list(methods)}
    try:
        with store.atomic():
            _store_figures(store, run_id, out["build_run_id"], "test", test.label, methods_out, by_segment)
            store.record_run(run_id, STEP_EVALUATE, "ok", started_at=started, params=params,
                             metrics={"picked": picked, "users": result.users})
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, STEP_EVALUATE, "failed", started_at=started, params=params,
                         message=str(exc) or type(exc).__name__)
        raise
    out["run_id"] = run_id
    return out


def _store_figures(store: Store, run_id: int, build_run_id: int | None, kind: str, holdout: str,
                   methods: dict[str, dict[str, float]], by_segment: dict[str, dict[str, dict[str, float]]]) -> None:
    records = []
    for method, figures in methods.items():
        records += [(method, None, m, v) for m, v in figures.items()]
    for seg, per in by_segment.items():
        for method, figures in per.items():
            records += [(method, seg, m, v) for m, v in figures.items()]
    frame = pd.DataFrame(records, columns=["method", "segment_key", "metric", "value"])
    frame.insert(0, "holdout", holdout)
    frame.insert(0, "kind", kind)
    frame.insert(0, "build_run_id", build_run_id)
    frame.insert(0, "run_id", run_id)
    frame["value"] = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
                      for v in frame["value"]]
    store.insert("recommend_evaluations", frame)


# -- building ---------------------------------------------------------------------------------------


def build_recommendations(ws: Workspace, *, method: str | None = None, repurchase: str | None = None,
                          as_of: str | datetime | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Fit the method (``auto``: chosen on the last holdout window) on every event before ``as_of``,
    and publish every user's top items, the cold-start lists and the signed model."""
    store = ws.store
    settings = ws.settings.recommend
    method = method or settings.method
    repurchase = repurchase or settings.repurchase
    if method != "auto" and method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; choose auto or one of {', '.join(METHODS)}")
    if repurchase not in ("auto", "allow", "exclude"):
        raise ConfigError(f"repurchase must be auto, allow or exclude, not {repurchase!r}")
    if method == "repeat" and repurchase == "exclude":
        raise ConfigError("the repeat method recommends bought items: it cannot run with repurchase='exclude'")
    require(store, Capability.BLOBS, "store recommendation models")
    started = utc_now()
    cutoff = _as_of(ws, as_of)
    rows = read_rows(store, cutoff, ws.settings.time.timezone)
    categories = item_categories(store)
    seg_id, segments = latest_segments(store)
    train_rows = with_age(rows, rows["day"].max() + pd.Timedelta(days=1))
    train = _matrix(ws, train_rows, None, categories, segments)
    policy = _policy(ws, train, repurchase)
    selection: dict[str, Any] | None = None
    validation: Evaluation | None = None
    holdout_label = ""
    if method == "auto":
        spec = _resolve_holdout(ws, rows, None, None)
        window = windows(rows, spec)[1]  # the last window before as_of validates the choice
        holdout_label = window.label
        validation = _evaluate_window(ws, window, categories, segments, (10, 20), settings.methods, progress)
        chosen = choose(validation)
        selection = {"window": window.label, "criterion": "recall@20", "picked": chosen,
                     "candidates": {n: {k: v for k, v in f.items() if k in ("recall@20", "ndcg@20", "precision@10")}
                                    for n, f in validation.methods.items()}}
        best_cf = max((n for n in validation.methods if n in CF_METHODS),
                      key=lambda n: validation.methods[n]["recall@20"], default=None)
        reason = (f"auto: {chosen} had the best recall@20 ({validation.methods[chosen]['recall@20']:.3f}) on the "
                  f"held-out {window.label}, against popularity {validation.methods['popularity']['recall@20']:.3f} "
                  f"and the repeat baseline {validation.methods['repeat']['recall@20']:.3f}"
                  + (f" (best plain CF: {best_cf} {validation.methods[best_cf]['recall@20']:.3f})" if best_cf else ""))
    else:
        chosen = method
        if method in CF_METHODS and policy.any_allowed:
            chosen = f"{method}+repeat(1)"
        reason = f"{method} as asked" + (", blended with the user's own buying where re-purchase is allowed"
                                          if chosen != method else "")
    model = build_model(chosen, policy.allowed, _params(ws))
    if progress is not None:
        progress(f"fit {chosen}", 0, 1)
    model.fit(train)
    k = settings.list_length
    userid = known_users(train)

    def on_batch(done: int, total: int) -> None:
        if progress is not None:
            progress("score", done, total)

    ids, scores = model.recommend(userid, train, k, progress=on_batch)
    recs = _recommendation_frame(train, ids, scores)
    fallbacks = _fallback_frame(model, train, k)
    params = {"weights": settings.weights, "half_life_days": settings.half_life_days,
              "repeat_half_life_days": settings.repeat_half_life_days, "min_repeat_rate": settings.min_repeat_rate,
              "cold_shrink": settings.cold_shrink, "methods": settings.methods,
              "model": {k2: v for k2, v in vars(_params(ws)).items()}}
    run_id = store.next_run_id()
    blob, sig = sign_pickle(ws, run_id, {"model": model, "ids": train.ids, "as_of": cutoff}, domain=DOMAIN)
    created = utc_now()
    policy_summary = policy.summary()
    rates = policy.rates.assign(run_id=run_id)[["run_id", "category", "pairs", "repeated", "rate", "allowed",
                                                "source"]]
    try:
        with store.atomic():
            store.execute("DELETE FROM recommendations")  # the table holds the latest build only
            store.insert("recommend_builds", pd.DataFrame([{
                "run_id": run_id, "method": chosen, "requested": method, "repurchase": repurchase, "as_of": cutoff,
                "segmentation_id": seg_id, "n_users": train.shape[0], "n_items": train.shape[1], "list_length": k,
                "params": _json(params), "policy": _json(policy_summary),
                "selection": None if selection is None else _json(selection), "reason": reason,
                "created_at": created}]))
            store.insert("recommend_models", pd.DataFrame([{"run_id": run_id, "format": PICKLE,
                                                            "versions": _json(_versions()), "model": blob,
                                                            "signature": sig}]))
            store.insert("recommendations", recs.assign(run_id=run_id))
            store.insert("recommendation_fallbacks", fallbacks.assign(run_id=run_id))
            store.insert("recommend_repeat_rates", rates)
            if validation is not None:
                by_segment: dict[str, dict[str, dict[str, float]]] = {}
                for m, per in validation.by_segment.items():
                    for seg, figures in per.items():
                        by_segment.setdefault(seg, {})[m] = figures
                _store_figures(store, run_id, run_id, "validation", holdout_label, validation.methods, by_segment)
            store.record_run(run_id, STEP_BUILD, "ok", started_at=started, as_of=cutoff,
                             params={"method": method, "repurchase": repurchase, **params},
                             metrics={"method": chosen, "users": train.shape[0], "items": train.shape[1],
                                      "rows": len(recs)})
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, STEP_BUILD, "failed", started_at=started, as_of=cutoff,
                         params={"method": method, "repurchase": repurchase}, message=str(exc) or type(exc).__name__)
        raise
    build = get_build(store, run_id)
    return {**build.to_dict(), "users_with_items": int(recs["user_id"].nunique()), "rows": len(recs),
            "validation": None if validation is None else validation.methods}


def _recommendation_frame(train: Interactions, ids: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    n = ids.shape[0]
    keep = ids >= 0
    users = np.repeat(np.arange(n), keep.sum(axis=1))
    ranks = (np.cumsum(keep, axis=1))[keep]
    return pd.DataFrame({"user_id": train.ids.users.to_numpy()[users], "item_id": train.ids.item_ids(ids[keep]),
                         "rank": ranks.astype(np.int32), "score": scores[keep].astype(np.float64)})


def _fallback_frame(model: BlendedRecommender, train: Interactions, k: int) -> pd.DataFrame:
    pop = model.popularity_
    parts = []
    for key in pop.lists_:
        items, values = pop.items_for(key)
        items, values = items[:k], values[:k]
        parts.append(pd.DataFrame({"segment_key": key, "item_id": train.ids.item_ids(items),
                                   "rank": np.arange(1, len(items) + 1, dtype=np.int32),
                                   "score": values.astype(np.float64)}))
    return pd.concat(parts, ignore_index=True)


def _json(value: Any) -> str:
    def default(v: Any) -> Any:
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, float) and math.isinf(v):
            return "inf"
        return str(v)

    return json.dumps(value, ensure_ascii=False, default=default)


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("segmark", "implicit", "numpy", "scipy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


# -- reading what a build stored ---------------------------------------------------------------------

_BUILD_COLUMNS = ("run_id, method, requested, repurchase, as_of, segmentation_id, n_users, n_items, list_length, "
                  "params, policy, selection, reason, created_at")


def get_build(store: Store, run_id: int | None = None) -> Build:
    """A build by run id, else the latest."""
    if not store.table_exists("recommend_builds"):
        raise NotReadyError("no recommendations yet: run `segmark recommend build`")
    if run_id is None:
        rows = store.query_rows(f"SELECT {_BUILD_COLUMNS} FROM recommend_builds ORDER BY run_id DESC LIMIT 1")
    else:
        rows = store.query_rows(f"SELECT {_BUILD_COLUMNS} FROM recommend_builds WHERE run_id = ?", [run_id])
    if not rows:
        raise NotReadyError("no recommendations yet: run `segmark recommend build`" if run_id is None
                            else f"no recommendation build {run_id}")
    r = rows[0]
    return Build(int(r[0]), r[1], r[2], r[3], r[4], None if r[5] is None else int(r[5]), int(r[6]), int(r[7]),
                 int(r[8]), json.loads(r[9]), json.loads(r[10]), json.loads(r[11]) if r[11] else None, r[12], r[13])


_CHUNK = 1000
"""User ids bound per lookup query."""


def top_items(store: Store, user_ids: Iterable[str] | None, k: int = 10) -> pd.DataFrame:
    """Each user's top ``k`` items of the latest build (columns ``user_id, item_id, rank, score``);
    users the build has no list for (new, anonymous, no history before its as_of) get their
    segment's popular items, or the shop's. ``user_ids=None``: every user with a list."""
    build = get_build(store)
    if k < 1:
        raise ConfigError("k must be at least 1")
    if k > build.list_length:
        raise ConfigError(f"the latest build keeps {build.list_length} items per user; set recommend.list_length "
                          f"to at least {k} and run `segmark recommend build` again")
    columns = ["user_id", "item_id", "rank", "score"]
    if user_ids is None:
        df = store.query_df("SELECT user_id, item_id, rank, score FROM recommendations WHERE run_id = ? AND rank <= ? "
                            "ORDER BY user_id, rank", [build.run_id, k])
        return df[columns]
    wanted = pd.Series(list(dict.fromkeys(str(u) for u in user_ids)), dtype=object)
    if wanted.empty:
        return pd.DataFrame(columns=columns)
    known_parts, seg_parts = [], []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted.iloc[start:start + _CHUNK].tolist()
        marks = ", ".join("?" * len(chunk))
        known_parts.append(store.query_df(
            f"SELECT user_id, item_id, rank, score FROM recommendations WHERE run_id = ? AND rank <= ? "
            f"AND user_id IN ({marks})", [build.run_id, k, *chunk]))
    known = pd.concat(known_parts, ignore_index=True)
    missing = wanted[~wanted.isin(known["user_id"])]
    if len(missing) and build.segmentation_id is not None:
        for start in range(0, len(missing), _CHUNK):
            chunk = missing.iloc[start:start + _CHUNK].tolist()
            marks = ", ".join("?" * len(chunk))
            seg_parts.append(store.query_df(
                "SELECT m.user_id, s.key FROM segment_members m JOIN segments s ON s.segmentation_id = "
                f"m.segmentation_id AND s.segment_id = m.segment_id WHERE m.segmentation_id = ? AND m.user_id IN "
                f"({marks})", [build.segmentation_id, *chunk]))
    seg = pd.concat(seg_parts, ignore_index=True) if seg_parts else pd.DataFrame(columns=["user_id", "key"])
    fallbacks = store.query_df("SELECT segment_key, item_id, rank, score FROM recommendation_fallbacks "
                               "WHERE run_id = ? AND rank <= ?", [build.run_id, k])
    parts = [known]
    if len(missing):
        segment_of = dict(zip(seg["user_id"].astype(str), seg["key"], strict=False))
        lists = {key: part.drop(columns="segment_key")
                 for key, part in fallbacks.groupby(fallbacks["segment_key"].fillna(""), sort=False)}
        shop = lists.get("", fallbacks.iloc[:0].drop(columns="segment_key"))
        users_by_list: dict[str, list[str]] = {}
        for user in missing:
            key = segment_of.get(user)
            users_by_list.setdefault(key if key in lists else "", []).append(user)
        for key, users in users_by_list.items():
            chosen = lists.get(key, shop)
            parts.append(pd.DataFrame({
                "user_id": np.repeat(np.asarray(users, dtype=object), len(chosen)),
                "item_id": np.tile(chosen["item_id"].to_numpy(dtype=object), len(users)),
                "rank": np.tile(chosen["rank"].to_numpy(), len(users)),
                "score": np.tile(chosen["score"].to_numpy(), len(users))}))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else known
    order = {u: i for i, u in enumerate(wanted)}
    out = out.assign(_o=out["user_id"].map(order)).sort_values(["_o", "rank"]).drop(columns="_o")
    out["rank"] = out["rank"].astype(np.int64)
    return out[columns].reset_index(drop=True)


def load_build_model(ws: Workspace, run_id: int) -> dict[str, Any]:
    """The stored model of a build, unpickled only when this workspace signed it."""
    rows = ws.store.query_rows("SELECT format, model, signature FROM recommend_models WHERE run_id = ?", [run_id])
    if not rows:
        raise NotReadyError(f"recommendation build {run_id} has no stored model")
    fmt, blob, sig = rows[0]
    return load_signed(ws, run_id, fmt, blob, sig, domain=DOMAIN,
                       what=f"the stored model of recommendation build {run_id}",
                       remedy="Run `segmark recommend build` here to make one.")


def recommend_user(ws: Workspace, user_id: str, k: int = 10) -> dict[str, Any]:
    """One user's top items from the latest build (cold users: their segment's popular items)."""
    build = get_build(ws.store)
    items = top_items(ws.store, [user_id], k)
    cold = not bool(ws.store.scalar("SELECT count(*) FROM recommendations WHERE run_id = ? AND user_id = ?",
                                    [build.run_id, str(user_id)]))
    categories = item_categories(ws.store)
    items["category"] = items["item_id"].map(categories)
    return {"user_id": str(user_id), "method": build.method if not cold else "popularity", "cold_start": cold,
            "build_run_id": build.run_id, "as_of": build.as_of,
            "items": items.drop(columns="user_id").astype(object).where(items.drop(columns="user_id").notna(), None)
            .to_dict(orient="records")}


def similar_items(ws: Workspace, item_id: str, k: int = 10) -> dict[str, Any]:
    """The items most like ``item_id`` by the latest build's model."""
    if k < 1:
        raise ConfigError("k must be at least 1")
    build = get_build(ws.store)
    stored = load_build_model(ws, build.run_id)
    ids = stored["ids"]
    index = int(ids.item_index([item_id])[0])
    if index < 0:
        raise NotFoundError(f"item {item_id!r} has no events before the build's as_of "
                            f"({local_day(build.as_of, ws.settings.time.timezone)})")
    model: BlendedRecommender = stored["model"]
    found, scores = model.similar_items(index, k)
    categories = item_categories(ws.store)
    items = [{"rank": r + 1, "item_id": str(ids.items[i]), "score": float(s),
              "category": categories.get(str(ids.items[i]))} for r, (i, s) in enumerate(zip(found, scores,
                                                                                            strict=True))]
    return {"item_id": str(item_id), "method": build.method, "build_run_id": build.run_id,
            "category": categories.get(str(item_id)), "items": items}


def audience_users(store: Store, name: str) -> list[str]:
    """The treatment members of a named audience (made by `segmark audience create`)."""
    if not (store.table_exists("audiences") and store.table_exists("audience_members")):
        raise NotReadyError(f"no audience {name!r}: this workspace has no audiences yet "
                            "(make one with `segmark audience create NAME --where EXPR`, or sm.create_audience)")
    # the held-out control arm is not sent anything, so it gets no lists either
    arm = " AND m.arm = 'treatment'" if "arm" in store.table_columns("audience_members") else ""
    rows = store.query_rows("SELECT m.user_id FROM audience_members m JOIN audiences a ON a.audience_id = "
                            f"m.audience_id WHERE a.name = ?{arm} ORDER BY m.user_id", [name])
    if not rows and not store.scalar("SELECT count(*) FROM audiences WHERE name = ?", [name]):
        raise NotFoundError(f"no audience named {name!r}: see `segmark audience list`")
    return [str(r[0]) for r in rows]


def export_recommendations(ws: Workspace, out: Path | str, *, k: int = 10, audience: str | None = None,
                           fmt: str | None = None) -> dict[str, Any]:
    """Write ``user_id, item_id, rank, score`` (rank 1 = first) to CSV, Parquet or JSON (by suffix)."""
    store = ws.store
    path = Path(out)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    fmt = {"pq": "parquet", "jsonl": "json"}.get(fmt, fmt)
    if fmt not in ("csv", "parquet", "json"):
        raise InputError(f"cannot tell the export format from {path.name!r}: use .csv, .parquet or .json")
    build = get_build(store)
    if k > build.list_length or k < 1:
        top_items(store, [], k)  # raises the message that says what to do
    path.parent.mkdir(parents=True, exist_ok=True)
    if audience is None:
        store.export("SELECT user_id, item_id, rank, score FROM recommendations WHERE run_id = ? AND rank <= ? "
                     "ORDER BY user_id, rank", path, fmt, [build.run_id, k])  # type: ignore[arg-type]
        rows = int(store.scalar("SELECT count(*) FROM recommendations WHERE run_id = ? AND rank <= ?",
                                [build.run_id, k]))
        users = int(store.scalar("SELECT count(DISTINCT user_id) FROM recommendations WHERE run_id = ?",
                                 [build.run_id]))
    else:
        frame = top_items(store, audience_users(store, audience), k)
        _write_frame(frame, path, fmt)
        rows, users = len(frame), int(frame["user_id"].nunique())
    return {"path": str(path), "format": fmt, "rows": rows, "users": users, "k": k, "audience": audience,
            "build_run_id": build.run_id, "method": build.method}


def _write_frame(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    """A small frame (one audience's lists) to a file, written next to it and then moved into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    if fmt == "csv":
        frame.to_csv(tmp, index=False, encoding="utf-8")
    elif fmt == "parquet":
        frame.to_parquet(tmp, index=False)
    else:
        tmp.write_text(frame.to_json(orient="records", force_ascii=False), encoding="utf-8")
    tmp.replace(path)


def evaluation_table(store: Store, run_id: int | None = None, kind: str = "test") -> pd.DataFrame:
    """Stored figures (long format) of an evaluation run, by default the latest of ``kind``."""
    if run_id is None:
        run_id = store.scalar("SELECT max(run_id) FROM recommend_evaluations WHERE kind = ?", [kind])
        if run_id is None:
            raise NotReadyError("no recommendation evaluation yet: run `segmark recommend evaluate`")
    return store.query_df("SELECT method, segment_key, metric, value, holdout, build_run_id FROM "
                          "recommend_evaluations WHERE run_id = ? AND kind = ?", [int(run_id), kind])


__all__ = [
    "Build",
    "audience_users",
    "build_recommendations",
    "evaluate_recommendations",
    "evaluation_table",
    "export_recommendations",
    "get_build",
    "load_build_model",
    "recommend_user",
    "similar_items",
    "top_items",
]
