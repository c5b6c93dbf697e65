"""What is served: a collaborative-filtering model, blended with segment popularity for users with
little history and with the user's own buying where re-purchase is allowed, behind the same
interface as every model.

Each part's scores are scaled per user to (0, 1] before they are added:

- cold start: CF gets weight ``n / (n + cold_shrink)`` for a user with ``n`` items in their
  history, segment popularity the rest -- a new or anonymous user gets the segment's (or shop's)
  popular items, a user with a couple of events a mix, an active user almost only CF;
- repeat: the user's own decayed purchase counts (frequency and recency in one number) over the
  items whose re-purchase is allowed, times ``repeat_weight``; ``inf`` puts every such item first,
  in the order of the user's own buying, and lets CF fill the rest of the list.

``cf=None`` gives the baselines: ``popularity`` (segment popularity alone) and ``repeat`` (the
user's own most-bought items first, then popularity), which always may recommend bought items.
"""

from __future__ import annotations

import math
from typing import Self

import numpy as np
import scipy.sparse as sp

from segmark.core.recommend.base import Progress, Recommender, row_normalize
from segmark.core.recommend.matrix import Interactions
from segmark.core.recommend.popularity import PopularityRecommender

FIRST = 2.0
"""Added to repeat items under ``repeat_weight=inf``: above any blend of scores in (0, 1]."""


class BlendedRecommender(Recommender):
    """CF + popularity (cold start) + own repeat buying (repurchase), with the repurchase exclusions."""

    def __init__(self, cf: Recommender | None = None, *, repeat_weight: float = 0.0, cold_shrink: float = 3.0,
                 allowed: np.ndarray | None = None, popularity: PopularityRecommender | None = None,
                 name: str | None = None) -> None:
        self.cf = cf
        self.repeat_weight = repeat_weight
        self.cold_shrink = cold_shrink
        self.allowed = allowed
        self.popularity = popularity
        self.name = name or _default_name(cf, repeat_weight)

    def fit(self, train: Interactions) -> Self:
        self.popularity_ = self.popularity if self.popularity is not None else PopularityRecommender().fit(train)
        if self.cf is not None:
            self.cf.fit(train)
        self.n_items_ = train.shape[1]
        return self

    def fitted(self, popularity: PopularityRecommender) -> Self:
        """Mark as fitted around parts fitted elsewhere (blends sharing one CF fit)."""
        self.popularity_ = popularity
        self.n_items_ = popularity.n_items_
        return self

    def allowed_items(self) -> np.ndarray:
        if self.allowed is None:
            return np.ones(self.n_items_, dtype=bool)
        return np.asarray(self.allowed, dtype=bool)

    def score(self, userid: np.ndarray, history: Interactions, n: int) -> sp.csr_matrix:
        self._check_fitted()
        pop = self.popularity_.score(userid, history, n)
        if self.cf is None:
            total = pop
        else:
            cf = row_normalize(self.cf.score(userid, history, n))
            seen = np.diff(history.weights.indptr).astype(np.float32)
            alpha = seen / (seen + self.cold_shrink) if self.cold_shrink > 0 else np.ones_like(seen)
            total = sp.csr_matrix(sp.diags(alpha) @ cf + sp.diags(1.0 - alpha) @ pop)
        if self.repeat_weight > 0:
            own = history.repeat
            allowed = self.allowed_items()
            if not allowed.all():
                own = sp.csr_matrix(own @ sp.diags(allowed.astype(np.float32)))
                own.eliminate_zeros()
            own = row_normalize(own)
            if math.isinf(self.repeat_weight):
                boost = own.copy()
                boost.data = boost.data + FIRST
                total = sp.csr_matrix(total + boost)
            else:
                total = sp.csr_matrix(total + self.repeat_weight * own)
        return total

    def exclusions(self, history: Interactions) -> sp.csr_matrix | None:
        """The bought items each user must not be offered again (none when all may come back);
        an item bought and returned is not offered again either."""
        allowed = self.allowed_items()
        if allowed.all():
            return None
        out = sp.csr_matrix(history.purchase_days @ sp.diags((~allowed).astype(np.float32)))
        out.eliminate_zeros()
        return out

    def recommend(self, userid: np.ndarray, history: Interactions, N: int = 10, *,
                  exclude: sp.csr_matrix | None = None, filter_items: np.ndarray | None = None,
                  batch_size: int = 20_000, progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        own = self.exclusions(history)
        if exclude is None:
            exclude = own
        elif own is not None:
            exclude = sp.csr_matrix((exclude + own).astype(bool), dtype=np.float32)
        return super().recommend(userid, history, N, exclude=exclude, filter_items=filter_items,
                                 batch_size=batch_size, progress=progress)

    def similar_items(self, itemid: int, N: int = 10) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        return (self.cf or self.popularity_).similar_items(itemid, N)


def _default_name(cf: Recommender | None, repeat_weight: float) -> str:
    if cf is None:
        return "repeat" if repeat_weight > 0 else "popularity"
    if repeat_weight <= 0:
        return cf.name
    weight = "first" if math.isinf(repeat_weight) else f"{repeat_weight:g}"
    return f"{cf.name}+repeat({weight})"


def popularity_baseline(allowed: np.ndarray | None = None) -> BlendedRecommender:
    """Segment popularity alone (bought items excluded where re-purchase is not allowed)."""
    return BlendedRecommender(None, allowed=allowed, name="popularity")


def repeat_baseline() -> BlendedRecommender:
    """The user's own most-bought items (frequency and recency), then segment popularity."""
    return BlendedRecommender(None, repeat_weight=math.inf, allowed=None, name="repeat")
