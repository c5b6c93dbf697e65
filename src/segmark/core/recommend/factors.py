"""Matrix-factorisation models from implicit: ALS (confidence-weighted least squares) and BPR.

Scoring every item for every user costs users x items x factors: fine for a few thousand users or
items, not for a million users and a hundred thousand items. When the training matrix has more than
``exact_limit`` user-item pairs (2e9: a few seconds of exact scoring) each user's best items are
found by norm pruning instead (``mips.NormIndex``): items in decreasing length, scored in blocks until
no item left can enter the list. The lists are still exact (``benchmarks/recommend.py`` checks them
against implicit's brute force); on shop data most users are settled after a thousand or two items.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Self

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from segmark.core.recommend.base import Recommender, dense_rows
from segmark.core.recommend.matrix import Interactions
from segmark.core.recommend.mips import USERS_AT_ONCE, NormIndex

DENSE_CELLS = 20_000_000
"""Scores held at once when scoring every item (80 MB of float32)."""


class _FactorRecommender(Recommender):
    exact_limit: int = 2_000_000_000
    random_state: int = 0
    threads: int = 0
    """Threads for pruned scoring (0: one per available core)."""

    def _implicit_model(self): ...  # pragma: no cover - each subclass builds its own

    def fit(self, train: Interactions) -> Self:
        # implicit's own threads do the work; a BLAS thread pool under them only fights for the cores
        with threadpool_limits(1, "blas"):
            model = self._implicit_model()
            model.fit(sp.csr_matrix(train.weights, dtype=np.float32), show_progress=False)
        self.user_factors_ = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        n_users, n_items = train.shape
        self.exact_ = n_users * n_items <= self.exact_limit
        self.index_: NormIndex | None = None if self.exact_ else NormIndex(self.item_factors_)
        return self

    @property
    def scores_whole_history(self) -> bool:
        """Pruned scoring lists each user's best items outside their history plus every history item's
        score, so exclusions within the history need no extra candidates."""
        return not self.exact_

    def score(self, userid: np.ndarray, history: Interactions, n: int) -> sp.csr_matrix:
        self._check_fitted()
        userid = np.asarray(userid, dtype=np.int64)
        n_items = self.item_factors_.shape[0]
        known = userid >= 0
        out = sp.csr_matrix((len(userid), n_items), dtype=np.float32)
        if not known.any():
            return out
        users = self.user_factors_[np.where(known, userid, 0)]
        if self.exact_:
            step = max(1, DENSE_CELLS // max(n_items, 1))
            parts = []
            for lo in range(0, len(users), step):
                raw = users[lo:lo + step] @ self.item_factors_.T
                raw[~known[lo:lo + step]] = -np.inf
                parts.append(dense_rows(raw, n))
            out = sp.csr_matrix(sp.vstack(parts))
        else:
            out = self._pruned_scores(users, history, known, n)
        return _positive(out)

    def _pruned_scores(self, users: np.ndarray, history: Interactions, known: np.ndarray,
                       n: int) -> sp.csr_matrix:
        """Each known user's exact best ``n`` items outside their history, and their history's scores.

        Groups of users are independent and numpy releases the GIL in the products, gathers and
        partitions, so the groups run on a thread per core (BLAS kept to one thread under them)."""
        if getattr(self, "index_", None) is None:
            self.index_ = NormIndex(self.item_factors_)
        index = self.index_
        seen = sp.csr_matrix(history.weights, copy=True)
        seen.sum_duplicates()  # one score per history item
        rows = np.flatnonzero(known)

        def one(group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            vectors, past = users[group], seen[group]
            found = index.top_n(vectors, n, past)
            keep = found.ids >= 0
            r_old = np.repeat(np.arange(len(group)), np.diff(past.indptr))
            old = history_scores(vectors, self.item_factors_, r_old, past.indices)
            r = np.concatenate([np.repeat(group, keep.sum(axis=1)), group[r_old]])
            return r, np.concatenate([found.ids[keep], past.indices]), np.concatenate([found.scores[keep], old])

        groups = [rows[lo:lo + USERS_AT_ONCE] for lo in range(0, len(rows), USERS_AT_ONCE)]
        workers = max(1, min(self.threads or available_cores(), len(groups)))
        with threadpool_limits(1, "blas"), ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(one, groups))
        r, c, v = (np.concatenate([p[j] for p in parts]) for j in range(3))
        return sp.csr_matrix((v, (r, c)), shape=(len(known), self.item_factors_.shape[0]), dtype=np.float32)

    def similar_items(self, itemid: int, N: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Cosine of item factors (brute force over the catalogue: one item at a time is cheap)."""
        self._check_fitted()
        v = self.item_factors_
        norms = np.linalg.norm(v, axis=1)
        sims = (v @ v[itemid]) / np.maximum(norms * norms[itemid], 1e-12)
        row = sp.csr_matrix(dense_rows(sims[None, :].astype(np.float32), N + 1))
        return _top_other(row, itemid, N)


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def history_scores(users: np.ndarray, items: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                   step: int = 131_072) -> np.ndarray:
    """``users[rows[j]] . items[cols[j]]`` for every j, gathered a bounded step at a time into buffers
    that are reused (fresh buffers for each step cost more in page faults than the gather itself)."""
    out = np.empty(len(rows), dtype=np.float32)
    width = min(step, len(rows))
    left = np.empty((width, users.shape[1]), dtype=np.float32)
    right = np.empty((width, items.shape[1]), dtype=np.float32)
    for lo in range(0, len(rows), step):
        hi = min(lo + step, len(rows))
        a, b = left[: hi - lo], right[: hi - lo]
        np.take(users, rows[lo:hi], axis=0, out=a)
        np.take(items, cols[lo:hi], axis=0, out=b)
        out[lo:hi] = np.einsum("ij,ij->i", a, b)
    return out


def _top_other(row: sp.csr_matrix, itemid: int, N: int) -> tuple[np.ndarray, np.ndarray]:
    ids, vals = row.indices, row.data
    keep = ids != itemid
    ids, vals = ids[keep], vals[keep]
    order = np.lexsort((ids, -vals))[:N]
    return ids[order].astype(np.int64), vals[order].astype(np.float32)


def _positive(m: sp.csr_matrix) -> sp.csr_matrix:
    """Each row's scores mapped onto [0.01, 1] in the same order, so they blend with other models'
    (factor scores may be negative, and an exact zero would read as no evidence)."""
    m = sp.csr_matrix(m, dtype=np.float32)
    if m.nnz == 0:
        return m
    lens = np.diff(m.indptr)
    nonempty = lens > 0
    lo = np.zeros(m.shape[0], dtype=np.float32)
    hi = np.zeros(m.shape[0], dtype=np.float32)
    starts = m.indptr[:-1][nonempty]
    lo[nonempty] = np.minimum.reduceat(m.data, starts)
    hi[nonempty] = np.maximum.reduceat(m.data, starts)
    r = np.repeat(np.arange(m.shape[0]), lens)
    span = np.where(hi > lo, hi - lo, 1.0)[r]
    m.data = (0.01 + 0.99 * np.where(hi[r] > lo[r], (m.data - lo[r]) / span, 1.0)).astype(np.float32)
    return m


class ALSRecommender(_FactorRecommender):
    """Alternating least squares on confidence-weighted implicit feedback (Hu, Koren & Volinsky 2008)."""

    name = "als"

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 1.0, iterations: int = 15,
                 random_state: int = 0, exact_limit: int = 2_000_000_000) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.exact_limit = exact_limit

    def _implicit_model(self):
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                                       iterations=self.iterations, random_state=self.random_state)


class BPRRecommender(_FactorRecommender):
    """Bayesian personalised ranking (Rendle et al. 2009), trained by implicit's SGD."""

    name = "bpr"

    def __init__(self, factors: int = 64, learning_rate: float = 0.01, regularization: float = 0.01,
                 iterations: int = 100, random_state: int = 0,
                 exact_limit: int = 2_000_000_000) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.random_state = random_state
        self.exact_limit = exact_limit

    def _implicit_model(self):
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(factors=self.factors, learning_rate=self.learning_rate,
                                           regularization=self.regularization, iterations=self.iterations,
                                           random_state=self.random_state)
