"""Neighbourhood models: item-based kNN (cosine or BM25) and user-based kNN.

The pruned similarity (each item's, or user's, ``K`` nearest, itself included) is computed by
implicit's multi-threaded ``all_pairs_knn``; scoring a batch of users is one sparse product
(history x item similarity, or user similarity x training matrix) instead of implicit's loop over
users, and the top-k of the product is taken for the whole batch at once (``topk.sparse_topk``).
Because an item is its own nearest neighbour, what a user viewed or carted scores on its own
evidence: in a shop those are the strongest candidates to buy (the funnel), unlike the plays and
ratings implicit was made for. Whether bought items may come back is the repurchase policy's call.
"""

from __future__ import annotations

from typing import Literal, Self

import numpy as np
import scipy.sparse as sp
from implicit.nearest_neighbours import ItemItemRecommender, bm25_weight, normalize

from segmark.core.recommend.base import Recommender
from segmark.core.recommend.matrix import Interactions

Measure = Literal["cosine", "bm25"]


def item_similarity(user_items: sp.csr_matrix, K: int, measure: Measure = "cosine", *, K1: float = 1.2,
                    B: float = 0.75) -> sp.csr_matrix:
    """Each column's ``K`` most similar columns (itself included) as a CSR matrix (rows: items)."""
    if measure == "cosine":
        weighted = normalize(user_items.T).T
    elif measure == "bm25":
        weighted = bm25_weight(user_items.T, K1, B).T
    else:
        raise ValueError(f"unknown similarity measure {measure!r}: cosine or bm25")
    knn = ItemItemRecommender(K=K)
    knn.fit(sp.csr_matrix(weighted, dtype=np.float64), show_progress=False)
    sim = sp.csr_matrix(knn.similarity, dtype=np.float32)
    sim.sort_indices()
    return sim


class ItemKNNRecommender(Recommender):
    """Items like the ones the user interacted with: history x pruned item-item similarity."""

    name = "item-knn"

    def __init__(self, K: int = 20, measure: Measure = "cosine", K1: float = 1.2, B: float = 0.75) -> None:
        self.K = K
        self.measure = measure
        self.K1 = K1
        self.B = B

    def fit(self, train: Interactions) -> Self:
        self.similarity_ = item_similarity(train.weights, self.K, self.measure, K1=self.K1, B=self.B)
        return self

    def score(self, userid: np.ndarray, history: Interactions, n: int) -> sp.csr_matrix:
        self._check_fitted()
        return sp.csr_matrix(history.weights @ self.similarity_)

    def similar_items(self, itemid: int, N: int = 10) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        return _row_top(self.similarity_, itemid, N)


class UserKNNRecommender(Recommender):
    """What similar users interacted with: pruned user-user similarity x training matrix."""

    name = "user-knn"

    def __init__(self, K: int = 50, measure: Measure = "cosine") -> None:
        self.K = K
        self.measure = measure

    def fit(self, train: Interactions) -> Self:
        self.train_ = sp.csr_matrix(train.weights, dtype=np.float32)
        # similarity among the columns of the transposed matrix = among users
        self.similarity_ = item_similarity(sp.csr_matrix(train.weights.T), self.K, self.measure)
        self.item_similarity_: sp.csr_matrix | None = None
        return self

    def score(self, userid: np.ndarray, history: Interactions, n: int) -> sp.csr_matrix:
        self._check_fitted()
        userid = np.asarray(userid)
        known = userid >= 0
        rows = sp.csr_matrix((len(userid), self.similarity_.shape[1]), dtype=np.float32)
        if known.any():
            sel = sp.csr_matrix(self.similarity_[np.where(known, userid, 0)])
            sel = sp.csr_matrix(sp.diags(known.astype(np.float32)) @ sel)  # unknown users: no neighbours
            rows = sel
        return sp.csr_matrix(rows @ self.train_)

    def similar_items(self, itemid: int, N: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Users' neighbours say nothing about items: items alike by the cosine of their users."""
        self._check_fitted()
        if self.item_similarity_ is None:
            self.item_similarity_ = item_similarity(self.train_, max(N + 1, 20), "cosine")
        return _row_top(self.item_similarity_, itemid, N)


def _row_top(sim: sp.csr_matrix, itemid: int, N: int) -> tuple[np.ndarray, np.ndarray]:
    """A similarity row's best ``N`` entries other than the item itself."""
    row = sim[itemid]
    ids, vals = row.indices, row.data
    keep = ids != itemid
    ids, vals = ids[keep], vals[keep]
    order = np.lexsort((ids, -vals))[:N]
    return ids[order].astype(np.int64), vals[order].astype(np.float32)
