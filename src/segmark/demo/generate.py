"""The sample shop: a synthetic but realistic online shop whose right answer is known.

``generate_shop`` is pure (a seed in, frames out, no clock, no files): users, items and a year of
behaviour events made by six planted behaviour types. Writing them is the job of
``segmark.demo.files.write_shop``.

How the events are made (vectorised with NumPy; no per-event Python loop):

1. Users get a behaviour type (exact shares, shuffled), attributes, a signup date and an active
   span: from signup (or the window start) to the end, less the type's quiet tail (lapsed users).
   Every rate of the type is drawn again per user (log-normal visit rate, beta-distributed funnel
   rates, a jittered price taste), so users of one type vary and types overlap at the edges.
2. Sessions: a Poisson number per user, proportional to the visit rate and the active days.
   Days are drawn from the type's seasonal weights (weekly pattern, shopping festivals) by
   inverse CDF, hours from an evening-peaked profile with a midnight rush on festival peak days.
   A session starts on the signup day when the user signed up inside the window, and a user's
   sessions never overlap (they are pushed apart by at least 31 minutes).
3. Inside a session: searches and views in random order, mostly in one category; each view picks
   an item by Zipf popularity within the category, tilted by the user's price taste. A first view
   of an item may become a favourite and a cart; a cart may be removed or bought; all lines
   bought in one session form one order, placed after the last cart. A type's
   ``first_visit_buys`` share of users order in their first session whatever the rates say
   (lapsed users were buyers; most newcomers sign up at checkout). Prices seen are list prices
   less the festival discount of the day; an order may use a coupon (10-30% off its lines). A
   bought line may be refunded 1-14 days later (same order, item, price and quantity).
4. Events after the window's end are cut off, so a child event (cart, purchase, refund) never
   exists without its parent. Then each dirty row is inserted right after the clean row it copies,
   with exactly one fault, and exact duplicates likewise: dropping the dirty rows gives back the
   clean shop. Order and session ids grow with time, user ids with signup date.

The planted types (``BEHAVIOUR_TYPES``; type means, drawn again per user; per user and year at the
default rates):

==================  =====  =========================================================================
type                share  signature
==================  =====  =========================================================================
loyal_high_spender   10%   a visit every ~2 weeks all year, carts 45% of viewed items and buys 80%
忠诚高消费用户               of those: ~12 orders; premium items (price taste +1.5, paid ~2x the
                           category median); long tenure; recent (last visit within ~2 weeks)
bargain_hunter       18%   most searches; cheap items (taste -2, paid ~0.5x the median), coupons
价格敏感用户                  on 80% of orders, more units per line, festival-driven: ~6 orders
window_shopper       25%   the most views per visit (5) and favourites; carts 0.1% of viewed
只逛不买用户                  items: almost never an order
cart_abandoner       15%   carts 75% of viewed items, removes 30%, buys 6% of the rest: one order
加购未买用户                  in the first visit, then rarely another; ~90% of carted items unbought
lapsed               20%   ordinary buyers (at least one order), then no visit in the last
流失用户                     135-240 days (no event at all in the last 120)
newcomer             12%   signed up in the last 60 days; visits often but briefly; 90% order in
新用户                      their first visit, often with a new-user coupon
==================  =====  =========================================================================

No type is defined by one value: each differs from every other on several of recency, frequency,
spend, order value, views, carts, funnel rates, price level, coupon use and tenure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segmark.schema import EVENT_TYPES

# --------------------------------------------------------------------------------------------
# The shop's data: behaviour types, categories, festivals, attributes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BehaviourType:
    """One planted kind of shopper: type means of every behaviour rate (varied per user)."""

    key: str
    label_zh: str
    share: float
    visits_per_day: float
    """Mean sessions per active day (log-normal per user, sigma 0.5)."""
    views_per_visit: float
    """Mean item views per session, at least 1."""
    searches_per_visit: float
    cart_rate: float
    """Probability that the first view of an item in a session puts it in the cart."""
    fav_rate: float
    remove_rate: float
    """Probability that a carted item is removed again."""
    buy_rate: float
    """Probability that a carted item that stays in the cart is bought in that session."""
    refund_rate: float
    price_taste: float
    """Exponent of (price / category median) in item choice: < 0 cheap, > 0 premium."""
    coupon_rate: float
    """Probability that an order is paid with a coupon (10-30% off every line of it)."""
    extra_units: float
    """Mean extra units per bought line (Poisson), on top of one."""
    festival_pull: float
    """How much festivals lift this type's visits: 1 = the full festival lift, 0 = none."""
    signup_days: tuple[int, int]
    """Signup this many days before the end (uniform, inclusive)."""
    quiet_days: tuple[int, int] = (0, 0)
    """No activity in the last N days, N uniform in the range (inclusive)."""
    first_visit_buys: float = 0.0
    """Probability that the first session ends in an order whatever the rates say."""
    member_levels: tuple[float, float, float, float] = (0.6, 0.25, 0.12, 0.03)
    """Probabilities of 普通会员, 银卡, 金卡, 钻石."""
    age_mean: float = 31.0


BEHAVIOUR_TYPES: tuple[BehaviourType, ...] = (
    BehaviourType(
        "loyal_high_spender", "忠诚高消费用户", 0.10,
        visits_per_day=0.07, views_per_visit=2.0, searches_per_visit=0.3,
        cart_rate=0.45, fav_rate=0.06, remove_rate=0.10, buy_rate=0.80, refund_rate=0.03,
        price_taste=1.5, coupon_rate=0.10, extra_units=0.3, festival_pull=0.6, signup_days=(400, 2500),
        member_levels=(0.05, 0.25, 0.45, 0.25), age_mean=36.0,
    ),
    BehaviourType(
        "bargain_hunter", "价格敏感用户", 0.18,
        visits_per_day=0.04, views_per_visit=2.5, searches_per_visit=1.0,
        cart_rate=0.40, fav_rate=0.10, remove_rate=0.20, buy_rate=0.75, refund_rate=0.10,
        price_taste=-2.0, coupon_rate=0.80, extra_units=0.8, festival_pull=1.5, signup_days=(180, 2000),
        member_levels=(0.40, 0.35, 0.20, 0.05), age_mean=33.0,
    ),
    BehaviourType(
        "window_shopper", "只逛不买用户", 0.25,
        visits_per_day=0.035, views_per_visit=5.0, searches_per_visit=0.5,
        cart_rate=0.001, fav_rate=0.10, remove_rate=0.30, buy_rate=0.05, refund_rate=0.05,
        price_taste=0.0, coupon_rate=0.20, extra_units=0.1, festival_pull=1.0, signup_days=(180, 2000),
        member_levels=(0.70, 0.20, 0.08, 0.02), age_mean=27.0,
    ),
    BehaviourType(
        "cart_abandoner", "加购未买用户", 0.15,
        visits_per_day=0.04, views_per_visit=2.5, searches_per_visit=0.4,
        cart_rate=0.75, fav_rate=0.04, remove_rate=0.30, buy_rate=0.06, refund_rate=0.05,
        price_taste=0.3, coupon_rate=0.10, extra_units=0.2, festival_pull=1.2, signup_days=(180, 2000),
        first_visit_buys=1.0, member_levels=(0.60, 0.25, 0.12, 0.03), age_mean=28.0,
    ),
    BehaviourType(
        "lapsed", "流失用户", 0.20,
        visits_per_day=0.04, views_per_visit=2.5, searches_per_visit=0.4,
        cart_rate=0.30, fav_rate=0.05, remove_rate=0.15, buy_rate=0.60, refund_rate=0.10,
        price_taste=0.3, coupon_rate=0.20, extra_units=0.2, festival_pull=1.0, signup_days=(400, 2500),
        quiet_days=(135, 240), first_visit_buys=1.0,
        member_levels=(0.35, 0.35, 0.22, 0.08), age_mean=35.0,
    ),
    BehaviourType(
        "newcomer", "新用户", 0.12,
        visits_per_day=0.08, views_per_visit=3.0, searches_per_visit=0.6,
        cart_rate=0.20, fav_rate=0.08, remove_rate=0.20, buy_rate=0.35, refund_rate=0.05,
        price_taste=0.0, coupon_rate=0.50, extra_units=0.1, festival_pull=0.5, signup_days=(0, 60),
        first_visit_buys=0.9, member_levels=(0.95, 0.05, 0.0, 0.0), age_mean=25.0,
    ),
)  # fmt: skip
"""The default planted types: the shares sum to 1; see the module docstring for the signatures."""


@dataclass(frozen=True)
class Category:
    """An item category: its catalogue share, traffic share and log-normal list prices."""

    name: str
    item_share: float
    traffic_share: float
    median_price: float
    price_sigma: float
    brands: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category("服装", 0.18, 0.18, 129.0, 0.6, ("云裳", "北纬", "Linen&Co", "素语", "木棉")),
    Category("美妆", 0.12, 0.14, 159.0, 0.6, ("花漾", "Lumière", "青黛", "水研", "若兰")),
    Category("数码", 0.08, 0.10, 899.0, 0.9, ("极客", "NovaTech", "星核", "闪电", "Pixelio")),
    Category("家居", 0.12, 0.10, 99.0, 0.7, ("栖木", "暖居", "HomeNest", "简作", "拾光")),
    Category("食品", 0.12, 0.14, 39.0, 0.5, ("田园记", "味小满", "山野", "GoodGrain", "麦香")),
    Category("母婴", 0.08, 0.08, 119.0, 0.6, ("贝贝乐", "小象", "Tiny Steps", "安芽", "童心")),
    Category("运动", 0.08, 0.07, 199.0, 0.6, ("跃动", "Northpeak", "疾风", "弧线", "RunLab")),
    Category("图书", 0.08, 0.05, 45.0, 0.4, ("书香", "启明", "PageOne", "知行", "墨韵")),
    Category("家电", 0.05, 0.05, 699.0, 0.8, ("匠电", "清风", "Voltera", "智居", "恒温")),
    Category("宠物", 0.04, 0.04, 69.0, 0.6, ("毛孩子", "PawPal", "喵星", "汪汪队", "宠爱")),
    Category("箱包", 0.05, 0.05, 259.0, 0.7, ("行者", "Cartera", "轻旅", "背影", "都市包")),
)
"""Categories (Chinese names as Chinese shops use them) with fictional brands."""


@dataclass(frozen=True)
class Festival:
    """A shopping festival: days of the year that lift visits and cut prices."""

    name: str
    name_zh: str
    month: int
    first_day: int
    last_day: int
    lift: float
    """Multiplier of the visit weight on these days (before the type's festival pull)."""
    discount: float
    """Multiplier of list prices on these days."""


FESTIVALS: tuple[Festival, ...] = (
    Festival("Women's Day", "女神节", 3, 7, 8, 1.6, 0.9),
    Festival("618 presale", "618预售", 6, 1, 17, 1.3, 0.92),
    Festival("618", "618", 6, 18, 18, 3.5, 0.8),
    Festival("Double 11 presale", "双11预售", 11, 1, 10, 1.4, 0.92),
    Festival("Double 11", "双11", 11, 11, 11, 5.0, 0.8),
    Festival("Double 12", "双12", 12, 12, 12, 2.5, 0.85),
)
"""Festivals by month and day, so that they apply to any window (years without a fixed lunar date)."""

WEEKDAY_WEIGHTS = np.array([0.92, 0.94, 0.96, 0.98, 1.04, 1.10, 1.06])
"""Visit weight by weekday, Monday first: Friday to Sunday are busier."""

HOUR_WEIGHTS = np.array(
    [0.60, 0.35, 0.20, 0.12, 0.10, 0.12, 0.25, 0.50, 0.75, 0.85, 0.90, 0.95,
     1.10, 1.00, 0.90, 0.90, 0.95, 1.00, 1.10, 1.30, 1.60, 1.80, 1.60, 1.10]
)  # fmt: skip
"""Session start weight by local hour: a lunch bump and the evening peak at 21:00."""

MIDNIGHT_RUSH = 0.3
"""Share of sessions that start just after midnight on festival peak days (lift >= 2.5)."""

CITIES: tuple[tuple[str, str, str, float], ...] = (
    ("北京", "Beijing", "北京", 0.10), ("上海", "Shanghai", "上海", 0.10),
    ("广州", "Guangzhou", "广东", 0.07), ("深圳", "Shenzhen", "广东", 0.07),
    ("杭州", "Hangzhou", "浙江", 0.06), ("成都", "Chengdu", "四川", 0.06),
    ("重庆", "Chongqing", "重庆", 0.05), ("武汉", "Wuhan", "湖北", 0.05),
    ("南京", "Nanjing", "江苏", 0.05), ("西安", "Xi'an", "陕西", 0.04),
    ("苏州", "Suzhou", "江苏", 0.04), ("天津", "Tianjin", "天津", 0.04),
    ("长沙", "Changsha", "湖南", 0.04), ("郑州", "Zhengzhou", "河南", 0.04),
    ("青岛", "Qingdao", "山东", 0.03), ("厦门", "Xiamen", "福建", 0.03),
    ("合肥", "Hefei", "安徽", 0.03), ("昆明", "Kunming", "云南", 0.03),
    ("沈阳", "Shenyang", "辽宁", 0.03), ("哈尔滨", "Harbin", "黑龙江", 0.03),
)  # fmt: skip
"""(city, English name, province, weight)."""

MEMBER_LEVELS = ("普通会员", "银卡", "金卡", "钻石")
CHANNELS = ("app", "mini-program", "web")
CHANNEL_WEIGHTS = np.array([0.60, 0.25, 0.15])
DEVICES = ("iOS", "Android", "HarmonyOS", "PC")

ENGLISH_SHARE = 0.10
"""Share of users whose gender and city are written in English (female/male, Beijing)."""
MISSING_SHARE = 0.04
"""Share of users with no age, and (separately) no gender; missing is allowed, not dirty."""

# Dirty rows: each has exactly one fault, so ingestion rejects it for exactly one reason.
DIRTY_EVENT_KINDS = (
    "events.unparseable_timestamp",
    "events.unknown_event_type",
    "events.negative_price",
    "events.non_numeric_price",
    "events.empty_user_id",
    "events.duplicate",
)
DIRTY_USER_KINDS = ("users.age_out_of_range", "users.unparseable_signup_date", "users.empty_user_id")
BAD_TIMESTAMPS = (
    "2025-13-45 99:00:00",
    "yesterday",
    "2025/02/30 25:61:00",
    "昨天 20:15",
    "0000-00-00 00:00:00",
)
UNKNOWN_EVENT_TYPES = ("click_ad", "share", "coupon_claim", "live_like")
BAD_AGES = (200, 150, -3, 999)
BAD_SIGNUP_DATES = ("2025-02-30", "unknown", "去年", "13/13/2024")

VISIT_SIGMA = 0.25
"""Spread (log-normal sigma) of a user's visit rate and views per visit around the type's mean."""
RATE_CONCENTRATION = 40.0
"""Beta concentration of a user's funnel rates around the type's mean (sd = sqrt(m(1-m)/41))."""

SESSION_GAP_S = 31 * 60
"""Least idle time between two sessions of one user: longer than the usual 30-minute session rule."""
_SESSION_TAIL_S = 420
"""Upper bound of the time after a session's last view taken by its carts, removals and order."""
_TASTE_GRID = np.arange(-3.0, 3.01, 0.5)

_VIEW, _SEARCH, _CART, _REMOVE, _FAV, _PURCHASE, _REFUND = (
    EVENT_TYPES.index(t) for t in ("view", "search", "cart", "remove_cart", "fav", "purchase", "refund")
)

EVENT_COLUMNS = (
    "user_id", "event_type", "ts", "item_id", "category", "price", "quantity", "order_id", "session_id",
    "channel",
)  # fmt: skip
USER_COLUMNS = ("user_id", "signup_date", "gender", "age", "city", "member_level", "province", "device")
ITEM_COLUMNS = ("item_id", "category", "brand", "price")


@dataclass
class Shop:
    """A generated shop: the rows of its files, the planted truth and the planted faults.

    ``events`` and ``users`` are the files' rows as text would have them: ``ts`` is a local
    (Asia/Shanghai) date-time string and ``price`` a string, because dirty rows hold values
    such as ``'yesterday'`` or ``'12元'``. ``items`` and ``truth`` are clean.
    """

    users: pd.DataFrame
    items: pd.DataFrame
    events: pd.DataFrame
    truth: pd.DataFrame
    dirty: dict[str, int]
    end: date
    timezone: str = "Asia/Shanghai"
    params: dict[str, object] = field(default_factory=dict)

    @property
    def as_of(self) -> date:
        """The first day after the window: the natural ``as_of`` for features."""
        return self.end + timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def generate_shop(
    n_users: int = 50_000,
    seed: int = 0,
    end: date = date(2025, 12, 31),
    days: int = 365,
    events_per_user: float | None = None,
    dirty_share: float = 0.005,
    n_items: int = 5_000,
    types: Sequence[BehaviourType] = BEHAVIOUR_TYPES,
) -> Shop:
    """Make a synthetic shop of ``n_users`` over the ``days`` ending on ``end`` (inclusive).

    ``events_per_user`` rescales every type's visit rate so that the shop has about that many
    clean events per user (default: the types' own rates, about 63 per user); the types keep
    their differences. ``dirty_share`` is the number of dirty event rows inserted, as a share of
    the clean ones, split evenly over ``DIRTY_EVENT_KINDS`` (at least one of each when positive);
    a fifth of that share of user rows get each of ``DIRTY_USER_KINDS``, one fault per row. The
    counts are in ``Shop.dirty``. ``n_items`` is the catalogue size. The same arguments always
    give the same shop.
    """
    if n_users < 1:
        raise ValueError(f"n_users must be at least 1, got {n_users}")
    if days < 300:
        raise ValueError(f"days must be at least 300 (lapsed users need a long quiet tail), got {days}")
    if events_per_user is not None and events_per_user <= 0:
        raise ValueError(f"events_per_user must be positive, got {events_per_user}")
    if n_items < 4 * len(CATEGORIES):
        raise ValueError(f"n_items must be at least {4 * len(CATEGORIES)}, got {n_items}")
    if not 0 <= dirty_share < 0.2:
        raise ValueError(f"dirty_share must be in [0, 0.2), got {dirty_share}")
    if not types:
        raise ValueError("types must not be empty")
    if abs(sum(t.share for t in types) - 1.0) > 1e-6:
        raise ValueError("the shares of the behaviour types must sum to 1")
    if any(t.quiet_days[1] >= days - 30 for t in types):
        raise ValueError("a type's quiet tail must leave at least 30 active days in the window")
    return _generate(n_users, seed, end, days, events_per_user, dirty_share, n_items, tuple(types))


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


@dataclass
class _Calendar:
    """Per day of the window: weekday, festival lift and price discount."""

    start: np.datetime64
    weekday: np.ndarray
    lift: np.ndarray
    discount: np.ndarray


@dataclass
class _Catalog:
    category: np.ndarray  # category index per item
    price: np.ndarray  # list price per item
    brand: np.ndarray  # brand label per item (object)
    cdf: np.ndarray  # concatenated choice CDFs, one block per (taste level, category)
    cdf_item: np.ndarray  # item index of each CDF entry


@dataclass
class _People:
    kind: np.ndarray  # behaviour type index
    signup: np.ndarray  # signup day index (negative: before the window)
    first_day: np.ndarray
    last_day: np.ndarray
    visits: np.ndarray  # expected sessions over the active span
    view_mult: np.ndarray
    cart_rate: np.ndarray
    fav_rate: np.ndarray
    remove_rate: np.ndarray
    buy_rate: np.ndarray
    refund_rate: np.ndarray
    coupon_rate: np.ndarray
    taste_level: np.ndarray
    first_buys: np.ndarray  # bool
    pref_cdf: np.ndarray  # (n_users, n_categories) cumulative category preference
    channel: np.ndarray  # preferred channel index


def _generate(
    n_users: int,
    seed: int,
    end: date,
    days: int,
    events_per_user: float | None,
    dirty_share: float,
    n_items: int,
    types: tuple[BehaviourType, ...],
) -> Shop:
    rng = np.random.default_rng(seed)
    cal = _calendar(end, days)
    catalog = _catalog(rng, n_items)
    people = _people(rng, n_users, days, types)
    if events_per_user is not None:
        people.visits = _rescale_visits(people.visits, _events_per_visit(people, types), events_per_user * n_users)
    ev = _events(rng, people, catalog, cal, types, days)

    # Ids follow signup order (U000001 joined first), and the user files list users in id order.
    rank = np.empty(n_users, dtype=np.int64)
    rank[np.argsort(people.signup, kind="stable")] = np.arange(n_users)
    ids = _ids("U", n_users)[rank]
    listing = np.argsort(rank)
    users = _users_frame(rng, ids, people, types, cal).iloc[listing].reset_index(drop=True)
    items = pd.DataFrame(
        {
            "item_id": pd.array(_ids("I", n_items), dtype="str"),
            "category": pd.array(np.array([c.name for c in CATEGORIES], dtype=object)[catalog.category], dtype="str"),
            "brand": pd.array(catalog.brand, dtype="str"),
            "price": catalog.price,
        }
    )
    truth = pd.DataFrame(
        {
            "user_id": pd.array(ids, dtype="str"),
            "behaviour_type": pd.array(np.array([t.key for t in types], dtype=object)[people.kind], dtype="str"),
            "behaviour_type_zh": pd.array(
                np.array([t.label_zh for t in types], dtype=object)[people.kind], dtype="str"
            ),
        }
    )
    truth = truth.iloc[listing].reset_index(drop=True)
    events, dirty = _events_frame(rng, ev, ids, catalog, cal, dirty_share)
    users, dirty_users = _dirty_users(rng, users, dirty_share)
    dirty.update(dirty_users)
    params: dict[str, object] = {
        "n_users": n_users, "seed": seed, "end": end.isoformat(), "days": days,
        "events_per_user": events_per_user, "dirty_share": dirty_share, "n_items": n_items,
    }  # fmt: skip
    return Shop(users=users, items=items, events=events, truth=truth, dirty=dirty, end=end, params=params)


def _calendar(end: date, days: int) -> _Calendar:
    start = np.datetime64(end - timedelta(days=days - 1), "D")
    dates = start + np.arange(days)
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    month_start = dates.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day = (dates - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    lift = np.ones(days)
    discount = np.ones(days)
    for f in FESTIVALS:
        on = (month == f.month) & (day >= f.first_day) & (day <= f.last_day)
        lift[on] = f.lift
        discount[on] = f.discount
    return _Calendar(start=start, weekday=weekday, lift=lift, discount=discount)


def _catalog(rng: np.random.Generator, n_items: int) -> _Catalog:
    """Items with log-normal list prices per category and Zipf popularity within a category."""
    k = len(CATEGORIES)
    item_share = np.array([c.item_share for c in CATEGORIES])
    counts = np.maximum(_exact_counts(item_share / item_share.sum(), n_items - 2 * k) + 2, 2)
    category = rng.permutation(np.repeat(np.arange(k), counts))
    median = np.array([c.median_price for c in CATEGORIES])[category]
    sigma = np.array([c.price_sigma for c in CATEGORIES])[category]
    raw = median * np.exp(sigma * rng.standard_normal(n_items))
    price = np.where(raw >= 10, np.round(raw) - 0.1, np.round(np.maximum(raw, 0.5), 1))
    # Zipf: popularity rank within the category, in random order of item id.
    order = np.lexsort((rng.random(n_items), category))
    rank = np.empty(n_items, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(np.bincount(category, minlength=k))[:-1]))
    rank[order] = np.arange(n_items) - np.repeat(starts, np.bincount(category, minlength=k)) + 1
    popularity = rank.astype(float) ** -1.05
    brand_tables = [np.array(c.brands, dtype=object) for c in CATEGORIES]
    brand = np.empty(n_items, dtype=object)
    for ci, table in enumerate(brand_tables):
        mine = np.flatnonzero(category == ci)
        weights = 1.0 / np.arange(1, len(table) + 1)
        brand[mine] = table[rng.choice(len(table), size=mine.size, p=weights / weights.sum())]
    # One choice CDF per (price taste level, category), concatenated; block b spans (b, b + 1].
    rel = price / median
    blocks = []
    for beta in _TASTE_GRID:
        w = popularity[order] * rel[order] ** beta
        for ci in range(k):
            sel = category[order] == ci
            cw = np.cumsum(w[sel])
            cw /= cw[-1]
            cw[-1] = 1.0
            blocks.append(cw)
    cdf = np.concatenate(blocks) + np.repeat(np.arange(len(_TASTE_GRID) * k, dtype=float), [b.size for b in blocks])
    cdf_item = np.tile(np.concatenate([order[category[order] == ci] for ci in range(k)]), len(_TASTE_GRID))
    return _Catalog(category=category, price=price, brand=brand, cdf=cdf, cdf_item=cdf_item)


def _people(rng: np.random.Generator, n: int, days: int, types: tuple[BehaviourType, ...]) -> _People:
    """Assign types (exact shares) and draw every per-user behaviour parameter."""
    shares = np.array([t.share for t in types])
    kind = rng.permutation(np.repeat(np.arange(len(types)), _exact_counts(shares, n)))

    def col(attr: str) -> np.ndarray:
        return np.array([getattr(t, attr) for t in types], dtype=float)[kind]

    lo = np.array([t.signup_days[0] for t in types])[kind]
    hi = np.array([t.signup_days[1] for t in types])[kind]
    signup = (days - 1) - rng.integers(lo, hi + 1)
    qlo = np.array([t.quiet_days[0] for t in types])[kind]
    qhi = np.array([t.quiet_days[1] for t in types])[kind]
    first_day = np.maximum(signup, 0)
    last_day = np.maximum((days - 1) - rng.integers(qlo, qhi + 1), first_day)
    active = last_day - first_day + 1
    visits = col("visits_per_day") * active * rng.lognormal(-(VISIT_SIGMA**2) / 2, VISIT_SIGMA, n)
    taste = col("price_taste") + rng.normal(0.0, 0.4, n)
    taste_level = np.clip(np.rint((taste - _TASTE_GRID[0]) / 0.5), 0, len(_TASTE_GRID) - 1).astype(np.int64)
    traffic = np.array([c.traffic_share for c in CATEGORIES])
    pref = rng.gamma(np.tile(0.6 * len(CATEGORIES) * traffic / traffic.sum(), (n, 1)))
    pref_cdf = np.cumsum(pref, axis=1)
    pref_cdf /= pref_cdf[:, -1:]
    preferred_channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_WEIGHTS)
    return _People(
        kind=kind,
        signup=signup,
        first_day=first_day,
        last_day=last_day,
        visits=visits,
        view_mult=rng.lognormal(-(VISIT_SIGMA**2) / 2, VISIT_SIGMA, n),
        cart_rate=_beta(rng, col("cart_rate")),
        fav_rate=_beta(rng, col("fav_rate")),
        remove_rate=_beta(rng, col("remove_rate")),
        buy_rate=_beta(rng, col("buy_rate")),
        refund_rate=_beta(rng, col("refund_rate")),
        coupon_rate=_beta(rng, col("coupon_rate")),
        taste_level=taste_level,
        first_buys=rng.random(n) < col("first_visit_buys"),
        pref_cdf=pref_cdf,
        channel=preferred_channel,
    )


def _events_per_visit(p: _People, types: tuple[BehaviourType, ...]) -> np.ndarray:
    """Expected clean events of one session, per user (for rescaling to ``events_per_user``)."""
    views = 1 + (np.array([t.views_per_visit for t in types])[p.kind] - 1) * p.view_mult
    searches = np.array([t.searches_per_visit for t in types])[p.kind] * p.view_mult
    kept = p.cart_rate * (1 - p.remove_rate)
    per_view = 1 + p.fav_rate + p.cart_rate * (1 + p.remove_rate) + kept * p.buy_rate * (1 + p.refund_rate)
    return searches + views * per_view


def _rescale_visits(visits: np.ndarray, per_visit: np.ndarray, target: float) -> np.ndarray:
    """Scale the expected sessions so that the expected events total ``target``.

    A user has max(1, Poisson(lambda)) sessions, whose mean is lambda + exp(-lambda): solved for
    the common scale by a few multiplicative fixed-point steps (the total rises with the scale).
    """
    scale = target / float(np.sum(visits * per_visit))
    for _ in range(8):
        lam = visits * scale
        scale *= target / float(np.sum((lam + np.exp(-lam)) * per_visit))
    return visits * scale


@dataclass
class _Events:
    """Clean events as parallel arrays, sorted by time; -1 / NaN mark absent values."""

    user: np.ndarray
    etype: np.ndarray
    ts: np.ndarray  # seconds since the window's first local midnight
    item: np.ndarray
    category: np.ndarray
    price: np.ndarray
    quantity: np.ndarray
    order: np.ndarray
    session: np.ndarray
    channel: np.ndarray
    n_orders: int
    n_sessions: int


def _events(
    rng: np.random.Generator,
    p: _People,
    catalog: _Catalog,
    cal: _Calendar,
    types: tuple[BehaviourType, ...],
    days: int,
) -> _Events:
    n_users = p.kind.size
    t = types
    # -- sessions: how many, which day, which hour; sorted by user and start -------------------
    n_sess = np.maximum(rng.poisson(p.visits), 1)
    s_user = np.repeat(np.arange(n_users), n_sess)
    s_day = _session_days(rng, s_user, p, cal, t)
    first_of_user = np.concatenate(([0], np.cumsum(n_sess)[:-1]))
    joins_inside = p.signup[s_user[first_of_user]] >= 0
    s_day[first_of_user[joins_inside]] = p.signup[joins_inside]
    hour = rng.choice(24, size=s_user.size, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    rush = (cal.lift[s_day] >= 2.5) & (rng.random(s_user.size) < MIDNIGHT_RUSH)
    hour[rush] = 0
    s_start = s_day * 86400 + hour * 3600 + rng.integers(0, 3600, s_user.size)
    order = np.lexsort((s_start, s_user))
    s_user, s_start = s_user[order], s_start[order]
    n_s = s_user.size
    s_first = np.zeros(n_s, dtype=bool)
    s_first[np.concatenate(([0], np.flatnonzero(np.diff(s_user)) + 1))] = True
    s_forced = s_first & p.first_buys[s_user]
    switch = rng.random(n_s) < 0.2
    s_channel = np.where(switch, rng.choice(len(CHANNELS), size=n_s, p=CHANNEL_WEIGHTS), p.channel[s_user])
    s_focus = _draw_category(rng, p.pref_cdf[s_user])

    # -- steps inside a session: searches and views in random order -------------------------
    kind_t = p.kind[s_user]
    vm = p.view_mult[s_user]
    n_search = rng.poisson(np.array([x.searches_per_visit for x in t])[kind_t] * vm)
    n_view = 1 + rng.poisson((np.array([x.views_per_visit for x in t])[kind_t] - 1) * vm)
    n_steps = n_search + n_view
    st_sess = np.repeat(np.arange(n_s), n_steps)
    st_first = np.concatenate(([0], np.cumsum(n_steps)[:-1]))
    pos = np.arange(st_sess.size) - st_first[st_sess]
    is_search = pos < n_search[st_sess]
    is_search = is_search[np.lexsort((rng.random(st_sess.size), st_sess))]
    gap = np.minimum(5 + rng.exponential(40.0, st_sess.size), 1200).astype(np.int64)
    gap[st_first] = 0
    offset = _grouped_cumsum(gap, st_first, n_steps)
    last_offset = offset[st_first + n_steps - 1]
    s_start = _push_apart(s_user, s_start, last_offset + _SESSION_TAIL_S)

    # -- searches ------------------------------------------------------------------------------
    sr = np.flatnonzero(is_search)
    searches = dict(
        sess=st_sess[sr], etype=_SEARCH, ts=s_start[st_sess[sr]] + offset[sr],
        item=-1, category=s_focus[st_sess[sr]],
    )  # fmt: skip

    # -- views: category in focus or not, item by taste-tilted Zipf popularity ---------------
    vw = np.flatnonzero(~is_search)
    v_sess = st_sess[vw]
    v_user = s_user[v_sess]
    v_ts = s_start[v_sess] + offset[vw]
    v_cat = s_focus[v_sess].copy()
    stray = rng.random(vw.size) < 0.25
    v_cat[stray] = _draw_category(rng, p.pref_cdf[v_user[stray]])
    block = p.taste_level[v_user] * len(CATEGORIES) + v_cat
    pick = np.searchsorted(catalog.cdf, block + rng.random(vw.size), side="right")
    v_item = catalog.cdf_item[np.minimum(pick, catalog.cdf.size - 1)]
    views = dict(sess=v_sess, etype=_VIEW, ts=v_ts, item=v_item, category=v_cat)

    # -- favourites, carts, removals, orders ---------------------------------------------------
    n_items = catalog.price.size
    _, first_idx = np.unique(v_sess.astype(np.int64) * n_items + v_item, return_index=True)
    first_view = np.zeros(vw.size, dtype=bool)
    first_view[first_idx] = True
    opener = np.zeros(vw.size, dtype=bool)
    opener[np.concatenate(([0], np.flatnonzero(np.diff(v_sess)) + 1))] = True  # first view of a session
    forced = opener & s_forced[v_sess]
    fav = first_view & (rng.random(vw.size) < p.fav_rate[v_user])
    cart = (first_view & (rng.random(vw.size) < p.cart_rate[v_user])) | forced
    removed = cart & ~forced & (rng.random(vw.size) < p.remove_rate[v_user])
    bought = cart & ~removed & ((rng.random(vw.size) < p.buy_rate[v_user]) | forced)

    fv = np.flatnonzero(fav)
    favs = dict(sess=v_sess[fv], etype=_FAV, ts=v_ts[fv] + rng.integers(2, 31, fv.size),
                item=v_item[fv], category=v_cat[fv])  # fmt: skip
    cv = np.flatnonzero(cart)
    c_ts = v_ts[cv] + rng.integers(3, 61, cv.size)
    units = 1 + rng.poisson(np.array([x.extra_units for x in t])[p.kind[v_user[cv]]])
    carts = dict(sess=v_sess[cv], etype=_CART, ts=c_ts, item=v_item[cv], category=v_cat[cv], quantity=units)
    rv = removed[cv]
    removes = dict(sess=v_sess[cv][rv], etype=_REMOVE, ts=c_ts[rv] + rng.integers(10, 301, int(rv.sum())),
                   item=v_item[cv][rv], category=v_cat[cv][rv], quantity=units[rv])  # fmt: skip
    bv = bought[cv]
    b_sess = v_sess[cv][bv]
    order_sessions = np.flatnonzero(np.bincount(b_sess, minlength=n_s))
    order_ts = s_start + last_offset + 60 + rng.integers(30, 301, n_s)
    n_orders = order_sessions.size
    order_of_session = np.full(n_s, -1, dtype=np.int64)
    order_of_session[order_sessions] = _rank(order_ts[order_sessions])  # ids grow with time, as a shop's do
    b_ts = order_ts[b_sess]
    # A coupon takes 10-30% off every line of an order.
    coupon = np.where(rng.random(n_s) < p.coupon_rate[s_user], rng.uniform(0.7, 0.9, n_s), 1.0)
    purchases = dict(sess=b_sess, etype=_PURCHASE, ts=b_ts, item=v_item[cv][bv], category=v_cat[cv][bv],
                     quantity=units[bv], order=order_of_session[b_sess], paid=coupon[b_sess])  # fmt: skip

    # -- refunds: days later, in a visit of their own ------------------------------------------
    b_user = s_user[b_sess]
    rf = np.flatnonzero(rng.random(b_sess.size) < p.refund_rate[b_user])
    r_ts = b_ts[rf] + rng.integers(86400, 14 * 86400, rf.size)
    keep = r_ts < days * 86400
    rf, r_ts = rf[keep], r_ts[keep]
    # Two refunds of one item by one user in the same second would be one line twice: keep one.
    if rf.size:
        _, uniq = np.unique(np.stack([b_user[rf], r_ts, purchases["item"][rf]]), axis=1, return_index=True)
        rf, r_ts = rf[np.sort(uniq)], r_ts[np.sort(uniq)]
    r_sess = n_s + np.arange(rf.size)
    refunds = dict(sess=r_sess, etype=_REFUND, ts=r_ts, item=purchases["item"][rf],
                   category=purchases["category"][rf], quantity=units[bv][rf],
                   order=purchases["order"][rf], paid=purchases["paid"][rf],
                   paid_day=b_ts[rf] // 86400)  # fmt: skip

    # -- assemble, price, cut at the window's end, sort by time --------------------------------
    parts = [searches, views, favs, carts, removes, purchases, refunds]
    sess = np.concatenate([x["sess"] for x in parts])
    all_channel = np.concatenate([s_channel, s_channel[b_sess[rf]]])
    all_user = np.concatenate([s_user, b_user[rf]])
    ev_ts = np.concatenate([x["ts"] for x in parts])
    n_each = [x["sess"].size for x in parts]
    etype = np.repeat(np.array([x["etype"] for x in parts]), n_each)
    item = np.concatenate([np.broadcast_to(x["item"], (m,)) for x, m in zip(parts, n_each, strict=True)])
    category = np.concatenate([np.broadcast_to(x["category"], (m,)) for x, m in zip(parts, n_each, strict=True)])
    quantity = np.concatenate([x.get("quantity", np.full(m, -1)) for x, m in zip(parts, n_each, strict=True)])
    order_col = np.concatenate([x.get("order", np.full(m, -1)) for x, m in zip(parts, n_each, strict=True)])
    # The price seen is the list price times that day's festival discount; the price paid takes
    # the order's coupon off that; a refund returns what was paid on the purchase day.
    price_day = np.minimum(ev_ts // 86400, days - 1)
    price_day[etype == _REFUND] = refunds["paid_day"]
    paid = np.concatenate([x.get("paid", np.ones(m)) for x, m in zip(parts, n_each, strict=True)])
    has_item = item >= 0
    price = np.full(ev_ts.size, np.nan)
    list_price = catalog.price[item[has_item]] * cal.discount[price_day[has_item]]
    price[has_item] = np.round(list_price * paid[has_item], 2)
    inside = ev_ts < days * 86400
    by_time = np.flatnonzero(inside)[np.argsort(ev_ts[inside], kind="stable")]
    return _Events(
        user=all_user[sess[by_time]],
        etype=etype[by_time],
        ts=ev_ts[by_time],
        item=item[by_time],
        category=category[by_time],
        price=price[by_time],
        quantity=quantity[by_time],
        order=order_col[by_time],
        session=_rank(np.concatenate([s_start, r_ts]))[sess[by_time]],
        channel=all_channel[sess[by_time]],
        n_orders=n_orders,
        n_sessions=n_s + rf.size,
    )


def _session_days(
    rng: np.random.Generator, s_user: np.ndarray, p: _People, cal: _Calendar, types: tuple[BehaviourType, ...]
) -> np.ndarray:
    """Draw each session's day in its user's active span from the type's seasonal day weights."""
    day = np.empty(s_user.size, dtype=np.int64)
    s_kind = p.kind[s_user]
    base = WEEKDAY_WEIGHTS[cal.weekday]
    for ti, bt in enumerate(types):
        sel = np.flatnonzero(s_kind == ti)
        if sel.size == 0:
            continue
        weights = base * np.maximum(1 + bt.festival_pull * (cal.lift - 1), 0.05)
        cum = np.concatenate(([0.0], np.cumsum(weights)))
        lo = cum[p.first_day[s_user[sel]]]
        hi = cum[p.last_day[s_user[sel]] + 1]
        u = lo + rng.random(sel.size) * (hi - lo)
        day[sel] = np.clip(np.searchsorted(cum, u, side="right") - 1, p.first_day[s_user[sel]],
                           p.last_day[s_user[sel]])  # fmt: skip
    return day


def _draw_category(rng: np.random.Generator, pref_cdf: np.ndarray) -> np.ndarray:
    """One category per row from each row's cumulative preference."""
    u = rng.random(pref_cdf.shape[0])
    return np.minimum((pref_cdf < u[:, None]).sum(axis=1), pref_cdf.shape[1] - 1)


def _grouped_cumsum(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at every group (groups are contiguous, given by their starts)."""
    total = np.cumsum(values)
    before = total[starts] - values[starts]
    return total - np.repeat(before, sizes)


def _push_apart(user: np.ndarray, start: np.ndarray, duration: np.ndarray) -> np.ndarray:
    """Shift a user's sessions (sorted by user, then start) so that none overlaps the one before.

    start'_i = max(start_i, start'_{i-1} + duration_{i-1} + gap) is, with c_i the cumulative
    (duration + gap) before i, c_i + running max of (start_i - c_i): one pass per user, done
    for all users at once by adding a per-user offset larger than any value's range.
    """
    step = duration + SESSION_GAP_S
    firsts = np.concatenate(([0], np.flatnonzero(np.diff(user)) + 1))
    sizes = np.diff(np.append(firsts, user.size))
    c = _grouped_cumsum(step, firsts, sizes) - step
    big = np.int64(1) << 32  # far above |start - c| (< 2**28) and safe for 2e9 users
    shifted = np.maximum.accumulate(start - c + user.astype(np.int64) * big) - user.astype(np.int64) * big
    return c + shifted


def _users_frame(
    rng: np.random.Generator,
    ids: np.ndarray,
    p: _People,
    types: tuple[BehaviourType, ...],
    cal: _Calendar,
) -> pd.DataFrame:
    """User attributes, mostly in Chinese, some in English, a few missing."""
    n = ids.size
    english = rng.random(n) < ENGLISH_SHARE
    female = rng.random(n) < 0.58
    gender = np.where(english, np.where(female, "female", "male"), np.where(female, "女", "男")).astype(object)
    gender[rng.random(n) < MISSING_SHARE] = None
    age_mean = np.array([t.age_mean for t in types])[p.kind]
    age = pd.array(np.clip(np.rint(rng.normal(age_mean, 8.0)), 16, 75).astype(np.int64), dtype="Int64")
    age[rng.random(n) < MISSING_SHARE] = pd.NA
    city_w = np.array([c[3] for c in CITIES])
    ci = rng.choice(len(CITIES), size=n, p=city_w / city_w.sum())
    city = np.where(english, np.array([c[1] for c in CITIES], dtype=object)[ci],
                    np.array([c[0] for c in CITIES], dtype=object)[ci])  # fmt: skip
    province = np.array([c[2] for c in CITIES], dtype=object)[ci]
    levels = np.array([t.member_levels for t in types])[p.kind]
    level = _draw_category(rng, np.cumsum(levels / levels.sum(axis=1, keepdims=True), axis=1))
    ios = np.where(p.kind == 0, 0.55, 0.33)
    u = rng.random(n)
    device = np.select([u < ios, u < ios + 0.45, u < ios + 0.6], [0, 1, 2], 3)
    signup = cal.start + p.signup.astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "user_id": pd.array(ids, dtype="str"),
            "signup_date": pd.array(np.datetime_as_string(signup, unit="D"), dtype="str"),
            "gender": gender,  # text with None: pandas infers its own text type, missing kept missing
            "age": age,
            "city": pd.array(city, dtype="str"),
            "member_level": pd.array(np.array(MEMBER_LEVELS, dtype=object)[level], dtype="str"),
            "province": pd.array(province, dtype="str"),
            "device": pd.array(np.array(DEVICES, dtype=object)[device], dtype="str"),
        }
    )


def _events_frame(
    rng: np.random.Generator,
    ev: _Events,
    user_ids: np.ndarray,
    catalog: _Catalog,
    cal: _Calendar,
    dirty_share: float,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Render the events as the file's text columns, then insert the dirty rows.

    A dirty row is a copy of a clean row with one fault, inserted right after it, so the clean
    rows stay whole: dropping every dirty row gives back exactly the generated behaviour.
    """
    n = ev.ts.size
    counts = _dirty_counts(dirty_share * n, len(DIRTY_EVENT_KINDS))
    (n_ts, n_type, n_neg, n_text, n_user, n_dup) = counts
    # Faults are copied from browsing rows (never order lines, whose negative price a preset might
    # read as a refund); exact duplicates from any row. Every source row is used once.
    browsing = np.flatnonzero(np.isin(ev.etype, (_VIEW, _SEARCH, _CART, _FAV)))
    priced = browsing[ev.item[browsing] >= 0]
    taken = np.zeros(n, dtype=bool)
    price_src = rng.choice(priced, size=n_neg + n_text, replace=False)
    taken[price_src] = True
    other_src = rng.choice(browsing[~taken[browsing]], size=n_ts + n_type + n_user, replace=False)
    taken[other_src] = True
    dup_src = rng.choice(np.flatnonzero(~taken), size=n_dup, replace=False)
    sources = np.concatenate([other_src, price_src, dup_src])  # kinds in DIRTY_EVENT_KINDS order
    kind_of_source = np.repeat(np.array([0, 1, 4, 2, 3, 5]), [n_ts, n_type, n_user, n_neg, n_text, n_dup])
    is_source = np.zeros(n, dtype=bool)
    is_source[sources] = True
    rows = np.repeat(np.arange(n), 1 + is_source)
    copy_at = np.empty(n, dtype=np.int64)  # where the copy of a source row lands
    copy_at[sources] = sources + np.cumsum(is_source)[sources]
    at = {k: np.sort(copy_at[sources[kind_of_source == k]]) for k in range(len(DIRTY_EVENT_KINDS))}

    # Expand the numeric columns first (each dirty row a copy of its source), then render text once.
    def x(values: np.ndarray) -> np.ndarray:
        return values[rows] if sources.size else values

    local = pa.array(cal.start.astype("datetime64[s]") + x(ev.ts), type=pa.timestamp("s"))
    quantity = x(ev.quantity)
    columns = {
        "user_id": _take(user_ids, x(ev.user)),
        "event_type": _take(EVENT_TYPES, x(ev.etype)),
        "ts": pc.cast(local, pa.string()),
        "item_id": _take(_ids("I", catalog.price.size), x(ev.item)),
        "category": _take([c.name for c in CATEGORIES], x(ev.category)),
        "price": pc.cast(pa.array(x(ev.price), from_pandas=True), pa.string()),
        "quantity": pa.array(quantity, mask=quantity < 0),
        "order_id": _take_ids("O", x(ev.order), ev.n_orders),
        "session_id": _take_ids("S", x(ev.session), ev.n_sessions),
        "channel": _take(CHANNELS, x(ev.channel)),
    }
    if sources.size:
        columns["ts"] = _replace(columns["ts"], at[0], rng.choice(np.array(BAD_TIMESTAMPS, dtype=object), n_ts))
        unknown = rng.choice(np.array(UNKNOWN_EVENT_TYPES, dtype=object), n_type)
        columns["event_type"] = _replace(columns["event_type"], at[1], unknown)
        negative = pc.cast(pa.array(-ev.price[rows[at[2]]]), pa.string())
        columns["price"] = _replace(columns["price"], at[2], negative)
        yuan = pc.cast(pa.array(np.floor(ev.price[rows[at[3]]]).astype(np.int64)), pa.string())
        spelled = pc.binary_join_element_wise(yuan, "元", "").to_numpy(zero_copy_only=False).astype(object)
        words = rng.random(n_text) < 0.3
        spelled[words] = rng.choice(np.array(["面议", "免费", "约50"], dtype=object), int(words.sum()))
        columns["price"] = _replace(columns["price"], at[3], spelled)
        columns["user_id"] = _replace(columns["user_id"], at[4], np.full(n_user, None, dtype=object))
    frame = pa.table(columns).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    return frame, dict(zip(DIRTY_EVENT_KINDS, counts, strict=True))


def _dirty_users(
    rng: np.random.Generator, users: pd.DataFrame, dirty_share: float
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Give a few user rows one bad value each: an impossible age, an unreadable date, no id."""
    n = len(users)
    per_kind = 0 if dirty_share == 0 else max(1, round(n * dirty_share / 5))
    per_kind = min(per_kind, n // (2 * len(DIRTY_USER_KINDS)))
    rows = rng.choice(n, size=per_kind * len(DIRTY_USER_KINDS), replace=False)
    age_rows, date_rows, id_rows = np.split(rows, len(DIRTY_USER_KINDS))
    users = users.copy()
    # An age-out-of-range row must not also lack its age: every planted age is set explicitly.
    users.loc[age_rows, "age"] = rng.choice(np.array(BAD_AGES), age_rows.size)
    users.loc[date_rows, "signup_date"] = rng.choice(np.array(BAD_SIGNUP_DATES, dtype=object), date_rows.size)
    users.loc[id_rows, "user_id"] = None
    return users, dict(zip(DIRTY_USER_KINDS, (age_rows.size, date_rows.size, id_rows.size), strict=True))


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _exact_counts(shares: np.ndarray, n: int) -> np.ndarray:
    """Split ``n`` by ``shares`` into integers that sum to ``n`` (largest remainders)."""
    raw = shares * n
    counts = np.floor(raw).astype(np.int64)
    counts[np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]] += 1
    return counts


def _dirty_counts(total: float, kinds: int) -> list[int]:
    """Split the dirty rows evenly over the kinds; at least one of each when any are wanted."""
    if total <= 0:
        return [0] * kinds
    n = max(kinds, round(total))
    return [int(c) for c in _exact_counts(np.full(kinds, 1 / kinds), n)]


def _rank(values: np.ndarray) -> np.ndarray:
    """0-based rank of every value (ties in order of position)."""
    rank = np.empty(values.size, dtype=np.int64)
    rank[np.argsort(values, kind="stable")] = np.arange(values.size)
    return rank


def _beta(rng: np.random.Generator, mean: np.ndarray, concentration: float = RATE_CONCENTRATION) -> np.ndarray:
    """Per-user rates around the type's mean: Beta with the given mean, never exactly 0 or 1."""
    m = np.clip(mean, 1e-3, 1 - 1e-3)
    return rng.beta(m * concentration, (1 - m) * concentration)


def _ids(prefix: str, n: int) -> np.ndarray:
    """``prefix`` + a zero-padded 1-based number, as an object array of ``n`` strings."""
    width = max(6, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _take(labels: Sequence[str] | np.ndarray, codes: np.ndarray) -> pa.Array:
    """Labels by code as an Arrow string array; code -1 gives null."""
    dictionary = pa.array(list(labels), type=pa.string())
    return dictionary.take(pa.array(codes, mask=codes < 0))


def _take_ids(prefix: str, codes: np.ndarray, n: int) -> pa.Array:
    """Zero-padded ids for many rows without making a Python string per row; -1 gives null."""
    width = max(8, len(str(n)))
    digits = pc.utf8_lpad(pc.cast(pa.array(codes + 1, mask=codes < 0), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _replace(array: pa.Array, rows: np.ndarray, values: np.ndarray | pa.Array) -> pa.Array:
    """``array`` with the (sorted) ``rows`` set to ``values`` (None gives null)."""
    if rows.size == 0:
        return array
    mask = np.zeros(len(array), dtype=bool)
    mask[rows] = True
    replacements = values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.string())
    return pc.replace_with_mask(array, pa.array(mask), replacements)
