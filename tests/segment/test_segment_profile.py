"""Profiles, names and migration, on small tables worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmark.core.segment.claims import MIN_PURITY, segment_facts, term_holds
from segmark.core.segment.migration import GONE, NEW, migration_matrix
from segmark.core.segment.naming import MIN_SCORE, apply_name_overrides, archetype_scores, describe, name_segments
from segmark.core.segment.profile import effect_matrix, feature_profile, segment_summary
from segmark.pipeline.segmentation.read import distinguishing


@pytest.fixture
def small() -> tuple[pd.DataFrame, pd.Series]:
    features = pd.DataFrame({
        "monetary": [100.0, 300.0, -20.0, 0.0, 10.0, 10.0],
        "frequency": [2, 4, 1, 0, 1, 1],
        "top_category": ["美妆", "美妆", "食品", None, "食品", "图书"],
    }, index=pd.Index(["a", "b", "c", "d", "e", "f"], name="user_id"))
    labels = pd.Series([0, 0, 1, 1, 1, 1], index=features.index)
    return features, labels


def test_summary_sizes_revenue_and_categories(small):
    features, labels = small
    s = segment_summary(features, labels)
    assert s["size"].tolist() == [2, 4]
    assert s["share"].tolist() == pytest.approx([1 / 3, 2 / 3])
    # Net spend, negative balances counted as 0: 400 and 0 + 0 + 10 + 10 = 20 of 420.
    assert s["revenue"].tolist() == [400.0, 20.0]
    assert s["revenue_share"].tolist() == pytest.approx([400 / 420, 20 / 420])
    assert s.loc[0, "top_categories"] == [("美妆", 1.0)]
    assert s.loc[1, "top_categories"] == [("食品", 0.5), ("图书", 0.25)]


def test_feature_profile_medians_and_lifts(small):
    features, labels = small
    p = feature_profile(features, labels).set_index(["segment", "feature"])
    assert p.loc[(0, "frequency"), "median"] == 3.0
    assert p.loc[(1, "frequency"), "median"] == 1.0
    assert p.loc[(0, "frequency"), "mean"] == 3.0
    # Overall mean frequency is 9/6 = 1.5: lift 2 for segment 0, 0.75/1.5 = 0.5 for segment 1.
    assert p.loc[(0, "frequency"), "lift"] == pytest.approx(2.0)
    assert p.loc[(1, "frequency"), "lift"] == pytest.approx(0.5)
    assert p.loc[(0, "frequency"), "overall_median"] == 1.0
    assert p.loc[(0, "frequency"), "effect"] > 0 > p.loc[(1, "frequency"), "effect"]
    assert set(p.index.get_level_values("feature")) == {"monetary", "frequency"}


def planted_profiles() -> tuple[pd.DataFrame, pd.Series]:
    """Six planted shopper types, each different from the rest in its textbook way."""
    rng = np.random.default_rng(0)
    types = ["loyal", "cart", "window", "bargain", "lapsed", "new"]
    rows = []
    for t in types:
        for _ in range(200):
            buyer = t in ("loyal", "bargain", "lapsed")
            rows.append({
                "type": t,
                "frequency": rng.poisson(12) + 3 if t == "loyal" else (rng.poisson(3) + 1 if buyer else 0),
                "monetary": rng.lognormal(8, 0.3) if t == "loyal" else (rng.lognormal(5, 0.3) if buyer else 0),
                "recency_visit_days": rng.uniform(150, 300) if t == "lapsed" else rng.exponential(5),
                "tenure_days": rng.uniform(0, 30) if t == "new" else rng.uniform(300, 1500),
                "views_90d": 0 if t == "lapsed" else rng.poisson(120 if t == "window" else 30),
                "carts_90d": 0 if t == "lapsed" else rng.poisson(25 if t == "cart" else 3),
                "cart_abandonment_rate": rng.beta(20, 1) if t == "cart" else rng.beta(2, 5),
                "price_level": rng.normal(0.5, 0.05) if t == "bargain" else (rng.normal(1.0, 0.1) if buyer else np.nan),
                "low_price_share": rng.beta(9, 1) if t == "bargain" else (rng.beta(2, 6) if buyer else np.nan),
            })
    frame = pd.DataFrame(rows)
    return frame.drop(columns="type"), frame["type"]


def test_planted_types_get_their_names():
    features, types = planted_profiles()
    names = name_segments(effect_matrix(feature_profile(features, types)))
    assert names.loc["loyal", "name"] == "High-value loyal"
    assert names.loc["loyal", "name_zh"] == "高价值忠诚用户"
    assert names.loc["cart", "name_zh"] == "加购未买用户"
    assert names.loc["window", "name"] == "Window shoppers"
    assert names.loc["bargain", "name_zh"] == "价格敏感用户"
    assert names.loc["lapsed", "name"] == "Lapsed"
    assert names.loc["new", "name_zh"] == "新用户"
    assert names["name"].is_unique and names["name_zh"].is_unique
    assert (names["source"] == "archetype").all()


def test_planted_types_keep_their_names_when_the_claims_are_checked():
    features, types = planted_profiles()
    facts = segment_facts(features, types)
    names = name_segments(effect_matrix(feature_profile(features, types)), facts=facts)
    assert dict(names["key"]) == {"loyal": "high_value_loyal", "cart": "cart_abandoners", "window": "window_shoppers",
                                  "bargain": "bargain_hunters", "lapsed": "lapsed", "new": "newcomers"}
    # a segment half of whose users are bargain hunters and half typical buyers (the bargain hunters'
    # rows with the usual price level and low-price share)
    rng = np.random.default_rng(1)
    typical = features[types == "bargain"].assign(price_level=rng.normal(1.0, 0.1, 200),
                                                  low_price_share=rng.beta(2, 6, 200))
    typical.index = [f"t{i}" for i in range(200)]
    both = pd.concat([features, typical])
    half = pd.concat([types, pd.Series("bargain", index=typical.index)])
    effects = effect_matrix(feature_profile(both, half))
    assert archetype_scores(effects).loc["bargain", "bargain_hunters"] >= MIN_SCORE  # the effects point at it
    half_facts = segment_facts(both, half)
    # 200 at half the usual price level and 200 at the usual one, about half of them below the median
    assert 0.6 < half_facts.below.loc["bargain", "price_level"] < MIN_PURITY
    assert name_segments(effects, facts=half_facts).loc["bargain", "key"] != "bargain_hunters"


def test_names_without_archetype_are_descriptive_and_unique():
    effects = pd.DataFrame({"views_30d": [1.5, 1.2, 0.0], "frequency": [-0.9, -0.6, 0.1],
                            "weekend_share": [0.0, 0.0, 0.05]}, index=[0, 1, 2])
    # Segments 0 and 1 both look like window shoppers; only one can have the archetype.
    names = name_segments(effects)
    assert names.loc[0, "key"] == "window_shoppers"
    assert names.loc[1, "source"] == "description"
    assert names.loc[1, "name"] == "Many views & few orders"
    assert names.loc[1, "name_zh"] == "浏览多、订单少用户"
    assert names.loc[2, "name"] == "Typical users" and names.loc[2, "name_zh"] == "普通用户"
    assert describe(pd.Series({"age": 0.1})) is None
    assert describe(pd.Series({"my_score": 0.8}))[1] == "my_score高用户"


def test_name_overrides_by_segmentation_and_segment_id_then_by_kind_and_key():
    names = pd.DataFrame({"key": ["newcomers", "typical"], "name": ["Newcomers", "Typical users"],
                          "name_zh": ["新用户", "普通用户"], "source": ["archetype", "description"]}, index=[0, 1])
    overrides = {"cluster:newcomers": {"en": "Fresh faces", "zh": "新面孔"}, "7:0": {"zh": "新朋友"},
                 "7:1": {"en": "Everyone else"}, "rfm:typical": {"en": "Not this kind"}}
    got = apply_name_overrides(names, overrides, kind="cluster", segmentation_id=7)
    # "7:0" names segment 0 of segmentation 7 and comes before the key; it leaves the English name.
    assert got.loc[0, ["name", "name_zh", "source"]].tolist() == ["Newcomers", "新朋友", "override"]
    assert got.loc[1, ["name", "name_zh", "source"]].tolist() == ["Everyone else", "普通用户", "override"]
    # Another segmentation: only the kind-and-key override applies; another kind's key does not.
    other = apply_name_overrides(names, overrides, kind="cluster", segmentation_id=8)
    assert other.loc[0, ["name", "name_zh"]].tolist() == ["Fresh faces", "新面孔"]
    assert other.loc[1, ["name", "source"]].tolist() == ["Typical users", "description"]
    assert names.loc[0, "name_zh"] == "新用户"  # the input is not changed


def test_archetype_scores_ignore_missing_features():
    effects = pd.DataFrame({"price_level": [-1.0]}, index=[0])
    scores = archetype_scores(effects)
    assert scores.loc[0, "bargain_hunters"] == pytest.approx(1.0)
    assert np.isnan(scores.loc[0, "lapsed"])  # none of its main features is in the table


def test_migration_matrix_counts_users_and_revenue():
    before = pd.Series({"a": "Loyal", "b": "Loyal", "c": "New", "d": "Lost"})
    after = pd.Series({"a": "Loyal", "b": "At Risk", "c": "Loyal", "e": "New"})
    revenue = pd.Series({"a": 100.0, "b": 50.0, "c": 20.0, "e": 5.0})
    m = migration_matrix(before, after, revenue=revenue, order=["Loyal", "At Risk", "New", "Lost"])
    u = m.users
    assert u.loc["Loyal", "Loyal"] == 1 and u.loc["Loyal", "At Risk"] == 1
    assert u.loc["New", "Loyal"] == 1 and u.loc["Lost", GONE] == 1 and u.loc[NEW, "New"] == 1
    assert int(u.to_numpy().sum()) == 5
    assert m.revenue.loc["Loyal", "At Risk"] == 50.0 and m.revenue.loc["Lost", GONE] == 0.0
    assert list(u.index) == ["Loyal", "New", "Lost", NEW]
    assert list(u.columns) == ["Loyal", "At Risk", "New", GONE]
    # Of the three users present both times, only "a" stayed put.
    assert m.stayed_share == pytest.approx(1 / 3)


def test_descriptive_names_mention_each_concept_once():
    effects = pd.Series({"purchases_365d": -1.2, "orders_365d": -1.1, "frequency": -1.0, "age": 0.9})
    assert describe(effects) == ("Few purchases & older", "购买少、年龄偏大用户")


def test_chinese_name_says_user_once():
    """A term that already names a kind of user ("老用户") is not followed by another 用户."""
    effects = pd.Series({"sessions_90d": 1.5, "tenure_days": 1.2})
    en, zh = describe(effects)
    assert zh.endswith("老用户") and "用户用户" not in zh
    assert en.endswith("long-standing")


def _profile_rows(features: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    return feature_profile(features, labels).rename(columns={"segment": "segment_id"})


def test_what_sets_a_segment_apart_is_a_difference_a_reader_can_use() -> None:
    # 400 users: segment 1 holds 48 of them (like Online Retail's April segment of 48)
    rng = np.random.default_rng(0)
    labels = pd.Series([0] * 352 + [1] * 48)
    one = labels.to_numpy() == 1
    refunds = np.where(rng.random(400) < 0.05, rng.uniform(0.1, 0.3, 400), 0.0)
    refunds[-1] = 57.0  # one user of segment 1 refunded 57 times what he kept
    features = pd.DataFrame({
        # segment 1: 529 days as a customer against the shop's 503: 5% more
        "tenure_days": np.where(one, 529.0, 499.5) + rng.normal(0, 1, 400),
        # a weekday code: segment 1 prefers Saturday (6), segment 0 Monday (1)
        "preferred_weekday": np.where(one, 6.0, 1.0),
        # orders: 6 against 1, a real difference
        "frequency": np.where(one, 6.0, 1.0),
        # refund rate: medians 0 and 0; means 1.2 and 0.01, all of it one user's
        "refund_rate": refunds,
    })
    profile = _profile_rows(features, labels)
    listed = [d["feature"] for d in distinguishing(profile, 1, top=5)]
    assert listed == ["frequency"]  # not tenure (5%), not the weekday code, not one user's refunds
    assert profile.loc[profile["feature"] == "preferred_weekday", "effect"].isna().all()
    tenure = profile.query("feature == 'tenure_days' and segment_id == 1").iloc[0]
    assert tenure["median"] / tenure["overall_median"] == pytest.approx(529 / 503, rel=0.01)
    # the 57 counts as the shop's 99.5th percentile (0.3 at most), so the segment's effect is small
    refund = profile.query("feature == 'refund_rate' and segment_id == 1")["effect"].item()
    assert abs(refund) < 0.3


def test_no_purchase_is_not_set_apart_by_what_defines_it() -> None:
    """Non-buyers have 0 orders and spend and bought none of their carts by definition; what sets
    them apart is their browsing, here 9 views a session against the buyers' 3."""
    labels = pd.Series([0] * 30 + [1] * 30)
    buyer = labels.to_numpy() == 0
    features = pd.DataFrame({
        "frequency": np.where(buyer, 3.0, 0.0),
        "monetary": np.where(buyer, 300.0, 0.0),
        "cart_to_purchase_rate": np.where(buyer, 0.6, 0.0),
        "views_per_session": np.where(buyer, 3.0, 9.0) + np.linspace(0, 0.5, 60),
    })
    profile = _profile_rows(features, labels)
    anyone = [d["feature"] for d in distinguishing(profile, 1, top=5)]
    assert set(anyone) == {"frequency", "monetary", "cart_to_purchase_rate", "views_per_session"}
    assert [d["feature"] for d in distinguishing(profile, 1, top=5, key="no_purchase")] == ["views_per_session"]
    # the buyers' side (another key) keeps every difference
    assert len(distinguishing(profile, 0, top=5, key="loyal")) == 4


def test_trend_terms_hold_against_steady_activity_not_only_the_shop() -> None:
    # a nine-day log: every trend is above 1 (events + 1 over 0 + 1); the lower half is not "falling"
    labels = pd.Series([0] * 20 + [1] * 20)
    features = pd.DataFrame({"trend_30d": np.r_[np.full(20, 113.0), np.full(20, 27.0)]})
    facts = segment_facts(features, labels)
    assert term_holds("trend_30d", 1, 0, facts)       # rising: above the shop's and above 1
    assert not term_holds("trend_30d", -1, 1, facts)  # below the shop's, but above 1: not falling
    falling = segment_facts(pd.DataFrame({"trend_30d": np.r_[np.full(20, 1.0), np.full(20, 0.4)]}), labels)
    assert term_holds("trend_30d", -1, 1, falling)


def test_revenue_is_known_when_nobody_bought_and_unknown_without_prices() -> None:
    """The feature build's rule (``shop_amounts``): no purchase yet means nobody spent anything
    (known, spend 0); purchases that all lack an amount mean spend is unknown."""
    from segmark.core.segment.claims import revenue_known

    nobody = pd.DataFrame({"frequency": [0, 0, 0], "aov": [np.nan] * 3, "monetary": [0.0] * 3})
    assert revenue_known(nobody)
    no_prices = pd.DataFrame({"frequency": [2, 0, 1], "aov": [np.nan] * 3, "monetary": [np.nan] * 3})
    assert not revenue_known(no_prices)
    priced = pd.DataFrame({"frequency": [2, 0, 1], "aov": [10.0, np.nan, np.nan], "monetary": [20.0, 0.0, np.nan]})
    assert revenue_known(priced)
    # Nobody bought: every segment holds none of the shop's revenue (0%, not unknown).
    labels = np.array([0, 1, 1])
    assert segment_summary(nobody, labels)["revenue_share"].tolist() == [0.0, 0.0]
    assert segment_facts(nobody, labels).revenue_share.tolist() == [0.0, 0.0]
    assert segment_summary(no_prices, labels)["revenue_share"].isna().all()
    assert segment_facts(no_prices, labels).revenue_share.isna().all()


def test_names_use_words_before_column_names():
    """The 240-user shop of the audit: a base count (``carted_items``) and a category's share stood
    out beside spend, and the name spelt the column ("Low spend & low carted_items"). A feature
    with words comes first; a column name only when nothing with words stands out (a user's own
    ``--features``)."""
    effects = pd.Series({"monetary": -1.4, "carted_items": -1.1, "cat_share__2520377": 1.3})
    assert describe(effects) == ("Low spend & few items carted", "消费低、加购商品少用户")
    assert describe(pd.Series({"cat_share__2520377": 1.3, "frequency": 0.5})) == ("Many orders", "订单多用户")
    # carted items and carts are one concept: named once
    assert describe(pd.Series({"carts_90d": 1.2, "carted_items": 1.1, "aov": 0.9}))[0] == "Many carts & large baskets"
