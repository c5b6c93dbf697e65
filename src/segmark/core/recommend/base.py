"""One interface for every recommender, modelled on implicit's ``RecommenderBase``.

A recommender is fitted on an ``Interactions`` (the training window's matrices), then asked for the
best items of a batch of users given their history (the same matrices' rows, so a user the model
has not seen but whose history is known can still be scored by neighbour models). Implementations
only say how to score candidates (``score``: a sparse users x items matrix, higher is better) and
which items are alike (``similar_items``); ``recommend`` is shared: it removes what must not be
recommended, keeps each row's best ``N`` with a vectorised top-k, and walks large batches in chunks
so memory stays bounded and progress can be shown. The pipeline never branches on a method name.

Parameters are stored by ``__init__`` only; learned attributes end in ``_`` (scikit-learn style).
Models pickle (the pipeline signs the bytes); nothing here reads or writes files.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from segmark.core.recommend.matrix import Interactions
from segmark.core.recommend.topk import sparse_topk

Progress = Callable[[int, int], None]
"""Called with (users done, users in all) after each chunk."""

BATCH_USERS = 20_000
"""Users scored per chunk: bounds the candidate matrix of one chunk to a few hundred MB."""


class NotFittedError(RuntimeError):
    """The recommender was asked for something before ``fit``."""


class Recommender(ABC):
    """fit / score / recommend / similar_items."""

    name: ClassVar[str] = ""
    """The method's name as users write it (``item-knn``); stored with the model."""

    @abstractmethod
    def fit(self, train: Interactions) -> Self:
        """Learn from the training window's matrices."""

    @abstractmethod
    def score(self, userid: np.ndarray, history: Interactions, n: int) -> sp.csr_matrix:
        """Candidate scores (rows: the users of ``history``; columns: the model's items), holding at
        least the ``n`` best candidates of each row where the model has that many. ``userid`` are the
        users' indices in the training matrix (-1: not in it)."""

    @abstractmethod
    def similar_items(self, itemid: int, N: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``N`` items most like ``itemid`` (itself excluded), best first, with their scores."""

    def recommend(self, userid: np.ndarray, history: Interactions, N: int = 10, *,
                  exclude: sp.csr_matrix | None = None, filter_items: np.ndarray | None = None,
                  batch_size: int = BATCH_USERS, progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``N`` best items of each user of ``history`` (item indices padded with -1, scores with
        -inf), best first. ``exclude``: per-user items never to recommend (rows as ``history``);
        ``filter_items``: items never to recommend to anyone."""
        self._check_fitted()
        userid = np.asarray(userid, dtype=np.int64)
        n_users = history.shape[0]
        if len(userid) != n_users:
            raise ValueError("userid must hold one entry per row of history")
        ids = np.empty((n_users, N), dtype=np.int64)
        scores = np.empty((n_users, N), dtype=np.float32)
        blocked = None if filter_items is None else np.asarray(filter_items, dtype=np.int64)
        for start in range(0, n_users, batch_size):
            stop = min(start + batch_size, n_users)
            rows = np.arange(start, stop)
            part = history.rows(rows)
            excluded = None if exclude is None else sp.csr_matrix(exclude[rows])
            extra = 0 if blocked is None else len(blocked)
            if excluded is not None and not (self.scores_whole_history and within(excluded, part.weights)):
                extra += int(np.diff(excluded.indptr).max(initial=0))
            candidates = self.score(userid[rows], part, N + extra).tocsr()
            candidates = remove(candidates, excluded, blocked)
            ids[rows], scores[rows] = sparse_topk(candidates, N)
            if progress is not None:
                progress(stop, n_users)
        return ids, scores

    @property
    def scores_whole_history(self) -> bool:
        """Whether ``score`` always holds every history item's score beside the best ``n`` others:
        then removing history items leaves ``n`` candidates and needs none extra."""
        return False

    def _check_fitted(self) -> None:
        if not any(k.endswith("_") and not k.startswith("_") for k in vars(self)):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit first")


def within(part: sp.csr_matrix, whole: sp.csr_matrix) -> bool:
    """Whether every nonzero entry of ``part`` is nonzero in ``whole`` too (same shape)."""
    inner = sp.csr_matrix(part) != 0
    if inner.nnz == 0:
        return True
    return int(inner.multiply(sp.csr_matrix(whole) != 0).count_nonzero()) == int(inner.count_nonzero())


def remove(scores: sp.csr_matrix, exclude: sp.csr_matrix | None, filter_items: np.ndarray | None) -> sp.csr_matrix:
    """``scores`` without the per-user ``exclude`` entries and the ``filter_items`` columns; entries
    that are exactly zero carry no evidence and go too."""
    out = scores.tocsr(copy=True)
    if exclude is not None and exclude.nnz:
        out = (out - out.multiply(exclude.astype(bool))).tocsr()
    if filter_items is not None and len(filter_items):
        out.data[np.isin(out.indices, filter_items)] = 0
    out.eliminate_zeros()
    return out


def row_normalize(m: sp.csr_matrix) -> sp.csr_matrix:
    """Each row divided by its largest value (rows of non-positive values are left as they are), so
    scores of different models share the scale (0, 1] and can be blended."""
    m = sp.csr_matrix(m, dtype=np.float32)
    if m.nnz == 0:
        return m
    top = np.asarray(m.max(axis=1).todense()).ravel()
    scale = np.where(top > 0, 1.0 / np.where(top > 0, top, 1.0), 1.0).astype(np.float32)
    return sp.csr_matrix(sp.diags(scale) @ m)


def dense_rows(scores: np.ndarray, n: int) -> sp.csr_matrix:
    """The ``n`` best entries of each row of a dense score block, as a sparse matrix (-inf = none)."""
    from segmark.core.recommend.topk import dense_topk

    ids, best = dense_topk(scores, n)
    keep = ids >= 0
    rows = np.repeat(np.arange(scores.shape[0]), keep.sum(axis=1))
    out = sp.csr_matrix((best[keep], (rows, ids[keep])), shape=scores.shape)
    out.sort_indices()
    return out
