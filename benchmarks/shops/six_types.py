"""The six-type shop: champions, loyal bargain buyers, window shoppers, cart abandoners, lapsed
users and newcomers, a year of events (issue 12's "hidden shop").

Written apart from :mod:`segmark.demo.generate` and on another model of behaviour, so that the
default segmentation can be judged on a shop it was not designed on:

- **Visits.** Each day of a user's active span is a visit with the user's daily probability
  (log-normal around the type's, sigma 0.5: users of one type differ by a factor of 1.6 either
  way); the active span runs from signup (or the window's start) to the end, less a lapsed user's
  quiet tail. Newcomers visit on their signup day.
- **A visit.** 1 + Poisson views of items of one category, each carted with the user's cart
  probability; each carted item is bought in the same visit with the user's buy probability (one
  order per visit with purchases). Probabilities are Beta around the type's with concentration 20,
  so types overlap at the edges more than in the demo shop. Searches (Poisson per visit),
  favourites (per view), cart removals (per unbought cart) and refunds (per bought line, 2-20
  days later) come with them.
- **Prices.** Items of eight categories have log-normal list prices; a user picks items at a
  quantile of the category's prices drawn from Beta around their price taste: bargain buyers
  low, champions high, everyone else around the middle.

============================  =====  ======================================================
type                          share  signature (type means)
============================  =====  ======================================================
champion                       8%    visits 1 day in 7, carts 30% of views, buys 70%: dozens
                                     of orders, dearer items, long tenure
loyal_bargain_buyer           16%    visits 1 day in 14, carts 28%, buys 60%, cheapest items,
                                     several units per line
window_shopper                30%    visits 1 day in 18, 5 views a visit, carts 2%: at most
                                     an order or two
cart_abandoner                14%    visits 1 day in 20, carts 35% of views, buys 7%
lapsed                        20%    ordinary buyers until 120-300 days before the end, then
                                     nothing
newcomer                      12%    signed up in the last 45 days, visits 1 day in 5, first
                                     visit on the signup day; about half buy
============================  =====  ======================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from benchmarks.shops.base import PlantedShop


@dataclass(frozen=True)
class Kind:
    key: str
    share: float
    visit_p: float          # daily visit probability (type mean)
    views: float            # mean views per visit beyond the first
    cart_p: float           # probability that a viewed item is carted
    buy_p: float            # probability that a carted item is bought in the visit
    taste: float            # mean price quantile chosen (0 cheapest, 1 dearest)
    units: float            # mean extra units per bought line
    signup: tuple[int, int]  # signup, days before the end
    quiet: tuple[int, int] = (0, 0)  # no visit in the last N days


KINDS: tuple[Kind, ...] = (
    Kind("champion", 0.08, 1 / 7, 2.0, 0.30, 0.70, 0.70, 0.3, (200, 1500)),
    Kind("loyal_bargain_buyer", 0.16, 1 / 14, 3.0, 0.28, 0.60, 0.15, 1.0, (200, 1500)),
    Kind("window_shopper", 0.30, 1 / 18, 4.0, 0.02, 0.30, 0.50, 0.1, (60, 1500)),
    Kind("cart_abandoner", 0.14, 1 / 20, 2.5, 0.35, 0.07, 0.55, 0.2, (60, 1500)),
    Kind("lapsed", 0.20, 1 / 14, 2.5, 0.22, 0.50, 0.50, 0.2, (400, 1500), (120, 300)),
    Kind("newcomer", 0.12, 1 / 5, 2.5, 0.15, 0.40, 0.45, 0.2, (0, 45)),
)  # fmt: skip

CATEGORIES = ("women", "men", "beauty", "home", "food", "kids", "sports", "digital")
MEDIAN_PRICE = np.array([120.0, 150.0, 90.0, 80.0, 30.0, 100.0, 180.0, 600.0])
CONCENTRATION = 20.0
RATE_SIGMA = 0.5


def _beta(rng: np.random.Generator, mean: np.ndarray, conc: float = CONCENTRATION) -> np.ndarray:
    m = np.clip(mean, 1e-3, 1 - 1e-3)
    return rng.beta(m * conc, (1 - m) * conc)


def generate(n_users: int = 8_000, seed: int = 0, *, days: int = 365, end: date = date(2025, 6, 30),
             n_items: int = 3_000) -> PlantedShop:
    """The six-type shop of ``n_users`` over the ``days`` ending on ``end``."""
    rng = np.random.default_rng(seed)
    shares = np.array([k.share for k in KINDS])
    kind = rng.choice(len(KINDS), size=n_users, p=shares / shares.sum())

    def col(attr: str) -> np.ndarray:
        return np.array([getattr(k, attr) for k in KINDS], dtype=float)[kind]

    # -- users -----------------------------------------------------------------------------------
    lo = np.array([k.signup[0] for k in KINDS])[kind]
    hi = np.array([k.signup[1] for k in KINDS])[kind]
    signup = (days - 1) - rng.integers(lo, hi + 1)            # day index; negative = before the window
    qlo = np.array([k.quiet[0] for k in KINDS])[kind]
    qhi = np.array([k.quiet[1] for k in KINDS])[kind]
    first = np.maximum(signup, 0)
    last = np.maximum((days - 1) - rng.integers(qlo, qhi + 1), first)
    visit_p = np.clip(col("visit_p") * rng.lognormal(-RATE_SIGMA**2 / 2, RATE_SIGMA, n_users), 0.002, 0.9)
    views = col("views") * rng.lognormal(-0.08, 0.4, n_users)
    cart_p = _beta(rng, col("cart_p"))
    buy_p = _beta(rng, col("buy_p"))
    taste = _beta(rng, col("taste"), 8.0)
    units = col("units")
    fav_p = _beta(rng, np.full(n_users, 0.05))
    favourite_cat = rng.integers(0, len(CATEGORIES), n_users)

    # -- visits: one Bernoulli draw per user and active day, vectorised over the spans ------------
    span = last - first + 1
    n_visits = rng.binomial(span, visit_p)
    is_new = signup >= 0
    n_visits = np.where(is_new, np.maximum(n_visits, 1), n_visits)  # newcomers visit on signup day
    v_user = np.repeat(np.arange(n_users), n_visits)
    # distinct days within each span: sample with replacement and accept the rare collisions
    v_day = first[v_user] + (rng.random(v_user.size) * span[v_user]).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(n_visits)[:-1]))
    v_day[starts[is_new & (n_visits > 0)]] = signup[is_new & (n_visits > 0)]
    v_sec = v_day * 86400 + rng.integers(7 * 3600, 23 * 3600, v_user.size)
    order = np.lexsort((v_sec, v_user))
    v_user, v_sec = v_user[order], v_sec[order]
    n_v = v_user.size
    v_cat = np.where(rng.random(n_v) < 0.6, favourite_cat[v_user], rng.integers(0, len(CATEGORIES), n_v))

    # -- views, carts, purchases ------------------------------------------------------------------
    n_views = 1 + rng.poisson(views[v_user])
    e_visit = np.repeat(np.arange(n_v), n_views)
    e_user = v_user[e_visit]
    e_offset = np.concatenate([np.arange(m) for m in n_views]) * rng.integers(20, 120, e_visit.size)
    q = np.clip(taste[e_user] + rng.normal(0, 0.12, e_visit.size), 0.001, 0.999)
    cat = v_cat[e_visit]
    per_cat = n_items // len(CATEGORIES)
    item = cat * per_cat + np.minimum((q * per_cat).astype(np.int64), per_cat - 1)
    item_q = (np.arange(n_items) % per_cat + 0.5) / per_cat
    from scipy.stats import norm

    item_price = np.round(MEDIAN_PRICE[np.minimum(np.arange(n_items) // per_cat, len(CATEGORIES) - 1)]
                          * np.exp(0.7 * norm.ppf(item_q)), 1)
    carted = rng.random(e_visit.size) < cart_p[e_user]
    bought = carted & (rng.random(e_visit.size) < buy_p[e_user])
    removed = carted & ~bought & (rng.random(e_visit.size) < 0.25)
    faved = rng.random(e_visit.size) < fav_p[e_user]

    base_ts = v_sec[e_visit] + e_offset
    visit_end = np.zeros(n_v, dtype=np.int64)
    np.maximum.at(visit_end, e_visit, base_ts + 60)
    rows = []

    def add(mask: np.ndarray, etype: str, ts: np.ndarray, **extra: np.ndarray) -> None:
        rows.append(pd.DataFrame({"user": e_user[mask], "event_type": etype, "sec": ts, "item": item[mask],
                                  "visit": e_visit[mask], **extra}))

    add(np.ones(e_visit.size, dtype=bool), "view", base_ts)
    add(carted, "cart", base_ts[carted] + 10)
    add(faved, "fav", base_ts[faved] + 5)
    add(removed, "remove_cart", visit_end[e_visit[removed]] + 30)
    qty = 1 + rng.poisson(units[e_user[bought]])
    add(bought, "purchase", visit_end[e_visit[bought]] + 120, quantity=qty)
    refund = rng.random(qty.size) < 0.05
    b_idx = np.flatnonzero(bought)[refund]
    rows.append(pd.DataFrame({"user": e_user[b_idx], "event_type": "refund",
                              "sec": visit_end[e_visit[b_idx]] + rng.integers(2, 21, b_idx.size) * 86400,
                              "item": item[b_idx], "visit": e_visit[b_idx], "quantity": qty[refund]}))
    n_search = rng.poisson(0.8, n_v)
    s_visit = np.repeat(np.arange(n_v), n_search)
    rows.append(pd.DataFrame({"user": v_user[s_visit], "event_type": "search", "sec": v_sec[s_visit] - 5,
                              "item": -1, "visit": s_visit}))
    ev = pd.concat(rows, ignore_index=True)
    ev = ev[ev["sec"] < days * 86400]

    start = pd.Timestamp(end - timedelta(days=days - 1))
    ids = np.array([f"h{i:05d}" for i in range(n_users)], dtype=object)
    has_item = ev["item"].to_numpy() >= 0
    item_ids = np.array([f"p{i:05d}" for i in range(n_items)], dtype=object)
    events = pd.DataFrame({
        "user_id": ids[ev["user"].to_numpy()],
        "event_type": ev["event_type"].to_numpy(),
        "ts": start + pd.to_timedelta(ev["sec"].to_numpy(), unit="s"),
        "item_id": np.where(has_item, item_ids[np.maximum(ev["item"].to_numpy(), 0)], None),
        "category": np.where(has_item, np.array(CATEGORIES, dtype=object)[
            np.minimum(np.maximum(ev["item"].to_numpy(), 0) // per_cat, len(CATEGORIES) - 1)], None),
        "price": np.where(has_item, item_price[np.maximum(ev["item"].to_numpy(), 0)], np.nan),
        "quantity": ev["quantity"].to_numpy() if "quantity" in ev else np.nan,
        "order_id": [f"o{v}" if t in ("purchase", "refund") else None
                     for v, t in zip(ev["visit"].to_numpy(), ev["event_type"].to_numpy(), strict=True)],
        "session_id": [f"s{v}" for v in ev["visit"].to_numpy()],
    }).sort_values("ts", kind="stable").reset_index(drop=True)
    events["quantity"] = events["quantity"].where(events["event_type"].isin(["purchase", "refund"]))
    users = pd.DataFrame({"user_id": ids,
                          "signup_date": (start + pd.to_timedelta(signup, unit="D")).strftime("%Y-%m-%d")})
    truth = pd.Series(np.array([k.key for k in KINDS], dtype=object)[kind], index=pd.Index(ids, name="user_id"),
                      name="type")
    return PlantedShop("six-types", events, users, truth, end + timedelta(days=1),
                       params={"n_users": n_users, "seed": seed, "days": days})
