"""The sales forecast: weekly revenue, orders and units for the next weeks, in total, per segment
(the latest segmentation) or per category (the top ones by revenue, the rest as "other"), each with a
backtest against seasonal-naive on the last weeks held out (``core.predict.forecast``).

Weeks are Monday-to-Sunday weeks of the shop's calendar (``time.timezone``); only complete weeks
before ``as_of`` count. Revenue is purchase value (refunds are not subtracted: a forecast of what will
be sold), orders distinct orders, units purchased quantity.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from segmark.core.predict.forecast import backtest, level_seasonal, seasonal_naive
from segmark.errors import ConfigError, NotReadyError
from segmark.pipeline.clv import local_day_sql
from segmark.pipeline.features import default_as_of, parse_as_of
from segmark.store.base import utc_now
from segmark.workspace import Workspace

BY = ("total", "segment", "category")
MEASURES = ("revenue", "orders", "units")
TOP_CATEGORIES = 10
_EPOCH = date(1970, 1, 1)


def _weekly(ws: Workspace, cutoff: datetime, by: str) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """Revenue, orders and units per group and local week (Monday's day number) before ``cutoff``."""
    store = ws.store
    day = local_day_sql(store, ws.settings.time.timezone, cutoff, "e.ts")
    week = f"({day} - ({day} + 3) % 7)"  # 1970-01-01 was a Thursday: Monday is day - (day + 3) mod 7
    names: dict[str, tuple[str, str]] = {}
    if by == "segment":
        if not store.table_exists("segmentations") or not store.scalar("SELECT count(*) FROM segmentations"):
            raise NotReadyError("no segmentation yet: run `segmark segment rfm` or `segmark segment cluster`, "
                                "or forecast by category (by='category', or --by category)")
        seg = int(store.scalar("SELECT max(segmentation_id) FROM segmentations"))
        names = {str(k): (str(n), str(z)) for k, n, z in store.query_rows(
            "SELECT key, name, name_zh FROM segments WHERE segmentation_id = ?", [seg])}
        group = "coalesce(s.key, 'unassigned')"
        join = ("LEFT JOIN (SELECT m.user_id, g.key FROM segment_members m JOIN segments g "
                "ON g.segmentation_id = m.segmentation_id AND g.segment_id = m.segment_id "
                f"WHERE m.segmentation_id = {seg}) s ON s.user_id = e.user_id")
    elif by == "category":
        group, join = "coalesce(e.category, '(none)')", ""
    else:
        group, join = "'all'", ""
    sql = (f"SELECT {group} AS group_key, {week} AS week, sum(e.amount) AS revenue, "
           "count(DISTINCT coalesce(e.order_id, concat(coalesce(e.user_id, ''), '|', CAST(e.ts AS VARCHAR)))) "
           "AS orders, sum(coalesce(e.quantity, 1)) AS units "
           f"FROM events e {join} WHERE e.event_type = 'purchase' AND e.ts < ? GROUP BY {group}, {week}")
    df = store.query_df(sql, [cutoff])
    if by == "category" and len(df):
        totals = df.groupby("group_key")["revenue"].sum().sort_values(ascending=False)
        top = set(totals.index[:TOP_CATEGORIES])
        df["group_key"] = df["group_key"].where(df["group_key"].isin(top), "other")
        df = df.groupby(["group_key", "week"], as_index=False)[list(MEASURES)].sum()
    return df, names


def forecast_revenue(ws: Workspace, *, weeks: int = 13, by: str = "total",
                     as_of: str | date | datetime | None = None) -> dict[str, Any]:
    """Forecast each group's next ``weeks`` weeks, backtest on the last ``weeks`` held out, and store both."""
    if by not in BY:
        raise ConfigError(f"by must be one of {', '.join(BY)}, not {by!r}")
    if weeks < 1 or weeks > 104:
        raise ConfigError("weeks must be between 1 and 104")
    store = ws.store
    tz = ws.settings.time.timezone
    started = utc_now()
    cutoff = parse_as_of(as_of, tz) if as_of is not None else default_as_of(store, tz)
    df, names = _weekly(ws, cutoff, by)
    if df.empty:
        raise NotReadyError("no purchases before the cut: nothing to forecast")
    end_day = int(store.scalar(f"SELECT {local_day_sql(store, tz, cutoff)} FROM (SELECT CAST(? AS TIMESTAMP) AS ts) "
                               "AS cut", [cutoff]))
    last_week = end_day - (end_day + 3) % 7 - 7  # the last complete week starts a week before as_of's week
    first_week = int(df["week"].min())
    grid = np.arange(first_week, last_week + 1, 7)
    if len(grid) < 9:
        raise NotReadyError(f"{len(grid)} complete weeks of purchases: a forecast needs at least 9")
    future = last_week + 7 * np.arange(1, weeks + 1)
    holdout = min(weeks, len(grid) - 8)
    groups = [*sorted(set(df["group_key"])), "all"] if by != "total" else ["all"]
    rows, results = [], []
    for g in groups:
        part = df if g == "all" else df[df["group_key"] == g]
        wk = part.groupby("week")[list(MEASURES)].sum().reindex(grid, fill_value=0.0)
        result: dict[str, Any] = {"group": g, "name": names.get(g, (g, g))[0], "name_zh": names.get(g, (g, g))[1]}
        for m in MEASURES:
            series = wk[m].to_numpy(dtype=float)
            fc, naive = level_seasonal(series, weeks), seasonal_naive(series, weeks)
            bt = backtest(series, holdout)
            result[m] = {"forecast_total": float(fc.sum()), "last_weeks_total": float(series[-weeks:].sum()),
                         "backtest": None if bt is None else {"model": bt["model"], "seasonal_naive": bt["baseline"]}}
            for w, v in zip(grid[-52:], series[-52:], strict=True):
                rows.append((g, w, "actual", m, v))
            for w, v, n in zip(future, fc, naive, strict=True):
                rows.append((g, w, "forecast", m, v))
                rows.append((g, w, "seasonal_naive", m, n))
            if bt is not None:
                for w, v, n in zip(grid[-holdout:], bt["forecast"], bt["seasonal_naive"], strict=True):
                    rows.append((g, w, "backtest", m, v))
                    rows.append((g, w, "backtest_naive", m, n))
        results.append(result)
    long = pd.DataFrame(rows, columns=["group_key", "week", "series", "measure", "value"])
    wide = long.pivot_table(index=["group_key", "week", "series"], columns="measure", values="value",
                            aggfunc="first").reset_index()
    run_id = store.next_run_id()
    out = pd.DataFrame({
        "run_id": run_id, "grouping": by, "group_key": wide["group_key"],
        "group_name": [names.get(g, (g, g))[0] for g in wide["group_key"]],
        "group_name_zh": [names.get(g, (g, g))[1] for g in wide["group_key"]],
        "week_start": [_EPOCH + timedelta(days=int(w)) for w in wide["week"]], "series": wide["series"],
        "revenue": wide.get("revenue"), "orders": wide.get("orders"), "units": wide.get("units")})
    total = next(r for r in results if r["group"] == "all")
    metrics = {"weeks": weeks, "by": by, "groups": len(groups), "history_weeks": len(grid), "holdout_weeks": holdout,
               "backtest": total["revenue"]["backtest"]}
    params = {"weeks": weeks, "by": by}
    try:
        with store.atomic():
            store.insert("forecasts", out)
            store.record_run(run_id, "forecast revenue", "ok", started_at=started, as_of=cutoff, params=params,
                             metrics=metrics)
    except (Exception, KeyboardInterrupt) as exc:
        store.record_run(run_id, "forecast revenue", "failed", started_at=started, as_of=cutoff, params=params,
                         message=str(exc) or type(exc).__name__)
        raise
    return {"run_id": run_id, "as_of": cutoff, "by": by, "weeks": weeks,
            "start": (_EPOCH + timedelta(days=int(future[0]))).isoformat(), "history_weeks": len(grid),
            "holdout_weeks": holdout, "groups": results}


def latest_forecast(ws: Workspace) -> pd.DataFrame:
    """The rows of the latest forecast run (empty without one)."""
    store = ws.store
    if not store.table_exists("forecasts"):
        return pd.DataFrame()
    return store.query_df("SELECT * FROM forecasts WHERE run_id = (SELECT max(run_id) FROM forecasts) "
                          "ORDER BY group_key, week_start, series")
