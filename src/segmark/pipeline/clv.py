"""The lifetime-value step: fit BG/NBD or Pareto/NBD (purchases) and Gamma-Gamma (spend) on the
purchase history before ``as_of``, then predict every customer's purchases, survival, spend and
discounted value over a horizon.

Purchases are counted in whole days of the shop's calendar (``time.timezone``): ``--as-of 1997-10-01``
covers purchases through 1997-09-30, and each customer's T runs to that day. When the store holds
purchases after ``as_of`` the fit is checked against them (the holdout tracking comparison of Fader,
Hardie & Lee 2005): expected against actual repeat purchases in total, week by week and by the number
of repeat purchases in calibration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from segmark.core.predict.btyd import COUNT_MODELS, GammaGammaModel
from segmark.core.predict.clv_data import UNITS, discounted_value, repeat_summary
from segmark.core.predict.evaluation import deciles
from segmark.errors import ConfigError, InputError, NotReadyError
from segmark.features.compose import local_epoch_sql
from segmark.pipeline.features import default_as_of, parse_as_of
from segmark.signing import PICKLE, library_versions, load_signed, sign_pickle
from segmark.store.base import Capability, Store, require, utc_now
from segmark.workspace import Workspace

_DAY = 86400
DOMAIN = "clv_models"
"""The signing domain of lifetime-value models (``segmark.signing``)."""


@dataclass(frozen=True)
class PurchaseDays:
    """Each customer's purchase days before a cut, on the shop's calendar."""

    per_user: pd.DataFrame
    """Indexed by user_id: first_day, last_day, x (purchase days after the first), repeat_value."""
    end_day: int
    """The last day included (the day before as_of), as days since 1970."""
    has_spend: bool


def local_day_sql(store: Store, timezone: str, until: datetime, column: str = "ts") -> str:
    """Days since 1970 on the shop's calendar of ``column`` (plain arithmetic, any engine)."""
    start = store.scalar("SELECT min(ts) FROM events") or until
    return f"CAST(floor({local_epoch_sql(timezone, start, max(until, start), column)} / {_DAY}) AS BIGINT)"


def purchase_days(store: Store, as_of: datetime, timezone: str) -> PurchaseDays:
    """Customers' first and last purchase days, repeat purchase days and their value before ``as_of``."""
    day = local_day_sql(store, timezone, as_of)
    df = store.query_df(
        "WITH d AS (SELECT user_id, " + day + " AS day, sum(amount) AS v FROM events "
        "WHERE event_type = 'purchase' AND user_id IS NOT NULL AND ts < ? GROUP BY user_id, " + day + "), "
        "f AS (SELECT user_id, min(day) AS first_day FROM d GROUP BY user_id) "
        "SELECT d.user_id, f.first_day, max(d.day) AS last_day, count(*) - 1 AS x, "
        "sum(CASE WHEN d.day > f.first_day THEN d.v END) AS repeat_value, count(d.v) AS valued "
        "FROM d JOIN f ON f.user_id = d.user_id GROUP BY d.user_id, f.first_day ORDER BY d.user_id", [as_of])
    # the last day included: the day before as_of when as_of is a local midnight, else as_of's own day
    local = local_epoch_sql(timezone, store.scalar("SELECT min(ts) FROM events") or as_of, as_of)
    end_day = int(store.scalar(f"SELECT CAST(ceil({local} / {_DAY}) AS BIGINT) - 1 "
                               "FROM (SELECT CAST(? AS TIMESTAMP) AS ts) AS cut", [as_of]))
    has_spend = bool(len(df)) and bool((df["valued"] > 0).any())
    return PurchaseDays(df.set_index("user_id").drop(columns="valued"), end_day, has_spend)


@dataclass
class ClvFit:
    """One stored fit."""

    run_id: int
    model: str
    unit: str
    as_of: datetime
    params: dict[str, float]
    log_likelihood: float
    spend_params: dict[str, float] | None
    metrics: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "model": self.model, "unit": self.unit, "as_of": self.as_of,
                "params": self.params, "log_likelihood": self.log_likelihood, "spend_params": self.spend_params,
                **self.metrics}


def fit_counts(days: PurchaseDays, model: str = "bgnbd", unit: str = "weeks") -> tuple[Any, pd.DataFrame]:
    """A fitted purchase-count model and the customers' summary it was fitted on."""
    if model not in COUNT_MODELS:
        raise ConfigError(f"model must be one of {', '.join(COUNT_MODELS)}, not {model!r}")
    if unit not in UNITS:
        raise ConfigError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    summary = repeat_summary(days.per_user, days.end_day, unit)
    if len(summary) < 10 or summary["x"].sum() == 0:
        raise NotReadyError(f"too few repeat purchases before the cut to fit {model} ({len(summary)} customers, "
                            f"{int(summary['x'].sum())} repeat purchase days)")
    counts = COUNT_MODELS[model]().fit(summary["x"], summary["t_x"], summary["T"])
    return counts, summary


def fit_clv(ws: Workspace, *, model: str = "bgnbd", unit: str = "weeks",
            as_of: str | date | datetime | None = None) -> ClvFit:
    """Fit the purchase and spend models before ``as_of`` and store them (``clv fit``)."""
    store = ws.store
    require(store, Capability.BLOBS, "store fitted lifetime-value models")
    tz = ws.settings.time.timezone
    started = utc_now()
    cutoff = parse_as_of(as_of, tz) if as_of is not None else default_as_of(store, tz)
    days = purchase_days(store, cutoff, tz)
    counts, summary = fit_counts(days, model, unit)
    spend = None
    if days.has_spend:
        try:
            spend = GammaGammaModel().fit(summary["x"], summary["m"])
        except ValueError:
            spend = None
    metrics: dict[str, Any] = {"customers": len(summary), "repeat_customers": int((summary["x"] > 0).sum()),
                               "repeat_purchase_days": int(summary["x"].sum()), "converged": counts.converged_,
                               "calibration_end": _day_date(days.end_day).isoformat(),
                               "time_unit_days": UNITS[unit]}
    holdout = _holdout(store, counts, summary, days, cutoff, tz, unit)
    if holdout:
        metrics["holdout"] = holdout
    run_id = store.next_run_id()
    payload = {"counts": counts, "spend": spend, "model": model, "unit": unit, "as_of": cutoff}
    fmt, (blob, sig) = PICKLE, sign_pickle(ws, run_id, payload, domain=DOMAIN)
    params = {"model": model, "unit": unit}
    try:
        with store.atomic():
            store.insert("clv_models", pd.DataFrame([{
                "run_id": run_id, "model": model, "unit": unit, "as_of": cutoff, "params": _json(counts.params_),
                "log_likelihood": counts.log_likelihood_,
                "spend_params": None if spend is None else _json(spend.params_), "metrics": _json(metrics),
                "format": fmt, "versions": _json(library_versions("scipy")), "blob": blob,
                "signature": sig, "created_at": utc_now()}]))
            store.record_run(run_id, "clv fit", "ok", started_at=started, as_of=cutoff, params=params,
                             metrics={"log_likelihood": counts.log_likelihood_, **counts.params_})
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, "clv fit", "failed", started_at=started, as_of=cutoff, params=params,
                         message=str(exc) or type(exc).__name__)
        raise
    return ClvFit(run_id, model, unit, cutoff, counts.params_, counts.log_likelihood_,
                  None if spend is None else spend.params_, metrics)


def _day_date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day))


def _holdout(store: Store, counts: Any, summary: pd.DataFrame, days: PurchaseDays, cutoff: datetime, tz: str,
             unit: str) -> dict[str, Any] | None:
    """Expected against actual purchase days after the cut, for the calibration customers."""
    day = local_day_sql(store, tz, store.scalar("SELECT max(ts) FROM events") or cutoff)
    after = store.query_df(
        f"SELECT user_id, {day} AS day FROM events WHERE event_type = 'purchase' AND user_id IS NOT NULL "
        f"AND ts >= ? GROUP BY user_id, {day}", [cutoff])
    if after.empty:
        return None
    after = after[after["user_id"].isin(summary.index)]
    last = int(after["day"].max()) if len(after) else days.end_day
    n_days = last - days.end_day
    if n_days < 7:
        return None
    scale = UNITS[unit]
    weeks = int(np.ceil(n_days / 7))
    ends = np.minimum(np.arange(1, weeks + 1) * 7, n_days)
    expected = np.array([counts.expected_purchases(e / scale, summary["x"], summary["t_x"], summary["T"]).sum()
                         for e in ends])
    offset = after["day"].to_numpy() - days.end_day
    actual = np.array([(offset <= e).sum() for e in ends])
    per_user = after.groupby("user_id").size().reindex(summary.index, fill_value=0)
    e_user = counts.expected_purchases(n_days / scale, summary["x"], summary["t_x"], summary["T"])
    bucket = np.minimum(summary["x"].to_numpy(), 7).astype(int)
    by_x = [{"x": f"{b}+" if b == 7 else str(b), "customers": int((bucket == b).sum()),
             "actual": float(per_user.to_numpy()[bucket == b].mean()),
             "expected": float(np.asarray(e_user)[bucket == b].mean())} for b in range(8) if (bucket == b).any()]
    return {"days": int(n_days), "weeks": round(n_days / 7, 2), "actual": int(actual[-1]),
            "expected": float(expected[-1]), "error": float(expected[-1] / max(actual[-1], 1) - 1),
            "weekly": [{"week": i + 1, "actual_cumulative": int(a), "expected_cumulative": float(e)}
                       for i, (a, e) in enumerate(zip(actual, expected, strict=True))],
            "by_frequency": by_x}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _fit_row(store: Store, run_id: int | None = None) -> tuple[Any, ...]:
    if not store.table_exists("clv_models"):
        raise NotReadyError("no lifetime-value model yet: run `segmark clv fit`")
    where = "WHERE run_id = ?" if run_id is not None else "ORDER BY run_id DESC LIMIT 1"
    rows = store.query_rows("SELECT run_id, model, unit, as_of, params, log_likelihood, spend_params, metrics, "
                            f"format, blob, signature FROM clv_models {where}",
                            [run_id] if run_id is not None else None)
    if not rows:
        raise NotReadyError("no lifetime-value model yet: run `segmark clv fit`")
    return rows[0]


def get_clv_fit(store: Store, run_id: int | None = None) -> ClvFit:
    """The latest stored fit (or ``run_id``'s)."""
    r = _fit_row(store, run_id)
    return ClvFit(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], json.loads(r[6]) if r[6] else None,
                  json.loads(r[7]))


def load_clv(ws: Workspace, run_id: int | None = None) -> dict[str, Any]:
    """The stored models of a fit, verified before unpickling."""
    r = _fit_row(ws.store, run_id)
    return load_signed(ws, r[0], r[8], bytes(r[9]), r[10], domain=DOMAIN,
                       what=f"the lifetime-value model of run {r[0]}",
                       remedy="Fit a new one here with `segmark clv fit`.")


def customer_values(ws: Workspace, stored: dict[str, Any], *, horizon_days: int, discount: float,
                    as_of: datetime | None = None) -> pd.DataFrame:
    """Per customer: expected purchases in the horizon, p_alive, expected spend per purchase and CLV."""
    tz = ws.settings.time.timezone
    cutoff = as_of or stored["as_of"]
    days = purchase_days(ws.store, cutoff, tz)
    unit = stored["unit"]
    summary = repeat_summary(days.per_user, days.end_day, unit)
    counts, spend = stored["counts"], stored["spend"]
    x, t_x, T = summary["x"].to_numpy(), summary["t_x"].to_numpy(), summary["T"].to_numpy()
    scale = UNITS[unit]
    steps = np.unique(np.append(np.arange(30, horizon_days, 30), horizon_days)).astype(float)
    cumulative = np.column_stack([counts.expected_purchases(s / scale, x, t_x, T) for s in steps])
    out = pd.DataFrame({"expected_purchases": cumulative[:, -1], "p_alive": counts.p_alive(x, t_x, T)},
                       index=summary.index)
    if spend is not None:
        out["expected_spend"] = spend.expected_spend(x, summary["m"].to_numpy())
        out["clv"] = discounted_value(cumulative, steps, out["expected_spend"].to_numpy(), discount)
    else:
        out["expected_spend"] = np.nan
        out["clv"] = np.nan
    return out


def predict_clv(ws: Workspace, *, horizon_days: int = 365, discount: float = 0.1,
                run_id: int | None = None) -> dict[str, Any]:
    """Score every customer with the latest fit and store the scores (``clv predict``)."""
    if horizon_days <= 0:
        raise InputError("horizon_days must be a positive number of days")
    if discount < 0:
        raise InputError("discount must be 0 or more (a yearly rate, e.g. 0.1 for 10%)")
    store = ws.store
    started = utc_now()
    fit = get_clv_fit(store, run_id)
    stored = load_clv(ws, fit.run_id)
    values = customer_values(ws, stored, horizon_days=horizon_days, discount=discount)
    has_value = values["clv"].notna().any()
    rank = values["clv"] if has_value else values["expected_purchases"]
    values["clv_decile"] = deciles(rank.to_numpy()) if has_value else None
    pred_id = store.next_run_id()
    rows = values.reset_index().rename(columns={"index": "user_id"})
    rows.insert(0, "run_id", pred_id)
    rows["as_of"] = fit.as_of
    params = {"clv_run_id": fit.run_id, "model": fit.model, "horizon_days": horizon_days, "discount": discount}
    summary = {"customers": len(values), "expected_purchases": float(values["expected_purchases"].sum()),
               "clv": float(values["clv"].sum()) if has_value else None,
               "mean_p_alive": float(values["p_alive"].mean()) if len(values) else None}
    try:
        with store.atomic():
            store.insert("clv_scores", rows[["run_id", "user_id", "expected_purchases", "p_alive", "expected_spend",
                                             "clv", "clv_decile", "as_of"]])
            store.record_run(pred_id, "clv predict", "ok", started_at=started, as_of=fit.as_of, params=params,
                             metrics=summary)
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(pred_id, "clv predict", "failed", started_at=started, as_of=fit.as_of, params=params,
                         message=str(exc) or type(exc).__name__)
        raise
    top = values.sort_values("clv" if has_value else "expected_purchases", ascending=False).head(10)
    return {"run_id": pred_id, **params, "as_of": fit.as_of, **summary,
            "top": [{"user_id": str(u), **{k: _num(v) for k, v in r.items()}} for u, r in top.iterrows()]}


def _num(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    return None if isinstance(v, float) and np.isnan(v) else v
