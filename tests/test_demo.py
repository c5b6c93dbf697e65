"""The sample shop: deterministic, shaped as documented, dirty exactly as counted.

Every expectation below comes from the generator's documented parameters (shares, rates, quiet
days, festival lifts), not from a previous run: each threshold leaves room for noise but would
fail if a type lost its signature.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from segmark import schema
from segmark.demo import (
    BEHAVIOUR_TYPES,
    DIRTY_EVENT_KINDS,
    DIRTY_USER_KINDS,
    EVENT_COLUMNS,
    Shop,
    generate_shop,
    write_shop,
)

N_USERS = 3000
END = date(2025, 12, 31)
TS_FORMAT = "%Y-%m-%d %H:%M:%S"


@pytest.fixture(scope="module")
def shop() -> Shop:
    return generate_shop(n_users=N_USERS, seed=11)


def _faults(events: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per fault kind, found with plain pandas."""
    ts = pd.to_datetime(events["ts"], format=TS_FORMAT, errors="coerce")
    price = pd.to_numeric(events["price"], errors="coerce")
    return pd.DataFrame(
        {
            "events.unparseable_timestamp": ts.isna(),
            "events.unknown_event_type": ~events["event_type"].isin(schema.EVENT_TYPES),
            "events.negative_price": price < 0,
            "events.non_numeric_price": events["price"].notna() & price.isna(),
            "events.empty_user_id": events["user_id"].isna(),
            "events.duplicate": events.duplicated(),
        }
    )


@pytest.fixture(scope="module")
def clean(shop: Shop) -> pd.DataFrame:
    """The clean events with parsed time, price and the user's planted type."""
    ev = shop.events[~_faults(shop.events).any(axis=1)].copy()
    ev["t"] = pd.to_datetime(ev["ts"], format=TS_FORMAT)
    ev["p"] = pd.to_numeric(ev["price"])
    types = shop.truth.set_index("user_id")["behaviour_type"]
    ev["type"] = ev["user_id"].map(types)
    return ev


def _per_user(clean: pd.DataFrame, event_type: str, shop: Shop) -> pd.Series:
    """Events of one type per user (0 for users without any), indexed by user_id."""
    counts = clean[clean["event_type"] == event_type].groupby("user_id").size()
    return counts.reindex(shop.truth["user_id"], fill_value=0)


def _type_of(shop: Shop) -> pd.Series:
    return shop.truth.set_index("user_id")["behaviour_type"]


# -- determinism and shape ------------------------------------------------------------------------


def test_same_seed_same_shop_and_another_seed_another() -> None:
    a = generate_shop(n_users=400, seed=3)
    b = generate_shop(n_users=400, seed=3)
    for name in ("users", "items", "events", "truth"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.dirty == b.dirty
    c = generate_shop(n_users=400, seed=4)
    assert not a.events["ts"].equals(c.events["ts"])
    assert not a.truth["behaviour_type"].equals(c.truth["behaviour_type"])


def test_columns_are_canonical(shop: Shop) -> None:
    assert list(shop.events.columns) == list(EVENT_COLUMNS)
    assert set(EVENT_COLUMNS) <= set(schema.EVENTS.names)
    assert set(schema.USERS.names) & set(shop.users.columns) == {
        "user_id", "signup_date", "gender", "age", "city", "member_level"
    }  # fmt: skip
    assert {"province", "device"} <= set(shop.users.columns)
    assert list(shop.items.columns) == list(schema.ITEMS.names)
    assert list(shop.truth.columns) == ["user_id", "behaviour_type", "behaviour_type_zh"]
    assert shop.as_of == END + timedelta(days=1)


def test_planted_shares_are_exact(shop: Shop) -> None:
    # 3000 users split 10/18/25/15/20/12 %: these counts are exact, nothing to round.
    expected = {
        "loyal_high_spender": 300, "bargain_hunter": 540, "window_shopper": 750,
        "cart_abandoner": 450, "lapsed": 600, "newcomer": 360,
    }  # fmt: skip
    assert shop.truth["behaviour_type"].value_counts().to_dict() == expected
    assert shop.truth["user_id"].is_unique and len(shop.truth) == N_USERS
    labels = dict(zip(shop.truth["behaviour_type"], shop.truth["behaviour_type_zh"], strict=True))
    assert labels["cart_abandoner"] == "加购未买用户" and labels["newcomer"] == "新用户"


def test_size_is_about_fifty_to_seventy_events_per_user_and_can_be_set(shop: Shop) -> None:
    assert 40 <= len(shop.events) / N_USERS <= 75
    small = generate_shop(n_users=1000, seed=2, events_per_user=10)
    clean_rows = len(small.events) - sum(small.dirty[k] for k in DIRTY_EVENT_KINDS)
    assert 8 <= clean_rows / 1000 <= 12


def test_other_end_dates_and_windows_keep_every_event_inside() -> None:
    s = generate_shop(n_users=300, seed=5, end=date(2024, 6, 30), days=400, dirty_share=0)
    t = pd.to_datetime(s.events["ts"], format=TS_FORMAT)
    assert t.min() >= pd.Timestamp("2023-05-27") and t.max() < pd.Timestamp("2024-07-01")


@pytest.mark.parametrize(
    "kwargs",
    [{"n_users": 0}, {"days": 200}, {"events_per_user": 0}, {"dirty_share": 0.5}, {"n_items": 10}],
)
def test_bad_arguments_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        generate_shop(**{"n_users": 100, **kwargs})


# -- the clean data's structure ---------------------------------------------------------------------


def test_timestamps_are_local_strings_inside_the_window(clean: pd.DataFrame) -> None:
    assert clean["ts"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}").all()
    assert clean["t"].min() >= pd.Timestamp("2025-01-01")
    assert clean["t"].max() < pd.Timestamp("2026-01-01")
    assert clean["event_type"].isin(schema.EVENT_TYPES).all()
    assert set(clean["channel"]) == {"app", "mini-program", "web"}


def test_no_clean_line_repeats_an_event(clean: pd.DataFrame) -> None:
    assert not clean.duplicated(["user_id", "event_type", "ts", "item_id"]).any()


def test_orders_and_refunds_hang_together(clean: pd.DataFrame, shop: Shop) -> None:
    buys = clean[clean["event_type"] == "purchase"]
    assert buys["order_id"].notna().all() and buys["quantity"].ge(1).all()
    per_order = buys.groupby("order_id").agg(
        users=("user_id", "nunique"),
        times=("ts", "nunique"),
        sessions=("session_id", "nunique"),
        lines=("item_id", "size"),
    )
    assert (per_order[["users", "times", "sessions"]] == 1).all().all()
    assert per_order["lines"].max() > 1  # orders with one or more lines
    assert not buys.duplicated(["order_id", "item_id"]).any()
    refunds = clean[clean["event_type"] == "refund"]
    assert len(refunds) > 0
    matched = refunds.merge(buys, on=["order_id", "item_id"], suffixes=("", "_buy"), validate="one_to_one")
    assert len(matched) == len(refunds)
    assert (matched["user_id"] == matched["user_id_buy"]).all()
    assert (matched["t"] > matched["t_buy"]).all()
    assert (matched["p"] == matched["p_buy"]).all() and (matched["quantity"] == matched["quantity_buy"]).all()
    # every order line went through the cart first, and no event precedes its user's signup
    carts = clean[clean["event_type"] == "cart"]
    first_cart = carts.groupby(["session_id", "item_id"])["t"].min()
    bought_after = buys.join(first_cart.rename("t_cart"), on=["session_id", "item_id"])
    assert (bought_after["t_cart"] <= bought_after["t"]).all()
    users = shop.users.dropna(subset=["user_id"]).set_index("user_id")
    signup = pd.to_datetime(users["signup_date"], format="%Y-%m-%d", errors="coerce")
    first_seen = clean.groupby("user_id")["t"].min().dt.normalize()
    joined = signup.reindex(first_seen.index)
    assert (first_seen[joined.notna()] >= joined[joined.notna()]).all()


def test_items_have_lognormal_prices_per_category_and_zipf_popularity(shop: Shop, clean: pd.DataFrame) -> None:
    assert shop.items["item_id"].is_unique and (shop.items["price"] > 0).all()
    assert {"服装", "美妆", "数码", "家居", "食品", "母婴", "运动"} <= set(shop.items["category"])
    log_price = np.log(shop.items["price"])
    by_cat = log_price.groupby(shop.items["category"])
    # digital goods (median 899) cost far more than food (median 39): exp(median log) near those
    assert 600 < np.exp(by_cat.median()["数码"]) < 1300 and 25 < np.exp(by_cat.median()["食品"]) < 60
    assert (by_cat.std() > 0.3).all()
    views = clean.loc[clean["event_type"] == "view", "item_id"].value_counts()
    top = len(shop.items) // 100
    assert views.iloc[:top].sum() / views.sum() > 0.2  # a uniform catalogue would give 1%
    # within one category, views fall roughly as 1 / rank (Zipf exponent near 1)
    food = clean[(clean["event_type"] == "view") & (clean["category"] == "服装")]["item_id"].value_counts()
    ranks = np.arange(1, 51)
    slope = np.polyfit(np.log(ranks), np.log(food.iloc[:50].to_numpy()), 1)[0]
    assert -1.6 < slope < -0.5


def test_festivals_evenings_and_weekends_are_busier(clean: pd.DataFrame) -> None:
    daily = clean.groupby(clean["t"].dt.normalize()).size()
    mean = daily.mean()
    assert daily[pd.Timestamp("2025-11-11")] > 3 * mean  # Double 11, lift 5
    assert daily[pd.Timestamp("2025-06-18")] > 2 * mean  # 618, lift 3.5
    assert daily[pd.Timestamp("2025-12-12")] > 1.5 * mean  # Double 12, lift 2.5
    hourly = clean.groupby(clean["t"].dt.hour).size()
    assert hourly.idxmax() in (20, 21, 22) and hourly[21] > 5 * hourly[4]
    weekday = clean.groupby(clean["t"].dt.day_of_week).size()
    assert weekday[5] > weekday[0]  # Saturday over Monday


def test_attributes_are_mostly_chinese_with_some_english(shop: Shop) -> None:
    u = shop.users.dropna(subset=["user_id"])
    gender = u["gender"].value_counts()
    assert gender[["女", "男"]].sum() > 0.75 * len(u)
    assert gender[["female", "male"]].sum() > 0.05 * len(u)
    chinese_city = u["city"].dropna().str.contains(r"[\u4e00-\u9fff]")
    assert 0.8 < chinese_city.mean() < 0.97
    assert set(u["member_level"]) == {"普通会员", "银卡", "金卡", "钻石"}
    ids = shop.users["user_id"].dropna()
    assert ids.str.fullmatch(r"U\d{6}").all()


def test_missing_attributes_are_missing_not_text(shop: Shop) -> None:
    # MISSING_SHARE (4 %) of 3000 users have no gender: about 120, binomial sd about 11. Missing must be
    # missing (not the text 'None', which pandas 2.2 makes of None in a "str" array).
    u = shop.users
    assert set(u["gender"].dropna()) == {"女", "男", "female", "male"}
    assert 0.02 * len(u) < u["gender"].isna().sum() < 0.06 * len(u)
    assert 0.02 * len(u) < u["age"].isna().sum() < 0.06 * len(u)


# -- the planted behaviour types --------------------------------------------------------------------


def test_each_type_shows_its_signature(shop: Shop, clean: pd.DataFrame) -> None:
    kind = _type_of(shop)
    orders = clean[clean["event_type"] == "purchase"].groupby("user_id")["order_id"].nunique()
    orders = orders.reindex(kind.index, fill_value=0)
    views = _per_user(clean, "view", shop)
    carts = _per_user(clean, "cart", shop)
    mean_orders = orders.groupby(kind).mean()
    # loyal: an order about every month (0.07 visits a day, ~45% of visits end in an order)
    assert mean_orders["loyal_high_spender"] > 8
    # window shoppers: many views, almost never an order; far below the loyal
    assert mean_orders["window_shopper"] < 0.1 * mean_orders["loyal_high_spender"]
    assert views.groupby(kind).median()["window_shopper"] >= views.groupby(kind).median()["lapsed"] * 2
    # cart abandoners: most carted items never bought; the loyal buy most of theirs
    bought = orders.groupby(kind).sum()
    assert carts.groupby(kind).sum()["cart_abandoner"] > 5 * bought["cart_abandoner"]
    assert (
        carts.groupby(kind).sum()["loyal_high_spender"]
        < 2.5 * clean[(clean["event_type"] == "purchase") & (clean["type"] == "loyal_high_spender")].shape[0]
    )
    # lapsed: were buyers, then nothing in the last 120 days (quiet 135-240 days; refunds follow
    # purchases by at most 14 days)
    last = clean.groupby("user_id")["t"].max()
    lapsed = kind[kind == "lapsed"].index
    assert (last.reindex(lapsed) < pd.Timestamp(END) - pd.Timedelta(days=119)).all()
    assert (orders.reindex(lapsed) >= 1).mean() > 0.97
    # loyal and bargain hunters are recent: most visited in the last 30 days
    recent = last >= pd.Timestamp(END) - pd.Timedelta(days=29)
    assert recent.groupby(kind.reindex(last.index)).mean()["loyal_high_spender"] > 0.8
    # newcomers signed up in the last 60 days and the others before that
    signup = pd.to_datetime(shop.users.set_index("user_id")["signup_date"], errors="coerce").dropna()
    age_days = (pd.Timestamp(END) - signup).dt.days
    types_of_signed = kind.reindex(age_days.index)
    assert age_days[types_of_signed == "newcomer"].between(0, 60).all()
    assert (age_days[types_of_signed != "newcomer"] > 60).all()


def test_bargain_hunters_pay_below_the_category_median_and_the_loyal_above(clean: pd.DataFrame) -> None:
    buys = clean[clean["event_type"] == "purchase"].copy()
    buys["level"] = buys["p"] / buys.groupby("category")["p"].transform("median")
    level = buys.groupby("user_id")["level"].mean().groupby(buys.groupby("user_id")["type"].first()).median()
    assert level["bargain_hunter"] < 0.7 < 1.3 < level["loyal_high_spender"]
    # coupons: lines paid below the item's most common price, mostly by bargain hunters
    usual = buys.groupby("item_id")["p"].transform(lambda p: p.mode().max())
    below = (buys["p"] < usual).groupby(buys["type"]).mean()
    assert below["bargain_hunter"] > 0.5 > 0.3 > below["loyal_high_spender"]


def test_types_are_recoverable_by_plain_clustering(shop: Shop, clean: pd.DataFrame) -> None:
    """Issue 4 must reach ARI >= 0.8 on these types: plain k-means on a few obvious features does."""
    kind = _type_of(shop)
    ids = kind.index
    asof = pd.Timestamp(shop.as_of)
    buys = clean[clean["event_type"] == "purchase"].copy()
    buys["level"] = buys["p"] / buys.groupby("category")["p"].transform("median")
    last_visit = (asof - clean.groupby("user_id")["t"].max()).dt.days.reindex(ids)
    signup = pd.to_datetime(shop.users.set_index("user_id")["signup_date"], errors="coerce")
    signup = signup[signup.index.notna()].reindex(ids).fillna(clean.groupby("user_id")["t"].min())
    carts = _per_user(clean, "cart", shop)
    orders = buys.groupby("user_id")["order_id"].nunique().reindex(ids, fill_value=0)
    X = pd.DataFrame(
        {
            "recency_visit": np.log1p(last_visit.fillna(400)),
            "tenure": np.log1p((asof - signup).dt.days),
            "orders": np.log1p(orders),
            "views": np.log1p(_per_user(clean, "view", shop)),
            "carts": np.log1p(carts),
            "abandonment": (1 - orders / carts.where(carts > 0)).clip(0, 1).fillna(0),
            "price_level": np.log(buys.groupby("user_id")["level"].mean().reindex(ids).fillna(1)),
        }
    )
    labels = KMeans(6, n_init=10, random_state=0).fit_predict(StandardScaler().fit_transform(X))
    assert adjusted_rand_score(kind, labels) > 0.8


# -- dirty rows -------------------------------------------------------------------------------------


def test_dirty_rows_are_exactly_the_counted_ones(shop: Shop) -> None:
    faults = _faults(shop.events)
    found = faults.sum().to_dict()
    assert found == {k: shop.dirty[k] for k in DIRTY_EVENT_KINDS}
    assert (faults.sum(axis=1) <= 1).all()  # one fault per row, so one rejection reason
    clean_rows = len(shop.events) - faults.any(axis=1).sum()
    assert abs(faults.any(axis=1).sum() / clean_rows - 0.005) < 0.0005
    assert min(found.values()) > 0 and max(found.values()) - min(found.values()) <= 1
    # a duplicate sits right after its original, as a retried upload leaves it
    dup = np.flatnonzero(faults["events.duplicate"].to_numpy())
    assert shop.events.iloc[dup].reset_index(drop=True).equals(shop.events.iloc[dup - 1].reset_index(drop=True))

    users = shop.users
    age = users["age"]
    bad = {
        "users.age_out_of_range": int(((age < 0) | (age > 120)).sum()),
        "users.unparseable_signup_date": int(pd.to_datetime(users["signup_date"], format="%Y-%m-%d",
                                                            errors="coerce").isna().sum()),
        "users.empty_user_id": int(users["user_id"].isna().sum()),
    }  # fmt: skip
    assert bad == {k: shop.dirty[k] for k in DIRTY_USER_KINDS}
    assert all(n >= 1 for n in bad.values())


def test_no_dirt_when_asked_for_none() -> None:
    s = generate_shop(n_users=500, seed=9, dirty_share=0.0)
    assert not _faults(s.events).any().any()
    assert set(s.dirty.values()) == {0}
    assert s.users["user_id"].notna().all() and s.users["age"].dropna().between(0, 120).all()


# -- files --------------------------------------------------------------------------------------------


def test_written_files_read_back_as_generated(tmp_path: Path) -> None:
    s = generate_shop(n_users=300, seed=1)
    paths = write_shop(s, tmp_path / "shop")
    assert {k: p.name for k, p in paths.items()} == {
        "events": "events.csv", "users": "users.csv", "items": "items.csv", "truth": "truth.csv",
        "dirty": "dirty.json",
    }  # fmt: skip
    for name in ("events", "users", "items", "truth"):
        # every cell as text, missing values as empty fields
        back = pd.read_csv(paths[name], dtype=str, keep_default_na=False, encoding="utf-8")
        frame = getattr(s, name)
        assert list(back.columns) == list(frame.columns)
        for column in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[column]):
                numbers = pd.to_numeric(back[column].replace("", np.nan)).astype(float)
                pd.testing.assert_series_equal(numbers, frame[column].astype(float), check_names=False)
            else:
                expected = [("" if pd.isna(v) else str(v)) for v in frame[column].astype(object)]
                assert back[column].tolist() == expected, (name, column)
    assert json.loads(paths["dirty"].read_text(encoding="utf-8")) == s.dirty
    assert paths["items"].read_text(encoding="utf-8").splitlines()[0] == "item_id,category,brand,price"


def test_parquet_output_keeps_the_frames(tmp_path: Path) -> None:
    s = generate_shop(n_users=300, seed=1)
    paths = write_shop(s, tmp_path, format="parquet")
    assert paths["events"].suffix == ".parquet" and paths["truth"].suffix == ".csv"
    back = pd.read_parquet(paths["events"])
    assert len(back) == len(s.events)
    assert back["ts"].tolist() == s.events["ts"].tolist()
    assert back["price"].fillna("").tolist() == s.events["price"].fillna("").tolist()
    pd.testing.assert_series_equal(back["quantity"], s.events["quantity"], check_dtype=False)


def test_type_table_is_consistent() -> None:
    assert abs(sum(t.share for t in BEHAVIOUR_TYPES) - 1) < 1e-9
    assert len({t.key for t in BEHAVIOUR_TYPES}) == len(BEHAVIOUR_TYPES)
    assert all(re.fullmatch(r"[a-z_]+", t.key) for t in BEHAVIOUR_TYPES)
