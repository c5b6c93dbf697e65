"""The methods by name, and the models they stand for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from segmark.core.recommend.base import Recommender
from segmark.core.recommend.factors import ALSRecommender, BPRRecommender
from segmark.core.recommend.knn import ItemKNNRecommender, UserKNNRecommender

BASELINES: tuple[str, ...] = ("popularity", "repeat")
CF_METHODS: tuple[str, ...] = ("item-knn", "item-knn-bm25", "user-knn", "als", "bpr")
METHODS: tuple[str, ...] = (*BASELINES, *CF_METHODS)
"""Every method ``recommend build --method`` accepts besides ``auto``."""


@dataclass(frozen=True)
class ModelParams:
    """The models' hyper-parameters (settings ``[recommend]``; defaults are implicit's usual ones)."""

    item_neighbours: int = 20
    user_neighbours: int = 50
    factors: int = 64
    als_regularization: float = 0.05
    als_iterations: int = 15
    als_alpha: float = 1.0
    bpr_learning_rate: float = 0.01
    bpr_regularization: float = 0.01
    bpr_iterations: int = 100
    exact_limit: int = 2_000_000_000
    random_state: int = 0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ModelParams:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def make_cf(name: str, params: ModelParams | None = None) -> Recommender:
    """A new, unfitted collaborative-filtering model for a method name."""
    p = params or ModelParams()
    if name == "item-knn":
        return ItemKNNRecommender(K=p.item_neighbours, measure="cosine")
    if name == "item-knn-bm25":
        model = ItemKNNRecommender(K=p.item_neighbours, measure="bm25")
        model.name = "item-knn-bm25"
        return model
    if name == "user-knn":
        return UserKNNRecommender(K=p.user_neighbours)
    if name == "als":
        return ALSRecommender(factors=p.factors, regularization=p.als_regularization, alpha=p.als_alpha,
                              iterations=p.als_iterations, random_state=p.random_state, exact_limit=p.exact_limit)
    if name == "bpr":
        return BPRRecommender(factors=p.factors, learning_rate=p.bpr_learning_rate,
                              regularization=p.bpr_regularization, iterations=p.bpr_iterations,
                              random_state=p.random_state, exact_limit=p.exact_limit)
    raise ValueError(f"unknown method {name!r}; choose one of {', '.join(CF_METHODS)}")
