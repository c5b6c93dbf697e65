"""Matrix-factorisation models from implicit: ALS (confidence-weighted least squares) and BPR.

Scoring every item for every user costs users x items x factors: fine for a few thousand users or
items, not for a million users and a hundred thousand items. When the training matrix has more than
``exact_limit`` user-item pairs (2e9: a few seconds of exact scoring) the models generate candidates
instead -- the items the user's history reaches in a pruned item-item cosine graph (``candidate_K``
neighbours per item) plus the shop's most popular items -- and rank those by the factors.
``benchmarks/recommend.py`` reports how much of the exact top-10 this keeps.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from segmark.core.recommend.base import Recommender, dense_rows
from segmark.core.recommend.knn import item_similarity
from segmark.core.recommend.matrix import Interactions
from segmark.core.recommend.topk import sparse_topk

DENSE_CELLS = 20_000_000
"""Scores held at once when scoring every item (80 MB of float32)."""


class _FactorRecommender(Recommender):
    exact_limit: int = 2_000_000_000
    candidate_K: int = 20
    n_popular: int = 100
    random_state: int = 0

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
        self.candidates_: sp.csr_matrix | None = None
        self.popular_ = np.argsort(-np.bincount(train.weights.indices, minlength=n_items), kind="stable")[
            : self.n_popular]
        if not self.exact_:
            self.candidates_ = item_similarity(train.weights, self.candidate_K, "cosine")
        return self

    def score(self, userid: np.ndarray, history: Interactions, n: int) -> sp.csr_matrix:
        self._check_fitted()
        userid = np.asarray(userid, dtype=np.int64)
        n_items = self.item_factors_.shape[0]
        known = userid >= 0
        out = sp.csr_matrix((len(userid), n_items), dtype=np.float32)
        if not known.any():
            return out
        users = self.user_factors_[np.where(known, userid, 0)]
        if self.exact_ or self.candidates_ is None:
            step = max(1, DENSE_CELLS // max(n_items, 1))
            parts = []
            for lo in range(0, len(users), step):
                raw = users[lo:lo + step] @ self.item_factors_.T
                raw[~known[lo:lo + step]] = -np.inf
                parts.append(dense_rows(raw, n))
            out = sp.csr_matrix(sp.vstack(parts))
        else:
            out = self._candidate_scores(users, history, known, n)
        return _positive(out)

    def _candidate_scores(self, users: np.ndarray, history: Interactions, known: np.ndarray,
                          n: int) -> sp.csr_matrix:
        """Factor scores of the candidates: the history's cosine neighbours and the popular items."""
        reach = sp.csr_matrix(history.weights @ self.candidates_)
        ids, _ = sparse_topk(reach, max(n, 50))
        pop = np.broadcast_to(self.popular_, (len(users), len(self.popular_)))
        cand = np.concatenate([ids, pop], axis=1)
        rows = np.repeat(np.arange(len(users)), cand.shape[1]).reshape(cand.shape)
        valid = (cand >= 0) & known[:, None]
        r, c = rows[valid], cand[valid]
        shape = (len(users), self.item_factors_.shape[0])
        pattern = sp.csr_matrix((np.ones(len(r), dtype=np.float32), (r, c)), shape=shape)
        pattern.sum_duplicates()
        pr = np.repeat(np.arange(len(users)), np.diff(pattern.indptr))
        values = np.empty(len(pr), dtype=np.float32)
        step = 200_000  # candidates gathered at once: a few tens of MB, not the whole batch's
        for lo in range(0, len(pr), step):
            hi = lo + step
            values[lo:hi] = np.einsum("ij,ij->i", users[pr[lo:hi]], self.item_factors_[pattern.indices[lo:hi]])
        pattern.data = values
        return pattern

    def similar_items(self, itemid: int, N: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Cosine of item factors (brute force over the catalogue: one item at a time is cheap)."""
        self._check_fitted()
        v = self.item_factors_
        norms = np.linalg.norm(v, axis=1)
        sims = (v @ v[itemid]) / np.maximum(norms * norms[itemid], 1e-12)
        row = sp.csr_matrix(dense_rows(sims[None, :].astype(np.float32), N + 1))
        return _top_other(row, itemid, N)


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
                 random_state: int = 0, exact_limit: int = 2_000_000_000, candidate_K: int = 20) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.exact_limit = exact_limit
        self.candidate_K = candidate_K

    def _implicit_model(self):
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                                       iterations=self.iterations, random_state=self.random_state)


class BPRRecommender(_FactorRecommender):
    """Bayesian personalised ranking (Rendle et al. 2009), trained by implicit's SGD."""

    name = "bpr"

    def __init__(self, factors: int = 64, learning_rate: float = 0.01, regularization: float = 0.01,
                 iterations: int = 100, random_state: int = 0, exact_limit: int = 2_000_000_000,
                 candidate_K: int = 20) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.random_state = random_state
        self.exact_limit = exact_limit
        self.candidate_K = candidate_K

    def _implicit_model(self):
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(factors=self.factors, learning_rate=self.learning_rate,
                                           regularization=self.regularization, iterations=self.iterations,
                                           random_state=self.random_state)
