"""Popularity, shop-wide and per segment: the baseline every method is measured against and the
answer for users the other models know nothing about (cold start).

An item's popularity is the number of distinct users who interacted with it in the training window
(one enthusiast does not make an item popular). Per segment, the counts are shrunk towards the
shop-wide share with ``prior`` pseudo-users, so a small segment's list is its own where it has
evidence and the shop's where it has little.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from segmark.core.recommend.base import Recommender
from segmark.core.recommend.matrix import Interactions


class PopularityRecommender(Recommender):
    """The most popular items of the user's segment (or of the shop)."""

    name = "popularity"

    def __init__(self, *, per_segment: bool = True, prior: float = 20.0, n_candidates: int = 200) -> None:
        self.per_segment = per_segment
        self.prior = prior
        self.n_candidates = n_candidates

    def fit(self, train: Interactions) -> Self:
        users_per_item = np.bincount(train.weights.indices, minlength=train.shape[1]).astype(np.float64)
        self.n_items_ = train.shape[1]
        self.global_ = users_per_item
        n_users = max(train.shape[0], 1)
        self.lists_: dict[str | None, tuple[np.ndarray, np.ndarray]] = {None: self._top(users_per_item)}
        if self.per_segment and train.user_segment is not None:
            share = users_per_item / n_users
            seg = train.user_segment
            for key in sorted({s for s in seg if s is not None}):
                rows = np.flatnonzero(seg == key)
                sub = train.weights[rows]
                counts = np.bincount(sub.indices, minlength=train.shape[1]).astype(np.float64)
                shrunk = (counts + self.prior * share) / (len(rows) + self.prior)
                self.lists_[key] = self._top(shrunk)
        return self

    def _top(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ``n_candidates`` best items and their scores scaled to (0, 1], ties by item index."""
        order = np.lexsort((np.arange(len(values)), -values))[: self.n_candidates]
        order = order[values[order] > 0]
        top = values[order[0]] if len(order) else 1.0
        return order.astype(np.int64), (values[order] / top).astype(np.float32)

    def items_for(self, segment: str | None) -> tuple[np.ndarray, np.ndarray]:
        """The ranked list for a segment key (the shop's for None or an unknown segment)."""
        self._check_fitted()
        return self.lists_.get(segment, self.lists_[None])

    def score(self, userid: np.ndarray, history: Interactions, n: int) -> sp.csr_matrix:
        self._check_fitted()
        n_rows = history.shape[0]
        segs = history.user_segment if (self.per_segment and history.user_segment is not None) else None
        keys = np.full(n_rows, None, dtype=object) if segs is None else segs
        uniq, code = np.unique(np.asarray([str(k) if k is not None else "" for k in keys], dtype=object),
                               return_inverse=True)
        lists = [self.items_for(None if k == "" else k) for k in uniq]
        lists = [(items[: max(n, 1)], values[: max(n, 1)]) for items, values in lists]
        lengths = np.array([len(items) for items, _ in lists], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        all_items = np.concatenate([items for items, _ in lists]) if lists else np.array([], dtype=np.int64)
        all_values = np.concatenate([v for _, v in lists]) if lists else np.array([], dtype=np.float32)
        row_len = lengths[code] if n_rows else np.array([], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(row_len)])
        within = np.arange(indptr[-1]) - np.repeat(indptr[:-1], row_len)
        pos = np.repeat(offsets[code], row_len) + within if n_rows else np.array([], dtype=np.int64)
        out = sp.csr_matrix((all_values[pos], all_items[pos], indptr), shape=(n_rows, self.n_items_))
        out.sort_indices()
        return out

    def similar_items(self, itemid: int, N: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Popularity knows no likeness: the most popular other items."""
        items, values = self.items_for(None)
        keep = items != itemid
        return items[keep][:N], values[keep][:N]
