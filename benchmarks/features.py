"""Feature build speed and memory: segmark beside the plain ways, over the same generated store.

    python -m benchmarks.features [--events 10000000] [--users 1000000] [--repeat 1]
                                  [--timezone Asia/Shanghai] [--dir DIR] [--check]

The data: a workspace whose ``events`` (``--events`` rows, 1% guest lines, 400 days, 200,000 items
in 300 Chinese-named categories, orders with and without ids, no session ids) and ``users``
(``--users`` rows with signup date, gender, birth date or age, city, level) are generated with
DuckDB directly. Every variant computes the same feature table as of the same date:

- ``segmark``: ``build_features`` — the catalog composed into one query, written to the store with
  its catalog and run record;
- ``pandas``: the same features written the idiomatic pandas way (load the tables, boolean masks,
  ``groupby``, ``merge``), kept in memory;
- ``duckdb (floor)``: one hand-written DuckDB query over the same tables, written to the store.

Each variant runs in its own process; the time is the work inside it (opening the store and the
imports excluded), the memory is that process's peak resident set (``os.wait4``). ``--check``
compares the three tables value by value (use it with a small size).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

WINDOWS = (7, 30, 90, 365)
TOP_CATEGORIES = 10
GAP_SECONDS = 1800
CATEGORY_WORDS = ["女装", "男装", "童装", "鞋靴", "箱包", "美妆", "个护", "数码", "家电", "家居",
                  "厨具", "食品", "生鲜", "母婴", "运动", "户外", "图书", "文具", "宠物", "珠宝"]
CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "重庆", "西安"]
LEVELS = ["普通", "银卡", "金卡", "钻石"]


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v + "'" for v in values) + "]"


def generate(root: Path, n_events: int, n_users: int, seed: float = 0.42) -> datetime:
    """A workspace at ``root`` with generated events and users; returns the build's as_of."""
    from segmark.workspace import init_workspace, open_workspace

    init_workspace(root)
    with open_workspace(root) as ws:
        con = ws.store.con
        if con.execute("SELECT count(*) FROM events").fetchone()[0]:  # type: ignore[index]
            return _day_after_last(con)  # generated before (--dir): reuse it
        con.execute(f"SELECT setseed({seed})")
        con.execute(f"""
            INSERT INTO events
            WITH r AS (
                SELECT i, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5
                FROM range({n_events}) AS t(i)
            ), e AS (
                SELECT i, r5,
                    CAST(floor(pow(r1, 1.6) * {n_users}) AS BIGINT) AS u,
                    CASE WHEN r2 < 0.62 THEN 'view' WHEN r2 < 0.70 THEN 'search' WHEN r2 < 0.82 THEN 'cart'
                         WHEN r2 < 0.84 THEN 'remove_cart' WHEN r2 < 0.89 THEN 'fav'
                         WHEN r2 < 0.99 THEN 'purchase' ELSE 'refund' END AS event_type,
                    TIMESTAMP '2024-01-01' + to_microseconds(CAST(r3 * 400 * 86400e6 AS BIGINT)) AS ts,
                    CAST(floor(pow(r4, 3) * 200000) AS BIGINT) AS item
                FROM r
            )
            SELECT CAST(i AS UHUGEINT),
                CASE WHEN i % 100 = 0 THEN NULL ELSE 'u' || CAST(u AS VARCHAR) END,
                event_type, ts,
                CASE WHEN event_type = 'search' AND r5 < 0.5 THEN NULL ELSE 'i' || CAST(item AS VARCHAR) END,
                CASE WHEN event_type = 'search' AND r5 < 0.5 THEN NULL
                     ELSE {_sql_list(CATEGORY_WORDS)}[1 + item % 20] || CAST(item % 15 AS VARCHAR) END,
                round((5 + (item * 7919) % 1000 / 3.0) * (0.8 + 0.4 * r5), 2) AS price,
                CASE WHEN event_type IN ('purchase', 'refund') THEN CAST(1 + i % 3 AS DOUBLE) END,
                CASE WHEN event_type IN ('purchase', 'refund')
                     THEN round((5 + (item * 7919) % 1000 / 3.0) * (0.8 + 0.4 * r5), 2) * (1 + i % 3) END,
                CASE WHEN event_type IN ('purchase', 'refund') AND r5 < 0.9
                     THEN 'o' || CAST(u AS VARCHAR) || '-' || CAST(CAST(epoch(ts) / 1800 AS BIGINT) AS VARCHAR) END,
                NULL, NULL, NULL, 0, i + 1
            FROM e
        """)
        con.execute(f"""
            INSERT INTO users
            SELECT 'u' || CAST(i AS VARCHAR),
                CASE WHEN i % 10 < 8 THEN DATE '2021-01-01' + CAST(random() * 1400 AS INTEGER) END,
                CASE WHEN i % 3 = 0 THEN 'female' WHEN i % 3 = 1 THEN 'male' END,
                CASE WHEN i % 10 < 7 THEN DATE '1950-01-01' + CAST(random() * 21000 AS INTEGER) END,
                CASE WHEN i % 10 = 7 THEN CAST(16 + random() * 60 AS INTEGER) END,
                {_sql_list(CITIES)}[1 + i % 10],
                CASE WHEN i % 5 > 0 THEN {_sql_list(LEVELS)}[1 + i % 4] END,
                NULL, i, 0, i + 1
            FROM range({n_users}) AS t(i)
        """)
        con.execute("CHECKPOINT")
        return _day_after_last(con)


def _day_after_last(con: Any) -> datetime:
    last = con.execute("SELECT max(ts) FROM events").fetchone()[0]
    return datetime(last.year, last.month, last.day) + timedelta(days=1)


# -- the variants, each run in a child process ---------------------------------------------------


def run_segmark(root: Path, as_of: datetime, tz: str) -> tuple[float, Any]:
    from segmark.config import parse_settings
    from segmark.workspace import open_workspace

    ws = open_workspace(root)
    data = ws.settings.model_dump()
    data["time"]["timezone"] = tz
    data["features"]["top_categories"] = TOP_CATEGORIES
    ws.settings = parse_settings(data)
    from segmark.pipeline.features import build_features

    t0 = time.perf_counter()
    run = build_features(ws, as_of=as_of.date(), windows=list(WINDOWS))
    seconds = time.perf_counter() - t0
    ws.close()
    return seconds, run.table_name


def _local_as_of(as_of: datetime, tz: str) -> tuple[datetime, datetime]:
    """(UTC as_of, local wall clock as_of) for a local-midnight date."""
    from zoneinfo import ZoneInfo

    local = as_of
    utc = local.replace(tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return utc, local


def floor_sql(as_of: datetime, tz: str, categories: list[str]) -> str:
    """The whole feature table in one hand-written DuckDB query."""
    from zoneinfo import ZoneInfo

    utc, local = _local_as_of(as_of, tz)
    e = utc.replace(tzinfo=ZoneInfo("UTC")).timestamp()
    le = local.replace(tzinfo=ZoneInfo("UTC")).timestamp()
    zone = ZoneInfo(tz)
    # a zone without daylight saving over the data (Shanghai) is a fixed shift; otherwise convert
    offsets = {zone.utcoffset(datetime(y, m, 1)) for y in (utc.year - 2, utc.year - 1, utc.year) for m in (1, 7)}
    if len(offsets) == 1:
        lt = f"(epoch(ts) + {int(offsets.pop().total_seconds())})"
    else:
        lt = f"epoch((ts AT TIME ZONE 'UTC') AT TIME ZONE '{tz}')"
    counts, marks = [], []
    for w in WINDOWS:
        counts.append(f"""
            count(*) FILTER (WHERE is_view AND age_d <= {w}) AS views_{w}d,
            count(*) FILTER (WHERE is_search AND age_d <= {w}) AS searches_{w}d,
            count(*) FILTER (WHERE is_cart AND age_d <= {w}) AS carts_{w}d,
            count(*) FILTER (WHERE is_fav AND age_d <= {w}) AS favs_{w}d,
            count(*) FILTER (WHERE is_buy AND age_d <= {w}) AS purchases_{w}d,
            coalesce(sum(CASE WHEN is_buy THEN amount WHEN is_refund THEN -amount END)
                FILTER (WHERE age_d <= {w}), 0) AS spend_{w}d,""")
        marks.append(f"count(*) FILTER (WHERE ends_day AND age_d <= {w}) AS active_days_{w}d, "
                      f"count(*) FILTER (WHERE ends_session AND age_d <= {w}) AS sessions_{w}d")
    orders_w = ", ".join(f"count(*) FILTER (WHERE age_d <= {w}) AS orders_{w}d" for w in WINDOWS)
    shares = "".join(
        f", coalesce(sum(n) FILTER (WHERE category = '{c}'), 0) / nullif(sum(n), 0) AS \"cat_share__{c}\""
        f", sum(coalesce(spend, 0) - coalesce(refunded, 0)) FILTER (WHERE category = '{c}') AS \"net__{c}\""
        for c in categories)
    spend_shares = "".join(f"coalesce(c.\"net__{c}\", 0) / nullif(m.gross, 0) AS \"spend_share__{c}\", "
                           for c in categories)
    nets = "".join(f", \"net__{c}\"" for c in categories)
    days = ", ".join(f"dow{d}" for d in range(7))
    return f"""
    WITH ev AS NOT MATERIALIZED (
        SELECT user_id, event_type, ts, item_id, category, price, amount, order_id, session_id,
            event_type = 'view' AS is_view, event_type = 'search' AS is_search, event_type = 'cart' AS is_cart,
            event_type = 'fav' AS is_fav, event_type = 'purchase' AS is_buy, event_type = 'refund' AS is_refund,
            epoch(ts) AS t, ({e} - epoch(ts)) / 86400.0 AS age_d, {lt} AS lt,
            CAST(floor({lt} / 86400) + 3 AS BIGINT) % 7 AS dow
        FROM events WHERE user_id IS NOT NULL AND ts < TIMESTAMP '{utc}'
    ), main AS (
        SELECT user_id,
            min(age_d) FILTER (WHERE is_buy) AS recency_days,
            min(age_d) AS recency_visit_days,
            coalesce(sum(amount) FILTER (WHERE is_buy), 0) - coalesce(sum(amount) FILTER (WHERE is_refund), 0)
                AS monetary,
            sum(amount) FILTER (WHERE is_buy) AS gross,
            max(age_d) AS first_age,
            max(floor(age_d / 7)) + 1 AS weeks_observed,
            count(DISTINCT floor(age_d / 7)) / (max(floor(age_d / 7)) + 1) AS active_week_share,
            {"".join(counts)}
            count(*) FILTER (WHERE is_cart) / nullif(count(*) FILTER (WHERE is_view), 0) AS view_to_cart_rate,
            coalesce(sum(amount) FILTER (WHERE is_refund), 0) / nullif(sum(amount) FILTER (WHERE is_buy), 0)
                AS refund_rate,
            count(*) FILTER (WHERE is_view) AS views_total,
            avg(CASE WHEN dow >= 5 THEN 1.0 ELSE 0.0 END) AS weekend_share,
            {"".join(f"count(*) FILTER (WHERE dow = {d}) AS dow{d}, " for d in range(7))}
            (count(*) FILTER (WHERE age_d <= 30) + 1) / (count(*) FILTER (WHERE age_d > 30 AND age_d <= 60) + 1)
                AS trend_30d
        FROM ev GROUP BY user_id
    ), seq AS (
        SELECT user_id, age_d,
            next_t IS NULL OR next_sid IS DISTINCT FROM session_id
                OR (session_id IS NULL AND next_t - t > {GAP_SECONDS}) AS ends_session,
            next_day IS NULL OR next_day <> day AS ends_day
        FROM (SELECT user_id, age_d, t, session_id, floor(lt / 86400) AS day,
                     lead(t) OVER w AS next_t, lead(session_id) OVER w AS next_sid,
                     lead(floor(lt / 86400)) OVER w AS next_day
              FROM ev WINDOW w AS (PARTITION BY user_id ORDER BY t))
    ), visits AS (
        SELECT user_id, {", ".join(marks)}, count(*) FILTER (WHERE ends_session) AS sessions_total
        FROM seq GROUP BY user_id
    ), orders AS (
        SELECT user_id, age_d, lag(age_d) OVER (PARTITION BY user_id ORDER BY age_d DESC) - age_d AS gap
        FROM (SELECT user_id, max(age_d) AS age_d FROM ev WHERE event_type = 'purchase'
              GROUP BY user_id, order_id, CASE WHEN order_id IS NULL THEN ts END)
    ), order_stats AS (
        SELECT user_id, count(*) AS frequency, avg(gap) AS ipi_mean_days, stddev_samp(gap) AS ipi_std_days,
            {orders_w}
        FROM orders GROUP BY user_id
    ), carts AS (
        SELECT user_id, count(*) FILTER (WHERE last_buy <= first_cart) / nullif(count(first_cart), 0) AS c2p,
            count(first_cart) AS carted_items
        FROM (SELECT user_id, item_id, max(age_d) FILTER (WHERE event_type = 'cart') AS first_cart,
                     min(age_d) FILTER (WHERE event_type = 'purchase') AS last_buy
              FROM ev WHERE event_type IN ('cart', 'purchase') AND item_id IS NOT NULL GROUP BY user_id, item_id)
        GROUP BY user_id
    ), cats AS (
        SELECT user_id, arg_min(category, struct_pack(k := -n, c := category)) FILTER (WHERE n > 0) AS top_category,
            max(n) / nullif(sum(n), 0) AS top_category_share,
            CASE WHEN sum(n) > 0 THEN greatest(log2(sum(n)) - sum(n * log2(greatest(n, 1))) / sum(n), 0.0)
                END AS category_entropy,
            arg_min(category, struct_pack(k := -spend, c := category)) FILTER (WHERE spend > 0) AS top_spend_category,
            max(spend) / sum(spend) AS top_spend_category_share {shares}
        FROM (SELECT user_id, category, count(*) FILTER (WHERE NOT is_refund) AS n,
                     sum(amount) FILTER (WHERE is_buy) AS spend, sum(amount) FILTER (WHERE is_refund) AS refunded
              FROM ev
              WHERE category IS NOT NULL AND event_type <> 'remove_cart' GROUP BY ALL)
        GROUP BY user_id
    ), hours AS (
        SELECT user_id, arg_max(h, n * 24 + 23 - h) AS preferred_hour,
            coalesce(sum(n) FILTER (WHERE h >= 6 AND h < 12), 0) AS morning,
            coalesce(sum(n) FILTER (WHERE h >= 12 AND h < 18), 0) AS afternoon,
            coalesce(sum(n) FILTER (WHERE h >= 18), 0) AS evening,
            coalesce(sum(n) FILTER (WHERE h < 6), 0) AS night
        FROM (SELECT user_id, CAST(floor(lt % 86400 / 3600) AS INTEGER) AS h, count(*) AS n FROM ev GROUP BY ALL)
        GROUP BY user_id
    ), lines AS (
        SELECT user_id, item_id, category, price FROM events
        WHERE event_type = 'purchase' AND ts < TIMESTAMP '{utc}' AND price > 0
    ), prices AS (
        SELECT l.user_id, avg(l.price / c.med) AS price_level,
            avg(CASE WHEN i.varies THEN CASE WHEN l.price < i.med THEN 1.0 ELSE 0.0 END END) AS low_price_share
        FROM lines l
        JOIN (SELECT coalesce(category, '') AS k, median(price) AS med FROM lines GROUP BY 1) c
            ON c.k = coalesce(l.category, '')
        LEFT JOIN (SELECT item_id, median(price) AS med, min(price) < max(price) AS varies
                   FROM lines WHERE item_id IS NOT NULL GROUP BY 1) i ON i.item_id = l.item_id
        WHERE l.user_id IS NOT NULL GROUP BY l.user_id
    ), people AS (
        SELECT user_id, gender, city, member_level,
            CASE WHEN birth_date IS NOT NULL THEN {local.year} - year(birth_date) - CASE
                WHEN month(birth_date) * 100 + day(birth_date) > {local.month * 100 + local.day} THEN 1 ELSE 0 END
                ELSE age END AS years,
            ({le} - epoch(CAST(signup_date AS TIMESTAMP))) / 86400.0 AS signup_age
        FROM users
    ), known AS (
        SELECT user_id FROM users
        WHERE signup_date IS NULL OR CAST(signup_date AS TIMESTAMP) < TIMESTAMP '{local}'
    )
    SELECT user_id,
        coalesce(COLUMNS(m.* EXCLUDE (user_id, gross, first_age, recency_days, recency_visit_days,
            view_to_cart_rate, refund_rate, weekend_share, trend_30d, active_week_share, {days})), 0),
        m.recency_days, m.recency_visit_days, m.view_to_cart_rate, m.refund_rate, m.weekend_share, m.trend_30d,
        m.active_week_share,
        coalesce(COLUMNS(o.* EXCLUDE (user_id, ipi_mean_days, ipi_std_days)), 0), o.ipi_mean_days, o.ipi_std_days,
        coalesce(COLUMNS(v.* EXCLUDE (user_id)), 0),
        m.gross / nullif(o.frequency, 0) AS aov,
        m.views_total / nullif(v.sessions_total, 0) AS views_per_session,
        greatest(m.first_age, p.signup_age) AS tenure_days,
        k.c2p AS cart_to_purchase_rate, 1 - k.c2p AS cart_abandonment_rate,
        coalesce(k.carted_items, 0) AS carted_items, c.* EXCLUDE (user_id{nets}),
        {spend_shares}
        pr.* EXCLUDE (user_id), h.preferred_hour,
        CASE greatest(h.morning, h.afternoon, h.evening, h.night) WHEN h.morning THEN 'morning'
            WHEN h.afternoon THEN 'afternoon' WHEN h.evening THEN 'evening' WHEN h.night THEN 'night'
            END AS preferred_daypart,
        CASE greatest({days}) {" ".join(f"WHEN m.dow{d} THEN {d + 1}" for d in range(7))} END AS preferred_weekday,
        CASE WHEN (m.dow5 + m.dow6) * 5 > (m.dow0 + m.dow1 + m.dow2 + m.dow3 + m.dow4) * 2 THEN 'weekend'
             WHEN (m.dow5 + m.dow6) * 5 <= (m.dow0 + m.dow1 + m.dow2 + m.dow3 + m.dow4) * 2 THEN 'weekday'
             END AS preferred_weekday_band,
        CASE WHEN p.years BETWEEN 0 AND 120 THEN p.years END AS age,
        CASE WHEN p.years < 0 OR p.years > 120 THEN NULL WHEN p.years >= 60 THEN 'senior'
             WHEN p.years >= 35 THEN 'middle-aged' WHEN p.years >= 18 THEN 'young adult'
             WHEN p.years >= 0 THEN 'under 18' END AS age_band,
        p.gender, p.city, p.member_level
    FROM main m FULL JOIN known USING (user_id)
    LEFT JOIN visits v USING (user_id) LEFT JOIN order_stats o USING (user_id)
    LEFT JOIN carts k USING (user_id)
    LEFT JOIN cats c USING (user_id) LEFT JOIN prices pr USING (user_id) LEFT JOIN hours h USING (user_id)
    LEFT JOIN people p USING (user_id)
    """


def top_categories(con: Any, as_of_utc: datetime) -> list[str]:
    return [r[0] for r in con.execute(
        f"SELECT category FROM events WHERE user_id IS NOT NULL AND ts < TIMESTAMP '{as_of_utc}' "
        "AND category IS NOT NULL AND event_type NOT IN ('refund', 'remove_cart') "
        f"GROUP BY category ORDER BY count(*) DESC, category LIMIT {TOP_CATEGORIES}").fetchall()]


def run_floor(root: Path, as_of: datetime, tz: str) -> tuple[float, Any]:
    import duckdb

    con = duckdb.connect(str(root / "segmark.duckdb"), config={"memory_limit": "4GB"})
    con.execute("SET TimeZone = 'UTC'")
    t0 = time.perf_counter()
    cats = top_categories(con, _local_as_of(as_of, tz)[0])
    con.execute("CREATE OR REPLACE TABLE floor_features AS " + floor_sql(as_of, tz, cats))
    seconds = time.perf_counter() - t0
    con.close()
    return seconds, "floor_features"


def pandas_features(events: Any, users: Any, as_of: datetime, tz: str) -> Any:
    """The feature table, the idiomatic pandas way."""
    import numpy as np
    import pandas as pd

    utc, local = _local_as_of(as_of, tz)
    as_of_ts, local_ts = pd.Timestamp(utc), pd.Timestamp(local)
    ev = events[events["user_id"].notna() & (events["ts"] < as_of_ts)].copy()
    ev["age_d"] = (as_of_ts - ev["ts"]).dt.total_seconds() / 86400
    lts = ev["ts"].dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
    ev["hour"], ev["dow"], ev["day"] = lts.dt.hour, lts.dt.day_of_week, lts.dt.floor("D")
    kind = ev["event_type"]
    buy, ref = kind == "purchase", kind == "refund"
    g = ev.groupby("user_id")

    out = pd.DataFrame(index=pd.Index(g.size().index, name="user_id"))
    out["recency_days"] = ev[buy].groupby("user_id")["age_d"].min()
    out["recency_visit_days"] = g["age_d"].min()
    gross = ev[buy].groupby("user_id")["amount"].sum()
    refunds = ev[ref].groupby("user_id")["amount"].sum()
    out["monetary"] = gross.reindex(out.index, fill_value=0) - refunds.reindex(out.index, fill_value=0)

    # orders: order_id, else one per user and timestamp; order time = its first line
    p = ev[buy]
    key = p["order_id"].fillna("ts:" + p["ts"].astype(str))
    orders = p.groupby([p["user_id"], key])["age_d"].max().reset_index().sort_values(["user_id", "age_d"],
                                                                                     ascending=[True, False])
    orders["gap"] = -orders.groupby("user_id")["age_d"].diff()
    og = orders.groupby("user_id")
    out["frequency"] = og.size()
    out["aov"] = gross / out["frequency"]
    out["ipi_mean_days"] = og["gap"].mean()
    out["ipi_std_days"] = og["gap"].std()

    # sessions and active days from the user's time-ordered events
    s = ev[["user_id", "ts", "age_d", "session_id", "day"]].sort_values(["user_id", "ts"], kind="stable")
    nxt = s.groupby("user_id")[["ts", "session_id", "day"]].shift(-1)
    gap = (nxt["ts"] - s["ts"]).dt.total_seconds()
    s["ends_session"] = nxt["ts"].isna() | (nxt["session_id"].fillna("\0") != s["session_id"].fillna("\0")) | (
        s["session_id"].isna() & (gap > GAP_SECONDS))
    s["ends_day"] = nxt["ts"].isna() | (nxt["day"] != s["day"])
    for w in WINDOWS:
        inw = ev[ev["age_d"] <= w]
        counts = inw.groupby(["user_id", "event_type"]).size().unstack(fill_value=0)
        for name, k in (("views", "view"), ("searches", "search"), ("carts", "cart"), ("favs", "fav"),
                        ("purchases", "purchase")):
            out[f"{name}_{w}d"] = (counts[k] if k in counts else pd.Series(dtype="int64"))
        signed = np.where(inw["event_type"] == "purchase", inw["amount"],
                          np.where(inw["event_type"] == "refund", -inw["amount"], 0.0))
        out[f"spend_{w}d"] = pd.Series(signed, index=inw.index).groupby(inw["user_id"]).sum()
        out[f"orders_{w}d"] = orders[orders["age_d"] <= w].groupby("user_id").size()
        sw = s[s["age_d"] <= w]
        out[f"active_days_{w}d"] = sw[sw["ends_day"]].groupby("user_id").size()
        out[f"sessions_{w}d"] = sw[sw["ends_session"]].groupby("user_id").size()
    out["sessions_total"] = s[s["ends_session"]].groupby("user_id").size()

    views, carts = (ev[kind == k].groupby("user_id").size() for k in ("view", "cart"))
    out["view_to_cart_rate"] = carts.reindex(out.index, fill_value=0) / views
    ci = ev[kind.isin(["cart", "purchase"]) & ev["item_id"].notna()]
    ci = ci.assign(cart_age=ci["age_d"].where(ci["event_type"] == "cart"),
                   buy_age=ci["age_d"].where(ci["event_type"] == "purchase"))
    ci = ci.groupby(["user_id", "item_id"]).agg(first_cart=("cart_age", "max"), last_buy=("buy_age", "min"))
    ci = ci[ci["first_cart"].notna()]
    out["cart_to_purchase_rate"] = (ci["last_buy"] <= ci["first_cart"]).groupby("user_id").mean()
    out["cart_abandonment_rate"] = 1 - out["cart_to_purchase_rate"]
    out["refund_rate"] = refunds.reindex(out.index, fill_value=0) / gross
    out["views_total"] = views
    out["carted_items"] = ci.groupby("user_id").size()

    uc = ev[ev["category"].notna() & ~kind.isin(["refund", "remove_cart"])].groupby(
        ["user_id", "category"]).size().rename("n").reset_index()
    total = uc.groupby("user_id")["n"].transform("sum")
    share = uc["n"] / total
    top = uc.sort_values(["user_id", "n", "category"], ascending=[True, False, True]).drop_duplicates("user_id")
    out["top_category"] = top.set_index("user_id")["category"]
    out["top_category_share"] = (top.set_index("user_id")["n"] / uc.groupby("user_id")["n"].sum())
    out["category_entropy"] = (-share * np.log2(share)).groupby(uc["user_id"]).sum()
    spend = ev[buy & ev["category"].notna()].groupby(["user_id", "category"])["amount"].sum().rename("spend")
    spend = spend[spend > 0].reset_index()
    top_spend = spend.sort_values(["user_id", "spend", "category"], ascending=[True, False, True])
    top_spend = top_spend.drop_duplicates("user_id").set_index("user_id")
    out["top_spend_category"] = top_spend["category"]
    out["top_spend_category_share"] = top_spend["spend"] / spend.groupby("user_id")["spend"].sum()
    shop_top = (ev[ev["category"].notna() & ~kind.isin(["refund", "remove_cart"])]["category"].value_counts()
                .rename_axis("category").reset_index().sort_values(["count", "category"], ascending=[False, True])
                ["category"].head(TOP_CATEGORIES))
    wide = uc.pivot_table(index="user_id", columns="category", values="n", aggfunc="sum", fill_value=0)
    for c in shop_top:
        out[f"cat_share__{c}"] = (wide[c] / wide.sum(axis=1)) if c in wide else 0.0
    # spend shares: per category, purchases less refunds, over all purchase amount before refunds
    money = ev[(buy | ref) & ev["category"].notna()]
    signed_money = money["amount"].where(money["event_type"] == "purchase", -money["amount"])
    net = signed_money.groupby([money["user_id"], money["category"]]).sum().unstack()
    whole = gross.reindex(out.index).replace(0, np.nan)
    for c in shop_top:
        in_c = net[c].reindex(out.index).fillna(0) if c in net else pd.Series(0.0, index=out.index)
        out[f"spend_share__{c}"] = in_c / whole

    lines = events[(events["event_type"] == "purchase") & (events["ts"] < as_of_ts) & (events["price"] > 0)]
    lines = lines.assign(k=lines["category"].fillna(""))
    lines = lines.merge(lines.groupby("k")["price"].median().rename("cat_med"), on="k")
    items = lines[lines["item_id"].notna()].groupby("item_id")["price"].agg(item_med="median", lo="min", hi="max")
    lines = lines.merge(items, on="item_id", how="left")
    lines = lines[lines["user_id"].notna()]
    lines["ratio"] = lines["price"] / lines["cat_med"]
    lines["low"] = (lines["price"] < lines["item_med"]).astype(float).where(lines["lo"] < lines["hi"])
    out["price_level"] = lines.groupby("user_id")["ratio"].mean()
    out["low_price_share"] = lines.groupby("user_id")["low"].mean()

    uh = ev.groupby(["user_id", "hour"]).size().rename("n").reset_index()
    best = uh.sort_values(["user_id", "n", "hour"], ascending=[True, False, True]).drop_duplicates("user_id")
    out["preferred_hour"] = best.set_index("user_id")["hour"].astype(float)
    part = pd.cut(uh["hour"], [-1, 5, 11, 17, 23], labels=["night", "morning", "afternoon", "evening"])
    parts = uh.groupby(["user_id", part], observed=False)["n"].sum().unstack()
    out["preferred_daypart"] = parts[["morning", "afternoon", "evening", "night"]].idxmax(axis=1)
    ud = ev.groupby(["user_id", "dow"]).size().rename("n").reset_index()
    best_day = ud.sort_values(["user_id", "n", "dow"], ascending=[True, False, True]).drop_duplicates("user_id")
    out["preferred_weekday"] = best_day.set_index("user_id")["dow"].astype(float) + 1
    weekend = (ev["dow"] >= 5).groupby(ev["user_id"]).sum()
    workdays = (ev["dow"] < 5).groupby(ev["user_id"]).sum()
    out["preferred_weekday_band"] = pd.Series(np.where(weekend * 5 > workdays * 2, "weekend", "weekday"),
                                              index=weekend.index)
    out["weekend_share"] = (ev["dow"] >= 5).groupby(ev["user_id"]).mean()
    recent = (ev["age_d"] <= 30).groupby(ev["user_id"]).sum()
    before = ((ev["age_d"] > 30) & (ev["age_d"] <= 60)).groupby(ev["user_id"]).sum()
    out["trend_30d"] = (recent + 1) / (before + 1)

    people = users.set_index("user_id")
    known = people[people["signup_date"].isna() | (pd.to_datetime(people["signup_date"]) < local_ts)].index
    out = out.reindex(out.index.union(known))
    birth = pd.to_datetime(people["birth_date"])
    years = (local.year - birth.dt.year - ((birth.dt.month * 100 + birth.dt.day) > local.month * 100 + local.day))
    years = years.fillna(people["age"].astype(float))
    signup_age = (local_ts - pd.to_datetime(people["signup_date"])).dt.total_seconds() / 86400
    first_age = g["age_d"].max()
    out["tenure_days"] = pd.concat([first_age, signup_age.reindex(out.index)], axis=1).reindex(out.index).max(axis=1)
    age = years.where((years >= 0) & (years <= 120)).reindex(out.index)
    out["age"] = age
    out["age_band"] = pd.cut(age, [-1, 17, 34, 59, 120], labels=["under 18", "young adult", "middle-aged", "senior"])
    for c in ("gender", "city", "member_level"):
        out[c] = people[c].reindex(out.index)
    counts = [c for c in out.columns if c.split("_")[0] in {"views", "searches", "carts", "favs", "purchases",
                                                            "orders", "active", "sessions", "spend"}
              and not c.startswith("spend_share__")]
    filled = [*counts, "frequency", "monetary", "carted_items"]
    out[filled] = out[filled].fillna(0)
    out["views_per_session"] = out["views_total"] / out["sessions_total"].where(out["sessions_total"] > 0)
    week = np.floor(ev["age_d"] / 7)  # whole weeks back from as_of
    out["weeks_observed"] = (week.groupby(ev["user_id"]).max() + 1).reindex(out.index).fillna(0)
    seen = out["weeks_observed"].where(out["weeks_observed"] > 0)
    out["active_week_share"] = week.groupby(ev["user_id"]).nunique() / seen
    return out


def run_pandas(root: Path, as_of: datetime, tz: str) -> tuple[float, Any]:
    import duckdb

    con = duckdb.connect(str(root / "segmark.duckdb"), read_only=True)
    t0 = time.perf_counter()
    events = con.execute("SELECT user_id, event_type, ts, item_id, category, price, amount, order_id, "
                         "session_id FROM events").df()
    users = con.execute("SELECT user_id, signup_date, gender, birth_date, age, city, member_level FROM users").df()
    out = pandas_features(events, users, as_of, tz)
    seconds = time.perf_counter() - t0
    if os.environ.get("SEGMARK_BENCH_KEEP"):
        out.to_parquet(os.environ["SEGMARK_BENCH_KEEP"])
    return seconds, len(out)


VARIANTS = {"segmark": run_segmark, "pandas": run_pandas, "duckdb (floor)": run_floor}


def measure(variant: str, root: Path, as_of: datetime, tz: str, keep: Path | None = None) -> tuple[float, float, str]:
    """Run one variant in a fresh process: (seconds of work, peak RSS in MiB, what it returned)."""
    env = dict(os.environ, SEGMARK_BENCH_KEEP=str(keep)) if keep else None
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.features", "--child", variant, str(root),
                             as_of.isoformat(), tz], stdout=subprocess.PIPE, text=True, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read().strip() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        return float("nan"), usage.ru_maxrss / 1024, "failed"
    result = json.loads(out.splitlines()[-1])
    return result["seconds"], usage.ru_maxrss / 1024, str(result["result"])


def check(root: Path, pandas_path: Path) -> list[str]:
    """Differences between the three tables (empty when they agree)."""
    import duckdb
    import numpy as np
    import pandas as pd

    con = duckdb.connect(str(root / "segmark.duckdb"), read_only=True)
    table = con.execute("SELECT table_name FROM feature_runs ORDER BY run_id DESC LIMIT 1").fetchone()[0]  # type: ignore[index]
    seg = con.execute(f"SELECT * FROM {table}").df().set_index("user_id").sort_index()
    floor = con.execute("SELECT * FROM floor_features").df().set_index("user_id").sort_index()
    plain = pd.read_parquet(pandas_path).sort_index()
    problems = []
    for name, other in (("floor", floor), ("pandas", plain)):
        if list(other.index) != list(seg.index):
            problems.append(f"{name}: users differ ({len(other)} vs {len(seg)})")
            continue
        for col in seg.columns:
            if col not in other:
                problems.append(f"{name}: no column {col}")
                continue
            a, b = seg[col], other[col]
            if a.dtype.kind in "fi":
                b = pd.to_numeric(b, errors="coerce")
                ok = np.isclose(a.astype(float), b.astype(float), rtol=1e-9, atol=1e-9, equal_nan=True)
            else:
                ok = ((a.isna() & b.isna()) | (a.astype(object) == b.astype(object))).to_numpy()
            if not ok.all():
                problems.append(f"{name}: {col} differs for {(~ok).sum()} users")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per variant, taken in turns; the median time and the largest peak are shown")
    parser.add_argument("--timezone", default="Asia/Shanghai")
    parser.add_argument("--only", choices=list(VARIANTS), action="append", help="run only these variants")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where to build the workspace; kept, and reused by the next run")
    parser.add_argument("--check", action="store_true", help="compare the three tables value by value")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant, root, as_of, tz = args.child
        seconds, result = VARIANTS[variant](Path(root), datetime.fromisoformat(as_of), tz)
        print(json.dumps({"seconds": seconds, "result": result}))
        return

    console = Console()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="segmark-bench-features-"))
    root = folder / "ws"
    try:
        t0 = time.perf_counter()
        with console.status(f"generating {args.events:,} events and {args.users:,} users"):
            as_of = generate(root, args.events, args.users)
        console.print(f"generated in {time.perf_counter() - t0:.1f}s; as of {as_of:%Y-%m-%d} ({args.timezone})")
        variants = args.only or list(VARIANTS)
        keep = folder / "pandas.parquet" if args.check else None
        # round robin, so that load from other processes on a shared machine falls on every variant
        runs: dict[str, list[tuple[float, float, str]]] = {v: [] for v in variants}
        for i in range(args.repeat):
            for v in variants:
                runs[v].append(measure(v, root, as_of, args.timezone, keep))
                console.print(f"{v} (run {i + 1}): {runs[v][-1][0]:.1f}s, {runs[v][-1][1]:,.0f} MiB")
        results = {v: (statistics.median(r[0] for r in rs), max(r[1] for r in rs), rs[-1][2])
                    for v, rs in runs.items()}
        table = Table(title=f"features build: {args.events:,} events, {args.users:,} users, "
                      f"{os.cpu_count()} cores, {args.timezone}", title_justify="left")
        for col in ("variant", "seconds", "peak MiB", "segmark speed-up", "time vs floor"):
            table.add_column(col, justify="left" if col == "variant" else "right")
        seg = results.get("segmark", (float("nan"),))[0]
        floor = results.get("duckdb (floor)", (float("nan"),))[0]
        for v, (sec, mem, _) in results.items():
            table.add_row(v, f"{sec:.1f}", f"{mem:,.0f}", f"{sec / seg:.2f}x", f"{sec / floor:.2f}x")
        console.print(table)
        if args.check:
            problems = check(root, folder / "pandas.parquet")
            console.print("[green]the three tables agree[/]" if not problems else "\n".join(problems))
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
