"""The interaction matrix: events in, sparse user x item matrices out, ids mapped in one place.

Rows are the (user, item, event type) counts a store aggregates (optionally per day of age, for time
decay); raw events work too (each row counts once). Three matrices come out, all over the same dense
indices (``IdMap``):

- ``weights``: the sum of each event type's weight (``DEFAULT_WEIGHTS``, configurable), decayed by
  age when a half-life is given; a refund takes back one purchase's weight; values clip at zero and
  zero entries are dropped. This is what collaborative filtering learns from.
- ``purchases``: net purchase lines per pair (refunds subtracted, never below zero).
- ``repeat``: purchases decayed by age with the repeat half-life, so frequency and recency of a
  user's own buying are one number (the repeat-aware models' signal).
- ``purchase_days``: on how many distinct days each pair was bought (the repeat rate's input).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

DEFAULT_WEIGHTS: dict[str, float] = {"view": 1.0, "fav": 2.0, "cart": 3.0, "purchase": 5.0}
"""Event weights: a purchase says more than a cart, a cart more than a favourite, a view least."""

DEFAULT_REPEAT_HALF_LIFE = 90.0
"""Days after which a purchase counts half in the repeat signal."""


@dataclass(frozen=True)
class IdMap:
    """External ids <-> dense indices, for users and items: the only place ids are translated."""

    users: pd.Index
    items: pd.Index

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def user_index(self, ids: object) -> np.ndarray:
        """Dense indices of user ids (-1 for users not in the map)."""
        return self.users.get_indexer(pd.Index(np.asarray(ids, dtype=object).astype(str)))

    def item_index(self, ids: object) -> np.ndarray:
        """Dense indices of item ids (-1 for items not in the map)."""
        return self.items.get_indexer(pd.Index(np.asarray(ids, dtype=object).astype(str)))

    def user_ids(self, index: np.ndarray) -> np.ndarray:
        return self.users.to_numpy()[index]

    def item_ids(self, index: np.ndarray) -> np.ndarray:
        """External ids of dense item indices; -1 (padding) becomes None."""
        index = np.asarray(index)
        out = np.asarray(self.items.to_numpy(), dtype=object)[np.where(index < 0, 0, index)]
        out[index < 0] = None
        return out


@dataclass
class Interactions:
    """The matrices of one training window over one id map (see the module docstring)."""

    ids: IdMap
    weights: sp.csr_matrix
    purchases: sp.csr_matrix
    repeat: sp.csr_matrix
    purchase_days: sp.csr_matrix
    """Distinct days on which each pair was bought (net of refunds' days is not attempted)."""
    item_category: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    """Each item's category (None where unknown), by dense index."""
    user_segment: np.ndarray | None = None
    """Each user's segment key (None where unknown), by dense index; popularity per segment uses it."""

    @property
    def shape(self) -> tuple[int, int]:
        return self.weights.shape

    def rows(self, users: np.ndarray) -> Interactions:
        """The same matrices restricted to some users (indices into ``ids.users``), same item map."""
        users = np.asarray(users)
        ids = IdMap(self.ids.users[users], self.ids.items)
        seg = None if self.user_segment is None else self.user_segment[users]
        return Interactions(ids, self.weights[users], self.purchases[users], self.repeat[users],
                            self.purchase_days[users], self.item_category, seg)

    def with_segments(self, segments: Mapping[str, str] | pd.Series | None) -> Interactions:
        """The same matrices with each user's segment key looked up in ``segments`` (user id -> key)."""
        seg = None
        if segments is not None:
            mapped = pd.Series(segments).reindex(self.ids.users)
            seg = np.where(mapped.notna(), mapped.astype(object), None).astype(object)
        return Interactions(self.ids, self.weights, self.purchases, self.repeat, self.purchase_days,
                            self.item_category, seg)


def interaction_matrix(rows: pd.DataFrame, *, weights: Mapping[str, float] | None = None,
                       half_life_days: float | None = None, repeat_half_life_days: float = DEFAULT_REPEAT_HALF_LIFE,
                       users: pd.Index | None = None, items: pd.Index | None = None,
                       item_category: Mapping[str, str | None] | pd.Series | None = None) -> Interactions:
    """Build the matrices from ``rows``: columns ``user_id, item_id, event_type``, optional ``n``
    (how many such events; default 1) and ``age_days`` (days before the cut-off; needed for decay).

    ``users``/``items`` fix the id map (rows with ids outside it are ignored); by default it is every
    user and item in ``rows``, sorted. Event types without a weight (search, remove_cart) are ignored.
    """
    w = dict(DEFAULT_WEIGHTS if weights is None else weights)
    if any(v < 0 for v in w.values()):
        raise ValueError("event weights must not be negative")
    frame = rows[rows["user_id"].notna() & rows["item_id"].notna()]
    user_ids = frame["user_id"].astype(str)
    item_ids = frame["item_id"].astype(str)
    users = pd.Index(np.sort(user_ids.unique())) if users is None else pd.Index(users).astype(str)
    items = pd.Index(np.sort(item_ids.unique())) if items is None else pd.Index(items).astype(str)
    ids = IdMap(users, items)
    u = users.get_indexer(user_ids)
    i = items.get_indexer(item_ids)
    known = (u >= 0) & (i >= 0)
    etype = frame["event_type"].astype(str).to_numpy()
    n = frame["n"].to_numpy(dtype=np.float64) if "n" in frame else np.ones(len(frame))
    age = frame["age_days"].to_numpy(dtype=np.float64) if "age_days" in frame else np.zeros(len(frame))
    decay = np.ones(len(frame)) if half_life_days is None else np.exp2(-np.maximum(age, 0) / half_life_days)
    purchase_w = w.get("purchase", 0.0)
    base = pd.Series(etype).map({**w, "refund": -purchase_w}).fillna(0.0).to_numpy()
    shape = (len(users), len(items))
    wmat = _csr(u[known], i[known], (base * n * decay)[known], shape, clip=True)
    sign = np.where(etype == "purchase", 1.0, np.where(etype == "refund", -1.0, 0.0))
    bought = known & (sign != 0)
    pmat = _csr(u[bought], i[bought], (sign * n)[bought], shape, clip=True)
    rdecay = np.exp2(-np.maximum(age, 0) / repeat_half_life_days) if repeat_half_life_days else np.ones(len(frame))
    rmat = _csr(u[bought], i[bought], (sign * n * rdecay)[bought], shape, clip=True)
    rmat = sp.csr_matrix(rmat.multiply(pmat > 0), dtype=np.float32)  # refunded in full: no repeat signal left
    rmat.sort_indices()
    buys = known & (etype == "purchase")
    days = pd.DataFrame({"u": u[buys], "i": i[buys], "d": np.floor(age[buys])}).drop_duplicates()
    dmat = _csr(days["u"].to_numpy(), days["i"].to_numpy(), np.ones(len(days)), shape, clip=False)
    cats = np.full(len(items), None, dtype=object)
    if item_category is not None:
        mapped = pd.Series(item_category).reindex(items)
        cats = np.where(mapped.notna(), mapped.astype(object), None).astype(object)
    return Interactions(ids, wmat, pmat, rmat, dmat, cats)


def _csr(u: np.ndarray, i: np.ndarray, v: np.ndarray, shape: tuple[int, int], *, clip: bool) -> sp.csr_matrix:
    """Summed duplicates, negatives clipped to zero, explicit zeros dropped, float32, sorted indices."""
    m = sp.csr_matrix((v.astype(np.float64), (u, i)), shape=shape)
    m.sum_duplicates()
    if clip:
        m.data = np.maximum(m.data, 0.0)
    m.eliminate_zeros()
    out = m.astype(np.float32)
    out.sort_indices()
    return out


def binarize(m: sp.csr_matrix) -> sp.csr_matrix:
    """The same pattern with every stored value 1."""
    out = m.copy()
    out.data = np.ones_like(out.data)
    return out
