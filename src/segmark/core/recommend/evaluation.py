"""Ranking metrics of recommendations against held-out purchases, as plain ``dict[str, float]``.

Per user with at least one held-out item, averaged over those users (definitions as implicit's
``ranking_metrics_at_k``, which the tests check against):

- ``precision@k``: hits in the top k / k;
- ``recall@k``: hits / the user's held-out items (items the training window never saw count too,
  so recall is not flattered by dropping what no model could know);
- ``ndcg@k``: DCG with gain 1 and discount log2(rank + 1), over the DCG of a perfect list of
  min(k, held-out) hits;
- ``map@k``: the mean of precision at each hit's rank, over min(k, held-out);
- ``hit_rate@k``: share of users with at least one hit;
- ``coverage``: share of the catalogue that appears in someone's top ``k_min`` (the smallest k);
- ``novelty``: mean self-information, -log2 of the share of training users who interacted with a
  recommended item, over the top ``k_min`` lists (higher: less obvious items).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

METRICS: tuple[str, ...] = ("precision", "recall", "ndcg", "map", "hit_rate")


def hits_matrix(recommended: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """Boolean (users x K): whether the item at each rank is among the user's held-out items."""
    relevant = sp.csr_matrix(relevant)
    n, K = recommended.shape
    rows = np.repeat(np.arange(n), K)
    cols = recommended.ravel()
    valid = cols >= 0
    out = np.zeros(n * K, dtype=bool)
    if valid.any():
        out[valid] = np.asarray(relevant[rows[valid], cols[valid]]).ravel() > 0
    return out.reshape(n, K)


def per_user_metrics(recommended: np.ndarray, relevant: sp.csr_matrix, n_relevant: np.ndarray,
                     ks: Sequence[int]) -> pd.DataFrame:
    """Every metric for every user with held-out items (rows: those users, by position in the input)."""
    hits = hits_matrix(recommended, relevant)
    n_rel = np.asarray(n_relevant, dtype=np.float64)
    users = np.flatnonzero(n_rel > 0)
    hits, n_rel = hits[users], n_rel[users]
    out: dict[str, np.ndarray] = {}
    K = hits.shape[1]
    discount = 1.0 / np.log2(np.arange(2, K + 2))
    for k in ks:
        if k > K:
            raise ValueError(f"k={k} but only {K} items were recommended per user")
        h = hits[:, :k]
        n_hits = h.sum(axis=1)
        denom = np.minimum(k, n_rel)
        out[f"precision@{k}"] = n_hits / k
        out[f"recall@{k}"] = n_hits / n_rel
        dcg = (h * discount[:k]).sum(axis=1)
        ideal = np.cumsum(discount[:k])[np.minimum(k, n_rel).astype(int) - 1]
        out[f"ndcg@{k}"] = dcg / ideal
        precision_at = np.cumsum(h, axis=1) / np.arange(1, k + 1)
        out[f"map@{k}"] = (precision_at * h).sum(axis=1) / denom
        out[f"hit_rate@{k}"] = (n_hits > 0).astype(np.float64)
    return pd.DataFrame(out, index=users)


def ranking_metrics(recommended: np.ndarray, relevant: sp.csr_matrix, n_relevant: np.ndarray | None = None, *,
                    ks: Sequence[int] = (10, 20), item_users: np.ndarray | None = None,
                    n_train_users: int | None = None, n_items: int | None = None) -> dict[str, float]:
    """Averages of ``per_user_metrics`` plus ``users``, ``coverage`` and ``novelty``.

    ``recommended``: item indices (users x max(ks), -1 padding); ``relevant``: held-out items over the
    same item indices; ``n_relevant``: each user's number of held-out items (default: the row counts
    of ``relevant``); ``item_users``: training users per item (for novelty)."""
    relevant = sp.csr_matrix(relevant)
    if n_relevant is None:
        n_relevant = np.diff(relevant.indptr)
    per_user = per_user_metrics(recommended, relevant, n_relevant, ks)
    out = {name: float(per_user[name].mean()) if len(per_user) else 0.0 for name in per_user.columns}
    out["users"] = float(len(per_user))
    k_min = min(ks)
    shown = recommended[per_user.index.to_numpy(), :k_min] if len(per_user) else recommended[:0, :k_min]
    items = shown[shown >= 0]
    n_items = relevant.shape[1] if n_items is None else n_items
    out["coverage"] = float(len(np.unique(items)) / n_items) if n_items else 0.0
    if item_users is not None and n_train_users:
        share = (np.asarray(item_users, dtype=np.float64)[items] + 1.0) / (n_train_users + 1.0)
        out["novelty"] = float(np.mean(-np.log2(share))) if len(items) else 0.0
    return out


def metrics_by_group(recommended: np.ndarray, relevant: sp.csr_matrix, n_relevant: np.ndarray,
                     groups: np.ndarray, *, ks: Sequence[int] = (10, 20), item_users: np.ndarray | None = None,
                     n_train_users: int | None = None) -> dict[str, dict[str, float]]:
    """``ranking_metrics`` for the users of each group (e.g. segment key; None = no segment)."""
    groups = np.asarray([g if g is not None else "" for g in groups], dtype=object)
    out: dict[str, dict[str, float]] = {}
    n_rel = np.asarray(n_relevant)
    for key in sorted(set(groups[n_rel > 0])):
        rows = np.flatnonzero(groups == key)
        out[key or "(none)"] = ranking_metrics(recommended[rows], relevant[rows], n_rel[rows], ks=ks,
                                               item_users=item_users, n_train_users=n_train_users,
                                               n_items=relevant.shape[1])
    return out
