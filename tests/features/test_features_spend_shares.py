"""The spend share vector: per top category, the user's net purchase amount there over the user's
whole purchase amount before refunds. Values worked out by hand in the comments; as_of 2024-03-01."""

from __future__ import annotations

import math

import pytest

from segmark.pipeline.features import build_features, load_features
from segmark.workspace import Workspace

AS_OF = "2024-03-01"

EVENTS = [
    # u1 buys in A and B and one line without a category; returns part of A, and something bought
    # in C before the data starts
    ("u1", "purchase", "2024-02-01 10:00", "i1", "A", 100, 1, 100, "o1"),
    ("u1", "purchase", "2024-02-01 10:00", "i2", "Home & Garden", 50, 1, 50, "o1"),
    ("u1", "purchase", "2024-02-02 10:00", "i3", None, 50, 1, 50, "o2"),
    ("u1", "refund", "2024-02-05 10:00", "i1", "A", 30, 1, 30, "o1"),
    ("u1", "refund", "2024-02-06 10:00", "i4", "C", 20, 1, 20, "o0"),
    # u2 buys only a line without a category, and looks at A
    ("u2", "purchase", "2024-02-03 10:00", "i3", None, 40, 1, 40, "o3"),
    ("u2", "view", "2024-02-03 11:00", "i1", "A", 100),
    # u3 only looks at C
    ("u3", "view", "2024-02-04 10:00", "i4", "C", 20),
    ("u3", "view", "2024-02-04 10:05", "i4", "C", 20),
    ("u3", "view", "2024-02-04 10:10", "i4", "C", 20),
    # u4 only returns something in A, bought before the data starts
    ("u4", "refund", "2024-02-07 10:00", "i1", "A", 100, 1, 100, "o00"),
]
# the shop's top categories by interest events (refunds do not count): C 3 (u3), A 2 (u1, u2),
# Home & Garden 1 (u1)


@pytest.fixture
def shop(ws: Workspace, add_events) -> Workspace:
    add_events(ws, EVENTS)
    return ws


def test_spend_shares_by_hand(shop: Workspace) -> None:
    run, df = load_features(shop.store, build_features(shop, as_of=AS_OF).run_id)
    shares = [c.name for c in run.columns if c.template == "spend_share__{category}"]
    assert shares == ["spend_share__c", "spend_share__a", "spend_share__home_garden"]
    # u1: all purchase amount 100 + 50 + 50 = 200; A 100 - 30 refunded; Home & Garden 50; C: 20
    # refunded, nothing bought before as_of, so negative. With the 50 without a category the shares
    # add up to 150 / 200 = 1 - refund_rate (50 / 200)
    assert df.loc["u1", shares].tolist() == pytest.approx([-20 / 200, 70 / 200, 50 / 200])
    assert df.at["u1", "spend_share__a"] + df.at["u1", "spend_share__home_garden"] + df.at["u1", "spend_share__c"] \
        + 50 / 200 == pytest.approx(1 - df.at["u1", "refund_rate"])
    # u2: bought 40, none of it in a top category
    assert df.loc["u2", shares].tolist() == [0.0, 0.0, 0.0]
    # u3 (no purchases) and u4 (a refund only): no purchase amount, so no shares
    for user in ("u3", "u4"):
        assert all(math.isnan(v) for v in df.loc[user, shares]), user


def test_refund_only_categories_do_not_count_as_interest(shop: Workspace) -> None:
    df = load_features(shop.store, build_features(shop, as_of=AS_OF).run_id)[1]
    # u1's interest: A 1 purchase, Home & Garden 1 purchase; the refunds in A and C are not interest
    assert (df.at["u1", "top_category"], df.at["u1", "top_category_share"]) == ("A", 0.5)
    assert df.at["u1", "category_entropy"] == pytest.approx(1.0)
    assert df.loc["u1", ["cat_share__c", "cat_share__a", "cat_share__home_garden"]].tolist() == [0.0, 0.5, 0.5]
    # spend before refunds: A 100 of the 150 with a category
    assert (df.at["u1", "top_spend_category"], df.at["u1", "top_spend_category_share"]) == ("A", pytest.approx(2 / 3))
    # u4 has only a refund in A: no interest and no spend, exactly as without category rows
    assert df.at["u4", "top_category"] is None and df.at["u4", "top_spend_category"] is None
    for name in ("top_category_share", "category_entropy", "cat_share__a", "top_spend_category_share"):
        assert math.isnan(df.at["u4", name]), name


def test_spend_shares_follow_the_top_category_setting_and_have_chinese_labels(shop: Workspace,
                                                                               with_settings) -> None:
    two = with_settings(shop, features={"top_categories": 2})
    run, df = load_features(two.store, build_features(two, as_of=AS_OF).run_id)
    assert [c for c in df.columns if c.startswith("spend_share__")] == ["spend_share__c", "spend_share__a"]
    assert [c for c in df.columns if c.startswith("cat_share__")] == ["cat_share__c", "cat_share__a"]
    col = run.column("spend_share__a")
    assert (col.family, col.kind, col.unit, col.label_zh) == ("preference", "number", "ratio", "品类A消费占比")
    assert "A" in col.description
    assert run.column("spend_share__c").label_zh == "品类C消费占比"
