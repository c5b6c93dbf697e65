"""The surrogate tree restates segments as rules on original units; one user's 'why'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmark.core.segment.explain import Condition, fit_surrogate, nearest_centres, render


@pytest.fixture(scope="module")
def ruled() -> tuple[pd.DataFrame, np.ndarray]:
    """Segments defined by known rules: no orders -> 0; orders and spend above 500 -> 1; else 2.
    Buyers' spend is at most 400 or at least 600, so the tree's cut is the midpoint, 500. Users
    without orders have spend (say, gift cards) across the whole range, so only the order count
    separates them, and it separates them best: the tree's first cut is certain."""
    rng = np.random.default_rng(0)
    n = 900
    freq = np.concatenate([np.zeros(300), rng.integers(1, 6, 600)])
    monetary = np.concatenate([rng.uniform(10, 2000, 300), rng.uniform(600, 2000, 300),
                               rng.uniform(10, 400, 300)])
    monetary[[300, 600]] = [600.0, 400.0]
    city = np.where(np.arange(n) % 2 == 0, "北京", "上海")
    X = pd.DataFrame({"frequency": freq, "monetary": monetary, "city": city},
                     index=[f"u{i}" for i in range(n)])
    labels = np.where(freq == 0, 0, np.where(monetary > 500, 1, 2))
    return X, labels


def test_rules_reproduce_known_segments(ruled):
    X, labels = ruled
    s = fit_surrogate(X, labels, numeric=["frequency", "monetary"], categorical=["city"])
    assert s.fidelity == 1.0
    texts = {r.segment: r.text for r in s.rules}
    assert texts[0] == "frequency <= 0"
    assert texts[1] == "frequency >= 1 and monetary > 500"
    assert texts[2] == "frequency >= 1 and monetary <= 500"
    assert s.rules_for(1)[0].coverage == 1.0 and s.rules_for(1)[0].precision == 1.0
    assert s.rules_for(0)[0].text_zh == "frequency <= 0"
    assert "且" in s.rules_for(1)[0].text_zh


def test_explain_one_user(ruled):
    X, labels = ruled
    s = fit_surrogate(X, labels, numeric=["frequency", "monetary"])
    i = int(np.flatnonzero(labels == 1)[0])
    why = s.explain(X.iloc[[i]])
    assert why["tree_segment"] == 1
    assert why["rule"] == "frequency >= 1 and monetary > 500"
    assert why["leaf_purity"] == 1.0


def test_category_and_unknown_values_in_rules():
    rng = np.random.default_rng(1)
    n = 400
    city = rng.choice(["北京", "上海", "广州"], n)
    days = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(0, 100, n))
    labels = (city == "北京").astype(int)
    X = pd.DataFrame({"city": city, "recency_days": days})
    s = fit_surrogate(X, labels, numeric=["recency_days"], categorical=["city"])
    assert s.fidelity == 1.0
    assert {r.text for r in s.rules} == {"city = 北京", "city ≠ 北京"}
    assert {r.text_zh for r in s.rules} == {"city 为 北京", "city 不为 北京"}


def test_rule_on_unknown_values():
    """Recency is unknown exactly for users who never bought: the tree can split on 'unknown'."""
    n = 300
    days = np.where(np.arange(n) < 100, np.nan, np.linspace(1, 300, n))
    labels = np.isnan(days).astype(int)
    s = fit_surrogate(pd.DataFrame({"recency_days": days}), labels, numeric=["recency_days"])
    assert s.fidelity == 1.0
    assert {r.text for r in s.rules} == {"recency_days unknown", "recency_days known"}
    assert {r.text_zh for r in s.rules} == {"recency_days 未知", "recency_days 已知"}


def test_render_ranges_integers_and_missing():
    conds = [Condition("frequency", low=0.5, high=3.5), Condition("recency_days", high=30.25, missing=True),
             Condition("aov", low=12.345)]
    en, zh = render(conds, integer_columns={"frequency"}, missing_columns={"recency_days"})
    assert en == "1 <= frequency <= 3 and (recency_days <= 30.2 or unknown) and aov > 12.3"
    assert zh == "1 <= frequency <= 3且（recency_days <= 30.2 或未知）且aov > 12.3"
    assert render([Condition("frequency", low=1.5, high=2.5)], {"frequency"}, set())[0] == "frequency = 2"
    assert render([], set(), set()) == ("all users", "所有用户")


def test_nearest_centres():
    assert nearest_centres(np.array([3.0, 1.0, 2.0]), top=2) == [(1, 1.0), (2, 2.0)]


def test_category_conditions_are_merged():
    conds = [Condition("member_level = 普通会员", high=0.5), Condition("member_level = 银卡", low=0.5),
             Condition("city = 北京", high=0.5), Condition("city = 上海", high=0.5)]
    en, zh = render(conds, set(), set(), {"member_level": "会员等级", "city": "城市"})
    assert en == "member_level = 银卡 and city not in {北京, 上海}"
    assert zh == "会员等级 为 银卡且城市 不属于 {北京、上海}"


def test_rules_with_text_labels(ruled):
    """Segment labels need not be integers: the rules keep the labels they were given."""
    X, labels = ruled
    named = np.array(["browsers", "big spenders", "small spenders"])[labels]
    s = fit_surrogate(X, named, numeric=["frequency", "monetary"], categorical=["city"])
    assert {r.segment: r.text for r in s.rules} == {
        "browsers": "frequency <= 0",
        "big spenders": "frequency >= 1 and monetary > 500",
        "small spenders": "frequency >= 1 and monetary <= 500",
    }
