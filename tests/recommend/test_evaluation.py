"""Ranking metrics by hand, against implicit's own evaluation, and MovieLens-100k's ua split beside
the published figures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from segmark.core.recommend import (
    ALSRecommender,
    BlendedRecommender,
    ItemKNNRecommender,
    interaction_matrix,
    per_user_metrics,
    popularity_baseline,
    ranking_metrics,
)
from segmark.core.recommend.evaluation import metrics_by_group
from segmark.core.recommend.protocol import relevant_matrix


def test_metrics_by_hand() -> None:
    # user 0: list [5, 1, 7], held out {1, 7, 9}; user 1: list [2, 3, -1], held out {4}
    recommended = np.array([[5, 1, 7], [2, 3, -1]])
    relevant = sp.csr_matrix((np.ones(4), ([0, 0, 0, 1], [1, 7, 9, 4])), shape=(2, 10))
    m = ranking_metrics(recommended, relevant, ks=(2, 3), item_users=np.full(10, 4), n_train_users=9)
    assert m["precision@3"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["recall@3"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["precision@2"] == pytest.approx((1 / 2) / 2)
    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["ndcg@3"] == pytest.approx(dcg / ideal / 2)
    assert m["map@3"] == pytest.approx(((1 / 2 + 2 / 3) / 3) / 2)
    assert m["hit_rate@3"] == pytest.approx(0.5)
    assert m["coverage"] == pytest.approx(4 / 10)  # items 5, 1, 2, 3 in the top 2
    assert m["novelty"] == pytest.approx(-math.log2(5 / 10))
    assert m["users"] == 2


def test_unknown_held_out_items_count_against_recall() -> None:
    recommended = np.array([[1, 2]])
    relevant = sp.csr_matrix((np.ones(1), ([0], [1])), shape=(1, 5))
    m = ranking_metrics(recommended, relevant, n_relevant=np.array([2]), ks=(2,))
    assert m["recall@2"] == pytest.approx(0.5)  # the second held-out item was never seen in training


def test_metrics_by_group_split_users() -> None:
    recommended = np.array([[1, 2], [3, 4], [5, 6]])
    relevant = sp.csr_matrix((np.ones(3), ([0, 1, 2], [1, 9, 6])), shape=(3, 10))
    out = metrics_by_group(recommended, relevant, np.array([1, 1, 1]), np.array(["a", "a", None], dtype=object),
                           ks=(2,))
    assert out["a"]["hit_rate@2"] == pytest.approx(0.5) and out["(none)"]["hit_rate@2"] == pytest.approx(1.0)


class _AsImplicit:
    """Our served model behind implicit's recommend signature, for implicit's evaluation."""

    def __init__(self, model: BlendedRecommender, train) -> None:
        self.model, self.train = model, train

    def recommend(self, userid, user_items, N=10, filter_already_liked_items=True, **_: object):
        userid = np.asarray(userid)
        ids, scores = self.model.recommend(userid, self.train.rows(userid), N)
        return ids.astype(np.int32), scores


@pytest.fixture(scope="module")
def movielens_ua(shared_data: Path):
    folder = shared_data / "movielens-100k"
    names = ["user_id", "item_id", "rating", "ts"]
    base = pd.read_csv(folder / "ua.base", sep="\t", names=names)
    test = pd.read_csv(folder / "ua.test", sep="\t", names=names)
    assert len(base) == 90_570 and len(test) == 9_430  # 10 test ratings for each of 943 users (README)
    rows = base.assign(event_type="purchase")  # every rating is a positive
    users = pd.Index(sorted(set(base["user_id"].astype(str)) | set(test["user_id"].astype(str))))
    train = interaction_matrix(rows, weights={"purchase": 1.0}, users=users)
    return train, test[["user_id", "item_id"]].astype(str)


def _evaluate(train, test, model: BlendedRecommender) -> tuple[dict[str, float], np.ndarray, sp.csr_matrix]:
    users, relevant, n_relevant = relevant_matrix(train, test)
    model.fit(train)
    ids, _ = model.recommend(users, train.rows(users), 20)
    return ranking_metrics(ids, relevant, n_relevant, ks=(10, 20)), users, relevant


def test_movielens_ua_beside_the_published_figures(movielens_ua) -> None:
    """Published (issue 10, measured with implicit on ua, all ratings positive): popularity 0.12,
    item-kNN cosine 0.19, ALS 0.23 precision@10; LightFM's WARP example 0.11. Nobody rewatches, so
    rated items are excluded (the repeat rate is 0)."""
    train, test = movielens_ua
    none = np.zeros(train.shape[1], dtype=bool)
    pop, _, _ = _evaluate(train, test, popularity_baseline(none))
    knn, _, _ = _evaluate(train, test, BlendedRecommender(ItemKNNRecommender(K=20), allowed=none))
    als, _, _ = _evaluate(train, test, BlendedRecommender(ALSRecommender(factors=64, iterations=15), allowed=none))
    assert pop["precision@10"] == pytest.approx(0.12, abs=0.01)
    assert knn["precision@10"] == pytest.approx(0.19, abs=0.02)
    assert als["precision@10"] == pytest.approx(0.23, abs=0.04)
    assert knn["precision@10"] > 0.11 and als["precision@10"] > 0.11  # better than LightFM's WARP example


def test_our_metrics_equal_implicits_on_the_same_lists(movielens_ua) -> None:
    from implicit.evaluation import ranking_metrics_at_k

    train, test = movielens_ua
    # implicit's test matrix can only hold items of the training matrix: compare on those (2 of
    # ua.test's 9,430 ratings are of movies ua.base never saw)
    test = test[train.ids.item_index(test["item_id"]) >= 0]
    assert len(test) == 9_428
    none = np.zeros(train.shape[1], dtype=bool)
    model = BlendedRecommender(ItemKNNRecommender(K=20), allowed=none, cold_shrink=0)
    ours, _, _ = _evaluate(train, test, model)
    t = sp.csr_matrix((np.ones(len(test)), (train.ids.user_index(test["user_id"]),
                                            train.ids.item_index(test["item_id"]).clip(0))), shape=train.shape)
    t.data[:] = 1
    theirs = ranking_metrics_at_k(_AsImplicit(model, train), train.weights, t, K=10, show_progress=False)
    # implicit's "precision" is all hits over the sum of min(K, held-out items); ours is the mean of
    # each user's hits / K: the same hits behind both
    users, relevant, n_relevant = relevant_matrix(train, test)
    ids, _ = model.recommend(users, train.rows(users), 10)
    per_user = per_user_metrics(ids, relevant, n_relevant, (10,))
    hits = per_user["precision@10"] * 10
    n_rel = n_relevant[per_user.index]
    assert hits.sum() / np.minimum(10, n_rel).sum() == pytest.approx(theirs["precision"], abs=1e-9)
    assert ours["precision@10"] == pytest.approx(hits.mean() / 10, abs=1e-12)
    assert ours["map@10"] == pytest.approx(theirs["map"], abs=1e-9)
    assert ours["ndcg@10"] == pytest.approx(theirs["ndcg"], abs=1e-9)
