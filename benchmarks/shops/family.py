"""A family of shops, one per seed, each with its own mix of planted shopper types: to judge a
segmentation method on many shops rather than on the one it was designed with.

The behaviour model differs from both the demo shop's and the six-type shop's: a user's weeks
follow a Markov chain over three states, **away**, **browsing** and **shopping**, with a
transition matrix per type; a week's sessions are Poisson (rate by state); a session holds a
geometric number of item views; a view is carted with the state's cart probability and a carted
item bought, in a shopping week, with the user's buy probability. Everything a user does is
drawn from their own rates (log-normal and Beta around the type's).

What varies from shop to shop (drawn from the seed, recorded in ``PlantedShop.params``):

- **the type mix**: four to seven types drawn from :data:`POOL`, shares from a Dirichlet
  (at least 4% each);
- **history**: 60, 120, 240 or 365 days (a dormant user stopped half-way or earlier; a newcomer
  arrived in the last 15% of the history, at least a week before its end);
- **event volume**: every rate times a log-normal factor (a third to three times);
- **noise**: 0-10% of users are blends of their type and another (their rates 15-35% of the way
  to the other type's); they keep their own type as truth;
- **prices**: known on every line, missing on 30% of lines, or unknown everywhere (as in
  Taobao's log); a type known only by its prices is not planted where prices are unknown;
- **files**: with or without a users table (signup dates), session ids and order ids.

Types (:data:`POOL`), by what sets them apart:

====================  ==========================================================================
heavy_buyer            shopping most weeks: many orders, recent, a long tenure
steady_regular         orders every few weeks, views little, buys most of what it carts
bargain_buyer          regular orders of the cheapest items, several units a line (needs prices)
premium_buyer          few orders of the dearest items, large baskets (needs prices)
browser                browses often, hardly ever carts, never buys
cart_abandoner         carts much of what it views, seldom buys
dormant                a buyer who stopped: nothing in the later part of the history
newcomer               arrived near the end; busy since
====================  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from benchmarks.shops.base import PlantedShop


@dataclass(frozen=True)
class Type:
    key: str
    stay: tuple[float, float, float]   # probability of staying away / browsing / shopping next week
    start: tuple[float, float, float]  # state of the first week
    sessions: tuple[float, float]      # sessions per browsing / shopping week
    views: float                       # mean views per session
    cart: tuple[float, float]          # cart probability per view, browsing / shopping
    buy: float                         # buy probability of a carted item in a shopping week
    price_z: float                     # price taste: shift of the log price, in category sds
    units: float                       # mean extra units per bought line
    needs_prices: bool = False
    kind: str = "regular"              # "regular", "dormant" or "newcomer"


POOL: tuple[Type, ...] = (
    Type("heavy_buyer", (0.2, 0.3, 0.8), (0.1, 0.3, 0.6), (2.5, 3.5), 3.0, (0.15, 0.35), 0.75, 0.2, 0.3),
    Type("steady_regular", (0.5, 0.2, 0.4), (0.4, 0.2, 0.4), (0.8, 1.5), 2.0, (0.10, 0.5), 0.85, 0.0, 0.2),
    Type("bargain_buyer", (0.5, 0.4, 0.5), (0.3, 0.4, 0.3), (1.5, 2.5), 4.0, (0.10, 0.35), 0.65, -1.8, 1.2, True),
    Type("premium_buyer", (0.7, 0.4, 0.3), (0.5, 0.3, 0.2), (1.0, 1.5), 3.0, (0.08, 0.3), 0.8, 1.8, 0.0, True),
    Type("browser", (0.4, 0.6, 0.0), (0.3, 0.7, 0.0), (2.0, 0.0), 5.0, (0.01, 0.0), 0.0, 0.0, 0.0),
    Type("cart_abandoner", (0.5, 0.5, 0.1), (0.4, 0.5, 0.1), (1.5, 1.5), 3.0, (0.35, 0.45), 0.06, 0.2, 0.1),
    Type("dormant", (0.5, 0.4, 0.4), (0.2, 0.4, 0.4), (1.5, 2.0), 3.0, (0.08, 0.3), 0.6, 0.0, 0.2, kind="dormant"),
    Type("newcomer", (0.1, 0.5, 0.3), (0.0, 0.4, 0.6), (2.5, 3.0), 3.0, (0.10, 0.3), 0.5, 0.0, 0.1,
         kind="newcomer"),
)  # fmt: skip

HISTORIES = (60, 120, 240, 365)
MIN_PERIODS = 26
PRICE_MODES = ("all", "all", "some", "none")
"""How often each price mode is drawn: known everywhere twice as often as the others."""


def _beta(rng: np.random.Generator, mean: np.ndarray, conc: float) -> np.ndarray:
    m = np.clip(mean, 1e-3, 1 - 1e-3)
    return rng.beta(m * conc, (1 - m) * conc)


def shop_config(seed: int) -> dict[str, object]:
    """The shop's draw: history, volume, noise, price mode, files and the type mix (with shares)."""
    rng = np.random.default_rng([seed, 1])
    prices = PRICE_MODES[rng.integers(len(PRICE_MODES))]
    pool = [t for t in POOL if prices != "none" or not t.needs_prices]
    n_types = int(rng.integers(4, min(7, len(pool)) + 1))
    chosen = sorted(rng.choice(len(pool), size=n_types, replace=False))
    shares = rng.dirichlet(np.full(n_types, 2.0))
    shares = np.maximum(shares, 0.04)
    shares /= shares.sum()
    return {
        "history_days": int(HISTORIES[rng.integers(len(HISTORIES))]),
        "volume": float(np.exp(rng.uniform(np.log(0.4), np.log(2.5)))),
        "noise": float(rng.uniform(0.0, 0.10)),
        "prices": prices,
        "users_file": bool(rng.random() < 0.7),
        "session_ids": bool(rng.random() < 0.5),
        "order_ids": bool(rng.random() < 0.7),
        "types": [pool[i].key for i in chosen],
        "shares": [round(float(s), 4) for s in shares],
    }


def generate(n_users: int = 8_000, seed: int = 0, *, end: date = date(2024, 11, 30)) -> PlantedShop:
    """The family's shop number ``seed`` of ``n_users`` users (its draw: :func:`shop_config`)."""
    cfg = shop_config(seed)
    rng = np.random.default_rng([seed, 2])
    by_key = {t.key: t for t in POOL}
    types = [by_key[k] for k in cfg["types"]]
    days = int(cfg["history_days"])
    # The chain's step is a week, or a shorter period in histories under half a year, so that every
    # type has time to show its habits: a short history is fewer days, not fewer chances.
    weeks = max(-(-days // 7), MIN_PERIODS)
    period_s = days * 86400 / weeks
    shares = np.array(cfg["shares"])
    kind = rng.choice(len(types), size=n_users, p=shares / shares.sum())

    # -- per-user rates: the type's, varied per user, some users blended toward another type ------
    def arr(get) -> np.ndarray:
        return np.array([get(t) for t in types], dtype=float)

    blend = np.zeros(n_users)
    other = kind.copy()
    noisy = rng.random(n_users) < float(cfg["noise"])
    if len(types) > 1:
        shift = rng.integers(1, len(types), n_users)
        other = np.where(noisy, (kind + shift) % len(types), kind)
        blend = np.where(noisy, rng.uniform(0.15, 0.35, n_users), 0.0)

    def mix(values: np.ndarray) -> np.ndarray:
        return (1 - blend[:, None] if values.ndim == 2 else 1 - blend) * values[kind] + \
            (blend[:, None] if values.ndim == 2 else blend) * values[other]

    stay = mix(arr(lambda t: t.stay).reshape(len(types), 3))
    start = mix(arr(lambda t: t.start).reshape(len(types), 3))
    volume = float(cfg["volume"])
    sessions = mix(arr(lambda t: t.sessions).reshape(len(types), 2)) * volume
    sessions *= rng.lognormal(-0.06, 0.35, (n_users, 1))
    views = mix(arr(lambda t: t.views)) * rng.lognormal(-0.08, 0.4, n_users)
    carts = mix(arr(lambda t: t.cart).reshape(len(types), 2))
    cart_b, cart_s = _beta(rng, carts[:, 0], 25.0), _beta(rng, carts[:, 1], 25.0)
    buy = _beta(rng, mix(arr(lambda t: t.buy)), 20.0)
    price_z = mix(arr(lambda t: t.price_z)) + rng.normal(0, 0.35, n_users)
    units = mix(arr(lambda t: t.units))

    # -- weeks: the Markov chain, with dormant users stopping and newcomers arriving -------------
    tkind = np.array([t.kind for t in types], dtype=object)[kind]
    first_week = np.zeros(n_users, dtype=np.int64)
    new = tkind == "newcomer"
    recent = max(1, round(0.15 * weeks))
    first_week[new] = weeks - 1 - rng.integers(1, recent + 1, int(new.sum()))
    first_week = np.maximum(first_week, 0)
    stop_week = np.full(n_users, weeks, dtype=np.int64)
    dorm = tkind == "dormant"
    stop_week[dorm] = rng.integers(max(2, weeks // 5), max(3, weeks // 2 + 1), int(dorm.sum()))
    state = np.empty((n_users, weeks), dtype=np.int8)
    u = rng.random((n_users, weeks))
    cur = (u[:, 0:1] > np.cumsum(start, axis=1)).sum(axis=1).astype(np.int8)
    for w in range(weeks):
        if w > 0:
            p_stay = stay[np.arange(n_users), cur]
            moves = u[:, w] >= p_stay
            # leaving a state: to one of the other two, the more active one first for buyers
            alt = np.where(cur == 0, 1 + (rng.random(n_users) < start[:, 2] / np.maximum(
                start[:, 1] + start[:, 2], 1e-9)), np.where(rng.random(n_users) < 0.6, 0, 3 - cur))
            alt = np.where((alt == 2) & (sessions[:, 1] <= 0), 1, alt)
            cur = np.where(moves, alt, cur).astype(np.int8)
        state[:, w] = cur
    active = (np.arange(weeks)[None, :] >= first_week[:, None]) & (np.arange(weeks)[None, :] < stop_week[:, None])
    state = np.where(active, state, 0)
    # a newcomer's first week and a dormant user's last active week are busy: they arrived / bought
    state[new, first_week[new]] = 2
    state[dorm, stop_week[dorm] - 1] = 2
    lam = np.where(state == 1, sessions[:, [0]], np.where(state == 2, sessions[:, [1]], 0.0))
    n_sess = rng.poisson(lam)
    n_sess[new, first_week[new]] = np.maximum(n_sess[new, first_week[new]], 1)
    n_sess[dorm, stop_week[dorm] - 1] = np.maximum(n_sess[dorm, stop_week[dorm] - 1], 1)

    # -- sessions -> events ----------------------------------------------------------------------
    s_user, s_week = np.nonzero(n_sess)
    reps = n_sess[s_user, s_week]
    s_user, s_week = np.repeat(s_user, reps), np.repeat(s_week, reps)
    s_state = state[s_user, s_week]
    moment = ((s_week + rng.random(s_user.size)) * period_s).astype(np.int64)
    day = np.minimum(moment // 86400, days - 1)
    s_sec = day * 86400 + rng.integers(6 * 3600, 24 * 3600 - 3600, s_user.size)
    n_s = s_user.size
    n_view = 1 + rng.geometric(1 / np.maximum(views[s_user], 1.0)) - 1
    e_s = np.repeat(np.arange(n_s), n_view)
    e_user = s_user[e_s]
    shopping = s_state[e_s] == 2
    e_sec = s_sec[e_s] + np.concatenate([np.arange(m) for m in n_view]) * rng.integers(15, 90, e_s.size)
    cart_p = np.where(shopping, cart_s[e_user], cart_b[e_user])
    carted = rng.random(e_s.size) < cart_p
    bought = carted & shopping & (rng.random(e_s.size) < buy[e_user])
    removed = carted & ~bought & (rng.random(e_s.size) < 0.2)

    n_cat = int(np.random.default_rng([seed, 3]).integers(5, 30))
    cat_median = np.exp(np.random.default_rng([seed, 4]).uniform(np.log(20), np.log(800), n_cat))
    home = rng.integers(0, n_cat, n_users)
    e_cat = np.where(rng.random(e_s.size) < 0.5, home[e_user], rng.integers(0, n_cat, e_s.size))
    z = price_z[e_user] + rng.normal(0, 0.6, e_s.size)
    e_price = np.round(cat_median[e_cat] * np.exp(0.6 * np.clip(z, -3, 3)), 1)
    # items: 200 per category, by price rank: a price identifies an item within its category
    e_item = e_cat * 200 + np.clip(((np.clip(z, -3, 3) + 3) / 6 * 200).astype(np.int64), 0, 199)

    s_end = np.zeros(n_s, dtype=np.int64)
    np.maximum.at(s_end, e_s, e_sec + 30)
    qty = 1 + rng.poisson(units[e_user[bought]])
    parts = [
        ("view", np.ones(e_s.size, dtype=bool), e_sec),
        ("cart", carted, e_sec + 8),
        ("remove_cart", removed, s_end[e_s] + 20),
        ("purchase", bought, s_end[e_s] + 60),
    ]
    frames = []
    for etype, mask, ts in parts:
        frames.append(pd.DataFrame({"u": e_user[mask], "event_type": etype, "sec": ts[mask], "item": e_item[mask],
                                    "cat": e_cat[mask], "price": e_price[mask], "s": e_s[mask],
                                    "qty": qty if etype == "purchase" else np.nan}))
    refunded = rng.random(qty.size) < 0.04
    b = np.flatnonzero(bought)[refunded]
    frames.append(pd.DataFrame({"u": e_user[b], "event_type": "refund",
                                "sec": s_end[e_s[b]] + rng.integers(1, 15, b.size) * 86400, "item": e_item[b],
                                "cat": e_cat[b], "price": e_price[b], "s": e_s[b], "qty": qty[refunded]}))
    ev = pd.concat(frames, ignore_index=True)
    ev = ev[ev["sec"] < days * 86400].sort_values("sec", kind="stable").reset_index(drop=True)

    if cfg["prices"] == "none":
        ev["price"] = np.nan
    elif cfg["prices"] == "some":
        ev.loc[rng.random(len(ev)) < 0.3, "price"] = np.nan
    start_day = pd.Timestamp(end - timedelta(days=days - 1))
    ids = np.array([f"f{seed}-{i:05d}" for i in range(n_users)], dtype=object)
    events = pd.DataFrame({
        "user_id": ids[ev["u"].to_numpy()],
        "event_type": ev["event_type"].to_numpy(),
        "ts": start_day + pd.to_timedelta(ev["sec"].to_numpy(), unit="s"),
        "item_id": "i" + ev["item"].astype(str),
        "category": "c" + ev["cat"].astype(str),
        "price": ev["price"].to_numpy(),
        "quantity": ev["qty"].to_numpy(),
    })
    if cfg["order_ids"]:
        events["order_id"] = np.where(ev["event_type"].isin(["purchase", "refund"]), "o" + ev["s"].astype(str), None)
    if cfg["session_ids"]:
        events["session_id"] = "s" + ev["s"].astype(str)
    signup_day = np.where(new, (first_week * period_s // 86400).astype(np.int64), -rng.integers(30, 1500, n_users))
    users = pd.DataFrame({"user_id": ids,
                          "signup_date": (start_day + pd.to_timedelta(signup_day, unit="D")).strftime("%Y-%m-%d")})
    if not cfg["users_file"]:
        users = users.iloc[:0]
    truth = pd.Series(np.array([t.key for t in types], dtype=object)[kind], index=pd.Index(ids, name="user_id"),
                      name="type")
    seen = set(events["user_id"]) | set(users["user_id"])
    truth = truth[truth.index.isin(seen)]
    return PlantedShop(f"family-{seed}", events, users, truth, end + timedelta(days=1),
                       params={"n_users": n_users, "seed": seed, **cfg})
