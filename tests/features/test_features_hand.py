"""Every feature on a small hand-made shop, with the values worked out by hand in the comments.

as_of is 2024-03-01 00:00 (UTC, the default zone): events strictly before it count. "age" below
is days before as_of: 2024-01-01 09:00 is 60 days minus 9 hours = 59.625 days.

Users: alice (a full history), bob (never purchased), carol (only refunds), dave (one event,
plus one exactly at as_of and one after), erin (on file, no events), frank (signs up on the as_of
date: not yet known). Guest lines (no user_id) set reference prices but count for nobody.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from segmark.pipeline.features import build_features, load_features
from segmark.workspace import Workspace

AS_OF = "2024-03-01"

EVENTS = [
    # alice
    ("alice", "view", "2024-01-01 09:00", "i1", "女装", 100),                      # age 59.625
    ("alice", "cart", "2024-01-01 09:10", "i1", "女装", 100),
    ("alice", "purchase", "2024-01-01 09:20", "i1", "女装", 100, 2, 200, "o1"),     # age 59.611111
    ("alice", "purchase", "2024-01-01 09:20", "i2", "鞋", 50, 1, 50, "o1"),
    ("alice", "view", "2024-02-10 19:50", "i3", "鞋", 80),                         # Saturday
    ("alice", "view", "2024-02-10 20:00", "i3", "鞋", 80),
    ("alice", "cart", "2024-02-10 20:45", "i3", "鞋", 80),                         # 45 min gap
    ("alice", "purchase", "2024-02-20 21:00", "i3", "鞋", 80, 1, 80, "o2"),         # age 9.125
    ("alice", "refund", "2024-02-25 12:00", "i1", "女装", 100, 1, 100, "o1"),       # Sunday, age 4.5
    ("alice", "cart", "2024-02-26 10:00", "i2", "鞋", 50),                         # after buying i2
    ("alice", "purchase", "2024-02-28 12:00", "i4", None, 30, 1, 30),              # no order id:
    ("alice", "purchase", "2024-02-28 12:00", "i5", None, 20, 1, 20),              # one order, age 1.5
    ("alice", "cart", "2024-02-29 22:00", "i6", "女装", 60),
    ("alice", "search", "2024-02-29 23:00"),                                      # age 1/24
    # bob: browses, never buys
    ("bob", "view", "2024-02-27 08:00", "i1", "女装", 100),                        # age 2.666667
    ("bob", "view", "2024-02-27 08:20", "i6", "女装", 60),
    ("bob", "cart", "2024-02-27 08:40", "i1", "女装", 100),
    ("bob", "remove_cart", "2024-02-27 09:00", "i1", "女装", 100),
    ("bob", "fav", "2024-02-28 02:00", "i6", "女装", 60),                          # age 1.916667
    # carol: two refund lines of purchases made before the data starts
    ("carol", "refund", "2024-02-15 10:00", "i2", "鞋", 50, 1, 50, "r1"),          # age 14.583333
    ("carol", "refund", "2024-02-15 10:00", "i1", "女装", 100, 1, 100, "r1"),
    # dave: one event before as_of, one exactly at it, one after
    ("dave", "view", "2024-02-01 00:00", "i1", "女装", 100),                       # age 29.0
    ("dave", "purchase", "2024-03-01 00:00", "i1", "女装", 10, 1, 10, "o9"),
    ("dave", "purchase", "2024-03-05 10:00", "i1", "女装", 500, 1, 500, "o10"),
    # guests: reference prices only
    (None, "purchase", "2024-01-15 12:00", "i1", "女装", 80, 1, 80, "g1"),
    (None, "purchase", "2024-01-20 12:00", "i3", "鞋", 90, 1, 90, "g2"),
    (None, "view", "2024-02-01 12:00", "i3", "鞋", 90),
]

USERS = [
    dict(user_id="alice", signup_date="2023-06-01", gender="female", birth_date="1990-03-01",
         city="上海", member_level="gold"),
    dict(user_id="bob", gender="male", age=45, city="北京"),
    dict(user_id="dave", signup_date="2024-02-01", birth_date="2010-06-15"),
    dict(user_id="erin", signup_date="2024-01-15", birth_date="1960-02-29", city="深圳", member_level="钻石"),
    dict(user_id="frank", signup_date="2024-03-01", age=30),
]

NAN = float("nan")

# Every feature of every user, worked out by hand (see the comments at each value).
EXPECTED: dict[str, dict[str, object]] = {
    "alice": {
        "recency_days": 1.5,                # last purchase 2024-02-28 12:00
        "recency_visit_days": 1 / 24,       # the search at 23:00 the day before
        "frequency": 3,                     # o1, o2, and the two id-less lines at one timestamp
        "monetary": 280.0,                  # 200 + 50 + 80 + 30 + 20 - 100
        "aov": 380 / 3,                     # purchase amount before refunds / orders
        "ipi_mean_days": (59.611111111 - 1.5) / 2,      # gaps 50.486111 and 7.625
        "ipi_std_days": abs(50.486111111 - 7.625) / math.sqrt(2),
        "tenure_days": 274.0,               # signup 2023-06-01, earlier than the first event
        "views_7d": 0, "views_30d": 2, "views_90d": 3, "views_365d": 3,
        "searches_7d": 1, "searches_30d": 1, "searches_90d": 1, "searches_365d": 1,
        "carts_7d": 2, "carts_30d": 3, "carts_90d": 4, "carts_365d": 4,
        "favs_7d": 0, "favs_30d": 0, "favs_90d": 0, "favs_365d": 0,
        "purchases_7d": 2, "purchases_30d": 3, "purchases_90d": 5, "purchases_365d": 5,
        "orders_7d": 1, "orders_30d": 2, "orders_90d": 3, "orders_365d": 3,
        "spend_7d": -50.0, "spend_30d": 30.0, "spend_90d": 280.0, "spend_365d": 280.0,
        # days: 01-01 | 02-10 02-20 | 02-25 02-26 02-28 02-29 (last 7 days start 02-23)
        "active_days_7d": 4, "active_days_30d": 6, "active_days_90d": 7, "active_days_365d": 7,
        # sessions: {4 lines 01-01} {19:50, 20:00} {20:45} {02-20} {02-25} {02-26} {02-28} {22:00} {23:00}
        "sessions_7d": 5, "sessions_30d": 8, "sessions_90d": 9, "sessions_365d": 9,
        "sessions_total": 9, "views_per_session": 3 / 9,  # 3 views over her 9 sessions
        # weeks back from as_of: 0 (02-23 on), 1 (02-20), 2 (02-10), 8 (01-01): 4 of the 9 since 01-01
        "weeks_observed": 9, "active_week_share": 4 / 9,
        "view_to_cart_rate": 4 / 3,
        # carted i1 (bought after), i3 (bought after), i2 (bought only before the cart), i6 (never)
        "cart_to_purchase_rate": 0.5, "cart_abandonment_rate": 0.5,
        "refund_rate": 100 / 380,
        "views_total": 3,                   # 01-01 i1, 02-10 i3 twice
        "carted_items": 4,                  # i1, i3, i2, i6 (i2 counts though bought before it was carted)
        # interest events with a category: 女装 4 (view, cart, purchase, cart), 鞋 6
        "top_category": "鞋", "top_category_share": 0.6,
        "category_entropy": -(0.4 * math.log2(0.4) + 0.6 * math.log2(0.6)),
        # purchase amount by category: 女装 200, 鞋 50 + 80 (the id-less lines have no category)
        "top_spend_category": "女装", "top_spend_category_share": 200 / 330,
        "cat_share__女装": 0.4, "cat_share__鞋": 0.6,
        # net purchase amount per category / all purchase amount before refunds (200 + 50 + 80 + 30 + 20):
        # 女装 200 bought, 100 refunded; 鞋 50 + 80; the id-less 50 has no category (shares sum to 1 - 100/380)
        "spend_share__女装": (200 - 100) / 380, "spend_share__鞋": 130 / 380,
        # medians: 女装 (100, 80) = 90; 鞋 (50, 80, 90) = 80; no category (30, 20) = 25
        "price_level": (100 / 90 + 50 / 80 + 80 / 80 + 30 / 25 + 20 / 25) / 5,
        # items sold at several prices: i1 (100, 80; median 90), i3 (80, 90; median 85): 80 < 85 only
        "low_price_share": 0.5,
        # hours: 9 x4, 12 x3, 10, 19, 20 x2, 21, 22, 23: morning 5, afternoon 3, evening 6
        "preferred_hour": 9.0, "preferred_daypart": "evening",
        # weekdays: Mon 01-01 x4 and 02-26; Tue 02-20; Wed 02-28 x2; Thu 02-29 x2; Sat 02-10 x3; Sun 02-25
        # -> Monday 5. Weekend 4 of 14 events is exactly 2/7: 4 per 2 days = 10 per 5 days, a tie -> weekday
        "preferred_weekday": 1.0, "preferred_weekday_band": "weekday",
        "weekend_share": 4 / 14,            # three events on Saturday 02-10, one on Sunday 02-25
        "trend_30d": (10 + 1) / (4 + 1),    # 10 events in the last 30 days, 4 in the 30 before
        "age": 34.0, "age_band": "young adult",   # born 1990-03-01: 34 on the as_of date itself
        "gender": "female", "city": "上海", "member_level": "gold",
    },
    "bob": {
        "recency_days": NAN, "recency_visit_days": 1.916666667, "frequency": 0, "monetary": 0.0,
        "aov": NAN, "ipi_mean_days": NAN, "ipi_std_days": NAN,
        "tenure_days": 2.666666667,         # no signup date: from the first event
        "views_7d": 2, "views_30d": 2, "views_90d": 2, "views_365d": 2,
        "searches_7d": 0, "searches_30d": 0, "searches_90d": 0, "searches_365d": 0,
        "carts_7d": 1, "carts_30d": 1, "carts_90d": 1, "carts_365d": 1,
        "favs_7d": 1, "favs_30d": 1, "favs_90d": 1, "favs_365d": 1,
        "purchases_7d": 0, "purchases_30d": 0, "purchases_90d": 0, "purchases_365d": 0,
        "orders_7d": 0, "orders_30d": 0, "orders_90d": 0, "orders_365d": 0,
        "spend_7d": 0.0, "spend_30d": 0.0, "spend_90d": 0.0, "spend_365d": 0.0,
        "active_days_7d": 2, "active_days_30d": 2, "active_days_90d": 2, "active_days_365d": 2,
        "sessions_7d": 2, "sessions_30d": 2, "sessions_90d": 2, "sessions_365d": 2,
        "sessions_total": 2, "views_per_session": 1.0,
        "weeks_observed": 1, "active_week_share": 1.0,  # both days in the last week, his first
        "view_to_cart_rate": 0.5, "cart_to_purchase_rate": 0.0, "cart_abandonment_rate": 1.0,
        "refund_rate": NAN,
        "views_total": 2, "carted_items": 1,  # bob: i1 and i6 viewed; i1 carted (then removed)
        "top_category": "女装", "top_category_share": 1.0, "category_entropy": 0.0,
        "top_spend_category": None, "top_spend_category_share": NAN,
        "cat_share__女装": 1.0, "cat_share__鞋": 0.0,
        "spend_share__女装": NAN, "spend_share__鞋": NAN,  # no purchase amount
        "price_level": NAN, "low_price_share": NAN,
        "preferred_hour": 8.0, "preferred_daypart": "morning",  # 8 x3, 9, 2 (night)
        "preferred_weekday": 2.0, "preferred_weekday_band": "weekday",  # Tue 02-27 x4, Wed 02-28
        "weekend_share": 0.0, "trend_30d": 6.0,
        "age": 45.0, "age_band": "middle-aged", "gender": "male", "city": "北京", "member_level": None,
    },
    "carol": {
        "recency_days": NAN, "recency_visit_days": 14.583333333, "frequency": 0, "monetary": -150.0,
        "aov": NAN, "ipi_mean_days": NAN, "ipi_std_days": NAN, "tenure_days": 14.583333333,
        "views_7d": 0, "views_30d": 0, "views_90d": 0, "views_365d": 0,
        "searches_7d": 0, "searches_30d": 0, "searches_90d": 0, "searches_365d": 0,
        "carts_7d": 0, "carts_30d": 0, "carts_90d": 0, "carts_365d": 0,
        "favs_7d": 0, "favs_30d": 0, "favs_90d": 0, "favs_365d": 0,
        "purchases_7d": 0, "purchases_30d": 0, "purchases_90d": 0, "purchases_365d": 0,
        "orders_7d": 0, "orders_30d": 0, "orders_90d": 0, "orders_365d": 0,
        "spend_7d": 0.0, "spend_30d": -150.0, "spend_90d": -150.0, "spend_365d": -150.0,
        "active_days_7d": 0, "active_days_30d": 1, "active_days_90d": 1, "active_days_365d": 1,
        "sessions_7d": 0, "sessions_30d": 1, "sessions_90d": 1, "sessions_365d": 1,
        "sessions_total": 1, "views_per_session": 0.0,  # a session of refunds, no views
        "weeks_observed": 3, "active_week_share": 1 / 3,  # age 14.58 days: week 2, so weeks 0, 1, 2 since, one active
        "view_to_cart_rate": NAN, "cart_to_purchase_rate": NAN, "cart_abandonment_rate": NAN,
        "refund_rate": NAN,
        "views_total": 0, "carted_items": 0,  # carol: refunds only
        "top_category": None, "top_category_share": NAN, "category_entropy": NAN,
        "top_spend_category": None, "top_spend_category_share": NAN,
        "cat_share__女装": NAN, "cat_share__鞋": NAN,
        "spend_share__女装": NAN, "spend_share__鞋": NAN,  # refunds only: no purchase amount
        "price_level": NAN, "low_price_share": NAN,
        "preferred_hour": 10.0, "preferred_daypart": "morning",
        "preferred_weekday": 4.0, "preferred_weekday_band": "weekday",  # Thursday 02-15
        "weekend_share": 0.0, "trend_30d": 3.0,
        "age": NAN, "age_band": None, "gender": None, "city": None, "member_level": None,
    },
    "dave": {
        # the purchase at exactly as_of and the one after do not count
        "recency_days": NAN, "recency_visit_days": 29.0, "frequency": 0, "monetary": 0.0,
        "aov": NAN, "ipi_mean_days": NAN, "ipi_std_days": NAN, "tenure_days": 29.0,
        "views_7d": 0, "views_30d": 1, "views_90d": 1, "views_365d": 1,
        "searches_7d": 0, "searches_30d": 0, "searches_90d": 0, "searches_365d": 0,
        "carts_7d": 0, "carts_30d": 0, "carts_90d": 0, "carts_365d": 0,
        "favs_7d": 0, "favs_30d": 0, "favs_90d": 0, "favs_365d": 0,
        "purchases_7d": 0, "purchases_30d": 0, "purchases_90d": 0, "purchases_365d": 0,
        "orders_7d": 0, "orders_30d": 0, "orders_90d": 0, "orders_365d": 0,
        "spend_7d": 0.0, "spend_30d": 0.0, "spend_90d": 0.0, "spend_365d": 0.0,
        "active_days_7d": 0, "active_days_30d": 1, "active_days_90d": 1, "active_days_365d": 1,
        "sessions_7d": 0, "sessions_30d": 1, "sessions_90d": 1, "sessions_365d": 1,
        "sessions_total": 1, "views_per_session": 1.0,
        "weeks_observed": 5, "active_week_share": 1 / 5,  # age 29.0 days: week 4, one of the five since
        "view_to_cart_rate": 0.0, "cart_to_purchase_rate": NAN, "cart_abandonment_rate": NAN,
        "refund_rate": NAN,
        "views_total": 1, "carted_items": 0,  # dave: one view before as_of
        "top_category": "女装", "top_category_share": 1.0, "category_entropy": 0.0,
        "top_spend_category": None, "top_spend_category_share": NAN,
        "cat_share__女装": 1.0, "cat_share__鞋": 0.0,
        "spend_share__女装": NAN, "spend_share__鞋": NAN,  # the purchases at and after as_of do not count
        "price_level": NAN, "low_price_share": NAN,
        "preferred_hour": 0.0, "preferred_daypart": "night",
        "preferred_weekday": 4.0, "preferred_weekday_band": "weekday",  # Thursday 02-01
        "weekend_share": 0.0, "trend_30d": 2.0,
        "age": 13.0, "age_band": "under 18",  # born 2010-06-15
        "gender": None, "city": None, "member_level": None,
    },
    "erin": {
        "recency_days": NAN, "recency_visit_days": NAN, "frequency": 0, "monetary": 0.0,
        "aov": NAN, "ipi_mean_days": NAN, "ipi_std_days": NAN,
        "tenure_days": 46.0,                # signed up 2024-01-15: 16 + 29 + 1 days
        "views_7d": 0, "views_30d": 0, "views_90d": 0, "views_365d": 0,
        "searches_7d": 0, "searches_30d": 0, "searches_90d": 0, "searches_365d": 0,
        "carts_7d": 0, "carts_30d": 0, "carts_90d": 0, "carts_365d": 0,
        "favs_7d": 0, "favs_30d": 0, "favs_90d": 0, "favs_365d": 0,
        "purchases_7d": 0, "purchases_30d": 0, "purchases_90d": 0, "purchases_365d": 0,
        "orders_7d": 0, "orders_30d": 0, "orders_90d": 0, "orders_365d": 0,
        "spend_7d": 0.0, "spend_30d": 0.0, "spend_90d": 0.0, "spend_365d": 0.0,
        "active_days_7d": 0, "active_days_30d": 0, "active_days_90d": 0, "active_days_365d": 0,
        "sessions_7d": 0, "sessions_30d": 0, "sessions_90d": 0, "sessions_365d": 0,
        "sessions_total": 0, "views_per_session": NAN,  # no sessions at all
        "weeks_observed": 0, "active_week_share": NAN,  # no events
        "view_to_cart_rate": NAN, "cart_to_purchase_rate": NAN, "cart_abandonment_rate": NAN,
        "refund_rate": NAN,
        "views_total": 0, "carted_items": 0,  # erin: no events
        "top_category": None, "top_category_share": NAN, "category_entropy": NAN,
        "top_spend_category": None, "top_spend_category_share": NAN,
        "cat_share__女装": NAN, "cat_share__鞋": NAN, "spend_share__女装": NAN, "spend_share__鞋": NAN,
        "price_level": NAN, "low_price_share": NAN,
        "preferred_hour": NAN, "preferred_daypart": None, "preferred_weekday": NAN, "preferred_weekday_band": None,
        "weekend_share": NAN, "trend_30d": NAN,
        "age": 64.0, "age_band": "senior",  # born 1960-02-29, had the birthday by 03-01
        "gender": None, "city": "深圳", "member_level": "钻石",
    },
}


@pytest.fixture
def shop(ws: Workspace, add_events, add_users) -> Workspace:
    add_events(ws, EVENTS)
    add_users(ws, USERS)
    return ws


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    if isinstance(expected, float):
        return actual == pytest.approx(expected, rel=1e-6, abs=1e-9)
    return actual == expected


def test_every_feature_of_every_user_matches_the_hand_computation(shop: Workspace) -> None:
    _, df = load_features(shop.store, build_features(shop, as_of=AS_OF).run_id)

    assert sorted(df.index) == sorted(EXPECTED)  # frank signs up on the as_of date: not yet known
    assert list(df.columns) == list(EXPECTED["alice"])  # the catalog order, nothing else
    wrong = [
        (user, name, df.at[user, name], value)
        for user, features in EXPECTED.items() for name, value in features.items()
        if not _same(df.at[user, name], value)
    ]
    assert wrong == []


def test_dtypes_follow_the_catalog_kinds(shop: Workspace) -> None:
    run, df = load_features(shop.store, build_features(shop, as_of=AS_OF).run_id)
    kinds = {c.name: c.kind for c in run.columns}
    for name, kind in kinds.items():
        dtype = df[name].dtype
        if kind == "count":
            assert dtype == "int64", name
        elif kind in ("sum", "number"):
            assert dtype == "float64", name
        else:
            assert dtype is object or dtype == "object", name
            assert all(v is None or isinstance(v, str) for v in df[name]), name
    assert df.index.name == "user_id"


def test_as_of_is_recorded_and_the_run_is_logged(shop: Workspace) -> None:
    run = build_features(shop, as_of=AS_OF)
    assert run.as_of == pd.Timestamp("2024-03-01").to_pydatetime()
    assert run.windows == (7, 30, 90, 365)
    assert run.n_users == 5
    # identified events strictly before as_of: alice 14, bob 5, carol 2, dave 1
    assert run.n_events == 22
    status, as_of = shop.store.query_rows("SELECT status, as_of FROM runs WHERE run_id = ?", [run.run_id])[0]
    assert (status, as_of) == ("ok", run.as_of)


def test_point_in_time_later_events_change_nothing(shop: Workspace, add_events, add_users) -> None:
    before = load_features(shop.store, build_features(shop, as_of=AS_OF).run_id)[1]
    add_events(shop, [
        ("alice", "purchase", "2024-03-01 00:00", "i1", "女装", 1, 1, 1, "late1"),   # exactly at as_of
        ("alice", "refund", "2024-03-02 10:00", "i3", "鞋", 80, 1, 80, "o2"),
        ("bob", "purchase", "2024-03-03 08:00", "i6", "女装", 5, 1, 5, "late2"),
        ("erin", "view", "2024-04-01 08:00", "i6", "女装", 60),
        ("zoe", "purchase", "2024-03-02 08:00", "i7", "箱包", 999, 1, 999, "late3"),  # a new user
        (None, "purchase", "2024-03-02 09:00", "i1", "女装", 1, 1, 1, "late4"),     # would move medians
    ] + [("zoe", "view", f"2024-03-0{d} 10:00", "i7", "箱包", 999) for d in range(2, 9)])
    add_users(shop, [dict(user_id="yuri", signup_date="2024-03-02", age=20)])
    after = load_features(shop.store, build_features(shop, as_of=AS_OF).run_id)[1]
    pd.testing.assert_frame_equal(before, after)


def test_builds_at_several_dates_coexist(shop: Workspace) -> None:
    early = build_features(shop, as_of="2024-02-01")
    late = build_features(shop, as_of=AS_OF)
    run, latest = load_features(shop.store)
    assert run.run_id == late.run_id
    run_e, df_e = load_features(shop.store, early.run_id)
    assert run_e.as_of == pd.Timestamp("2024-02-01").to_pydatetime()
    # on 2024-02-01 alice had one order (o1, 2024-01-01 09:20): 31 - 9h20m/24h days earlier
    assert df_e.at["alice", "frequency"] == 1
    assert df_e.at["alice", "recency_days"] == pytest.approx(31 - (9 + 20 / 60) / 24)
    assert df_e.at["alice", "monetary"] == 250.0
    # only alice had events before 2024-02-01 (dave's view is at 00:00 that day, so excluded);
    # on file: alice and erin signed up before, bob has no signup date; dave signs up that day
    assert sorted(df_e.index) == ["alice", "bob", "erin"]
    assert latest.at["alice", "frequency"] == 3


def test_default_as_of_is_the_day_after_the_last_event(shop: Workspace) -> None:
    run = build_features(shop)
    # the last event (any user) is dave's at 2024-03-05 10:00: the next day starts 2024-03-06
    assert run.as_of == pd.Timestamp("2024-03-06").to_pydatetime()


def test_no_activity_trend_where_the_log_does_not_reach_the_30_days_before(shop: Workspace) -> None:
    # as of 2024-01-20 the log starts 18.6 days back (alice's first events): the 30 days before the
    # last 30 are outside it, so nobody's trend is known (as of 2024-03-01, 59.6 days back, it is)
    _, early = load_features(shop.store, build_features(shop, as_of="2024-01-20").run_id)
    assert len(early) > 0 and early["trend_30d"].isna().all()
    _, full = load_features(shop.store, build_features(shop, as_of=AS_OF).run_id)
    assert full.loc["alice", "trend_30d"] == pytest.approx((10 + 1) / (4 + 1))
