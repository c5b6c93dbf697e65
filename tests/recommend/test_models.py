"""Every recommender passes the contract; neighbours and lists on matrices worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from tests.recommend.contract import RecommenderContract

from segmark.core.recommend import (
    ALSRecommender,
    BlendedRecommender,
    BPRRecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    UserKNNRecommender,
    interaction_matrix,
    popularity_baseline,
    repeat_baseline,
)


class TestPopularity(RecommenderContract):
    planted_taste = True  # per segment: the segments are the planted groups

    def make(self):
        return PopularityRecommender()


class TestItemKNNCosine(RecommenderContract):
    def make(self):
        return ItemKNNRecommender(K=10)


class TestItemKNNBM25(RecommenderContract):
    def make(self):
        return ItemKNNRecommender(K=10, measure="bm25")


class TestUserKNN(RecommenderContract):
    def make(self):
        return UserKNNRecommender(K=10)


class TestALS(RecommenderContract):
    """Two factors for two planted tastes (more overfit 60 users)."""

    def make(self):
        return ALSRecommender(factors=2, iterations=20, regularization=0.1)


class TestALSPruned(RecommenderContract):
    """The norm-pruned path used at scale (forced here with a tiny exact limit)."""

    def make(self):
        return ALSRecommender(factors=2, iterations=20, regularization=0.1, exact_limit=1)


class TestBPR(RecommenderContract):
    def make(self):
        return BPRRecommender(factors=2, iterations=60, learning_rate=0.1)


class TestBlend(RecommenderContract):
    def make(self):
        return BlendedRecommender(ItemKNNRecommender(K=10), repeat_weight=1.0)


class TestRepeatBaseline(RecommenderContract):
    planted_taste = False  # with bought items excluded it is popularity

    def make(self):
        return repeat_baseline()


# -- known answers ------------------------------------------------------------------------------------


def _hand() -> pd.DataFrame:
    """u0: a b, u1: a b, u2: b c, u3: c d (views, weight 1)."""
    pairs = [("u0", "a"), ("u0", "b"), ("u1", "a"), ("u1", "b"), ("u2", "b"), ("u2", "c"), ("u3", "c"), ("u3", "d")]
    return pd.DataFrame([(u, i, "view", 1, 0.0) for u, i in pairs],
                        columns=["user_id", "item_id", "event_type", "n", "age_days"])


def test_item_knn_cosine_neighbours_by_hand() -> None:
    m = interaction_matrix(_hand())
    model = ItemKNNRecommender(K=20).fit(m)
    # items as user vectors: a=(1,1,0,0) b=(1,1,1,0) c=(0,0,1,1) d=(0,0,0,1)
    ids, scores = model.similar_items(2, N=5)  # c
    assert ids.tolist() == [3, 1]  # d then b
    np.testing.assert_allclose(scores, [1 / math.sqrt(2), 1 / math.sqrt(6)], rtol=1e-6)
    ids, scores = model.similar_items(0, N=5)  # a: only b
    assert ids.tolist() == [1]
    np.testing.assert_allclose(scores, [2 / math.sqrt(6)], rtol=1e-6)
    # u2 (b, c): a <- b 0.8165; d <- c 0.7071; b and c themselves excluded
    exclude = sp.csr_matrix(m.weights.astype(bool), dtype=np.float32)
    ids, scores = model.recommend(np.arange(4), m, 3, exclude=exclude)
    assert ids[2].tolist() == [0, 3, -1]
    np.testing.assert_allclose(scores[2][:2], [2 / math.sqrt(6), 1 / math.sqrt(2)], rtol=1e-6)


def test_item_knn_pruning_keeps_k_neighbours() -> None:
    m = interaction_matrix(_hand())
    model = ItemKNNRecommender(K=2).fit(m)  # itself and its best neighbour
    assert model.similar_items(1, N=5)[0].tolist() == [0]  # b keeps a (0.82), drops c (0.41)


def test_user_knn_by_hand() -> None:
    m = interaction_matrix(_hand())
    model = UserKNNRecommender(K=20).fit(m)
    # u0's neighbours: itself 1, u1 1, u2 0.5 -> a 2, b 2.5, c 0.5; a and b excluded
    exclude = sp.csr_matrix(m.weights.astype(bool), dtype=np.float32)
    ids, scores = model.recommend(np.arange(4), m, 3, exclude=exclude)
    assert ids[0].tolist() == [2, -1, -1]
    np.testing.assert_allclose(scores[0][0], 0.5, rtol=1e-6)
    # without exclusions the order is b (2.5), a (2), c (0.5)
    ids, scores = model.recommend(np.arange(4), m, 3)
    assert ids[0].tolist() == [1, 0, 2]
    np.testing.assert_allclose(scores[0], [2.5, 2.0, 0.5], rtol=1e-6)


def test_popularity_per_segment_is_shrunk_towards_the_shop() -> None:
    m = interaction_matrix(_hand()).with_segments({"u0": "s", "u1": "s", "u2": "t", "u3": "t"})
    model = PopularityRecommender(prior=0.0).fit(m)
    # distinct users per item: a 2, b 3, c 2, d 1 -> shop list b, a, c, d (ties by item)
    assert model.items_for(None)[0].tolist() == [1, 0, 2, 3]
    assert model.items_for("s")[0].tolist() == [0, 1]  # u0, u1: a 2, b 2
    assert model.items_for("t")[0].tolist() == [2, 1, 3]  # u2, u3: c 2, b 1, d 1
    shrunk = PopularityRecommender(prior=1000.0).fit(m)
    assert shrunk.items_for("s")[0].tolist()[:2] == [1, 0]  # a huge prior gives the shop's order back


def test_cold_users_get_their_segments_popular_items() -> None:
    m = interaction_matrix(_hand(), users=pd.Index(["u0", "u1", "u2", "u3", "new"]))
    m = m.with_segments({"u0": "s", "u1": "s", "u2": "t", "u3": "t", "new": "t"})
    model = BlendedRecommender(ItemKNNRecommender()).fit(m)
    ids, _ = model.recommend(np.array([-1]), m.rows(np.array([4])), 3)
    pop = PopularityRecommender().fit(m)
    assert ids[0].tolist() == pop.items_for("t")[0][:3].tolist()


def test_repeat_baseline_orders_by_own_buying_then_popularity() -> None:
    rows = pd.DataFrame([
        ("u", "old", "purchase", 3, 360.0),   # 3 x 2^-4 = 0.1875
        ("u", "new", "purchase", 1, 0.0),     # 1
        ("u", "mid", "purchase", 1, 90.0),    # 0.5
        ("v", "pop", "view", 1, 0.0), ("w", "pop", "view", 1, 0.0),
    ], columns=["user_id", "item_id", "event_type", "n", "age_days"])
    m = interaction_matrix(rows, repeat_half_life_days=90)
    model = repeat_baseline().fit(m)
    u = m.ids.user_index(["u"])
    ids, _ = model.recommend(u, m.rows(u), 4)
    assert m.ids.item_ids(ids[0]).tolist() == ["new", "mid", "old", "pop"]


def test_repeat_blend_only_brings_back_allowed_items() -> None:
    rows = pd.DataFrame([("u", "rice", "purchase", 2, 0.0), ("u", "tv", "purchase", 1, 0.0),
                         ("v", "rice", "view", 1, 0.0), ("v", "tv", "view", 1, 0.0), ("v", "cup", "view", 1, 0.0)],
                        columns=["user_id", "item_id", "event_type", "n", "age_days"])
    m = interaction_matrix(rows)
    allowed = np.array([item == "rice" for item in m.ids.items])
    model = BlendedRecommender(ItemKNNRecommender(), repeat_weight=math.inf, allowed=allowed).fit(m)
    u = m.ids.user_index(["u"])
    ids, _ = model.recommend(u, m.rows(u), 3)
    shown = [i for i in m.ids.item_ids(ids[0]) if i is not None]
    assert shown[0] == "rice" and "tv" not in shown  # rice first (repeat), the bought tv never again
    assert popularity_baseline(allowed).name == "popularity"


@pytest.mark.parametrize("mode,expected", [("allow", True), ("exclude", False)])
def test_blend_exclusions_follow_allowed(mode: str, expected: bool) -> None:
    m = interaction_matrix(_hand().assign(event_type="purchase"))
    allowed = np.full(m.shape[1], expected)
    model = BlendedRecommender(ItemKNNRecommender(), allowed=allowed).fit(m)
    ex = model.exclusions(m)
    assert (ex is None) == expected
