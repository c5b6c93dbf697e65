"""Evaluating every candidate on one split, and ``auto``: choosing on an earlier window.

The candidates are the two baselines (segment popularity; the user's own most-bought items), each
collaborative-filtering method as served (cold-start blend, bought items excluded where re-purchase
is not allowed), and -- where the repurchase policy allows any item to come back -- each CF method
blended with the user's own buying at weight 1 and "repeat first". Blends share their CF's fit.

``auto`` picks the candidate with the best ``criterion`` (recall@20) on a validation window that
ends where the measured window starts, then is measured on the later window like every other
method. So its figure is an honest out-of-sample one; since popularity, the repeat list within the
repurchase policy and the repeat-first blends are among the candidates, it can lose to popularity
or to the repeat baseline only where the two windows disagree about their order (noise), or -- for
the repeat baseline, which ignores the policy -- by the re-purchases of the categories the policy
excludes, which are the ones whose items are rarely bought again. Ties go to the simpler candidate
(the order of ``candidate_models``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segmark.core.recommend.blend import BlendedRecommender, popularity_baseline, repeat_baseline
from segmark.core.recommend.evaluation import metrics_by_group, ranking_metrics
from segmark.core.recommend.matrix import Interactions
from segmark.core.recommend.methods import CF_METHODS, ModelParams, make_cf
from segmark.core.recommend.popularity import PopularityRecommender

REPEAT_WEIGHTS: tuple[float, ...] = (1.0, math.inf)
CRITERION = "recall@20"


@dataclass
class Evaluation:
    """Figures of every candidate on one split."""

    methods: dict[str, dict[str, float]]
    by_segment: dict[str, dict[str, dict[str, float]]]
    users: int
    cold_users: int
    fit_seconds: dict[str, float] = field(default_factory=dict)
    references: set[str] = field(default_factory=set)
    """Measured for comparison only, never chosen (the repeat baseline where the policy excludes items)."""


def known_users(history: Interactions) -> np.ndarray:
    """Training-matrix indices of the rows, -1 for users with no training history (cold)."""
    has = np.diff(history.weights.indptr) > 0
    return np.where(has, np.arange(history.shape[0]), -1)


def relevant_matrix(train: Interactions, test: pd.DataFrame) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray]:
    """The test users (training indices), their held-out items over the training items, and how many
    they hold out in all (items unknown to training included)."""
    u = train.ids.user_index(test["user_id"])
    if (u < 0).any():
        raise ValueError("every held-out user must be in the training id map (cold users as empty rows)")
    i = train.ids.item_index(test["item_id"])
    users, inverse = np.unique(u, return_inverse=True)
    n_relevant = np.bincount(inverse, minlength=len(users))
    known = i >= 0
    rel = sp.csr_matrix((np.ones(known.sum(), dtype=np.float32), (inverse[known], i[known])),
                        shape=(len(users), train.shape[1]))
    rel.sum_duplicates()
    rel.data[:] = 1
    return users, rel, n_relevant


REFERENCE = "repeat"
"""The repeat baseline recommends every bought item whatever the policy: it is measured as the
reference the issue names, and is a candidate for ``auto`` only where the policy allows every item
(otherwise ``repeat+policy``, the same list within the policy, stands for it)."""


def candidate_models(allowed: np.ndarray, popularity: PopularityRecommender,
                     cf_models: dict[str, object]) -> list[BlendedRecommender]:
    """Baselines, each CF as served, and its repeat blends where re-purchase is allowed."""
    out = [popularity_baseline(allowed).fitted(popularity), repeat_baseline().fitted(popularity)]
    if allowed.any() and not allowed.all():
        out.append(BlendedRecommender(None, repeat_weight=math.inf, allowed=allowed,
                                      name="repeat+policy").fitted(popularity))
    for name, cf in cf_models.items():
        out.append(BlendedRecommender(cf, allowed=allowed, name=name).fitted(popularity))
    if allowed.any():
        for cf in cf_models.values():
            for w in REPEAT_WEIGHTS:
                out.append(BlendedRecommender(cf, allowed=allowed, repeat_weight=w).fitted(popularity))
    return out


def evaluate_split(train: Interactions, test: pd.DataFrame, allowed: np.ndarray, *, ks: Sequence[int] = (10, 20),
                   methods: Sequence[str] = CF_METHODS, params: ModelParams | None = None,
                   fitted: dict[str, object] | None = None,
                   on_fit: Callable[[str], None] | None = None) -> Evaluation:
    """Fit each CF method on ``train`` (or take ``fitted``), then measure every candidate on the
    held-out purchases ``test`` (``user_id, item_id``; every test user must be in ``train``'s map)."""
    import time

    params = params or ModelParams()
    popularity = PopularityRecommender().fit(train)
    cf_models: dict[str, object] = dict(fitted or {})
    seconds: dict[str, float] = {}
    for name in methods:
        if name in cf_models:
            continue
        if on_fit is not None:
            on_fit(name)
        started = time.perf_counter()
        cf_models[name] = make_cf(name, params).fit(train)
        seconds[name] = time.perf_counter() - started
    users, relevant, n_relevant = relevant_matrix(train, test)
    history = train.rows(users)
    userid = np.where(np.diff(history.weights.indptr) > 0, users, -1)
    item_users = np.bincount(train.weights.indices, minlength=train.shape[1])
    groups = (history.user_segment if history.user_segment is not None
              else np.full(len(users), None, dtype=object))
    K = max(ks)
    references = set() if allowed.all() else {REFERENCE}
    methods_out: dict[str, dict[str, float]] = {}
    segments_out: dict[str, dict[str, dict[str, float]]] = {}
    for model in candidate_models(allowed, popularity, cf_models):
        ids, _ = model.recommend(userid, history, K)
        methods_out[model.name] = ranking_metrics(ids, relevant, n_relevant, ks=ks, item_users=item_users,
                                                  n_train_users=train.shape[0])
        segments_out[model.name] = metrics_by_group(ids, relevant, n_relevant, groups, ks=ks,
                                                    item_users=item_users, n_train_users=train.shape[0])
    return Evaluation(methods_out, segments_out, len(users), int((userid < 0).sum()), seconds, references)


def choose(evaluation: Evaluation, criterion: str = CRITERION) -> str:
    """The candidate with the best ``criterion``; the first (simplest) among equals."""
    best, best_value = None, -math.inf
    for name, figures in evaluation.methods.items():
        if name in evaluation.references:
            continue
        value = figures.get(criterion, -math.inf)
        if value > best_value + 1e-12:
            best, best_value = name, value
    if best is None:
        raise ValueError("no candidate was evaluated")
    return best


def parse_candidate(name: str) -> tuple[str | None, float]:
    """(CF method or None for a baseline, repeat weight) of a candidate's name, e.g.
    ``item-knn+repeat(first)`` -> ("item-knn", inf); ``repeat`` -> (None, inf)."""
    if name == "popularity":
        return None, 0.0
    if name in ("repeat", "repeat+policy"):
        return None, math.inf
    if "+repeat(" in name:
        cf, weight = name.split("+repeat(", 1)
        weight = weight.rstrip(")")
        return cf, math.inf if weight == "first" else float(weight)
    return name, 0.0


def build_model(name: str, allowed: np.ndarray, params: ModelParams | None = None) -> BlendedRecommender:
    """An unfitted served model for a candidate's name."""
    cf_name, weight = parse_candidate(name)
    if cf_name is None:
        if weight > 0:  # served within the policy: bought items of excluded categories never come back
            return BlendedRecommender(None, repeat_weight=math.inf, allowed=allowed, name=name)
        return popularity_baseline(allowed)
    cf = make_cf(cf_name, params)
    return BlendedRecommender(cf, allowed=allowed, repeat_weight=weight,
                              name=name if weight > 0 else cf_name)
