"""Recommendations: the interaction matrix, models behind one interface, re-purchase, evaluation.

Pure: frames and sparse matrices in, arrays and ``dict[str, float]`` out. ``segmark.pipeline.recommend``
reads the store, calls these and writes the results.
"""

from segmark.core.recommend.base import NotFittedError, Recommender
from segmark.core.recommend.blend import BlendedRecommender, popularity_baseline, repeat_baseline
from segmark.core.recommend.evaluation import metrics_by_group, per_user_metrics, ranking_metrics
from segmark.core.recommend.factors import ALSRecommender, BPRRecommender
from segmark.core.recommend.knn import ItemKNNRecommender, UserKNNRecommender, item_similarity
from segmark.core.recommend.matrix import DEFAULT_WEIGHTS, IdMap, Interactions, interaction_matrix
from segmark.core.recommend.methods import BASELINES, CF_METHODS, METHODS, ModelParams, make_cf
from segmark.core.recommend.popularity import PopularityRecommender
from segmark.core.recommend.protocol import Evaluation, build_model, choose, evaluate_split
from segmark.core.recommend.repurchase import RepurchasePolicy, repeat_rates, repurchase_policy
from segmark.core.recommend.split import default_holdout_days, holdout_days_split, last_order_split
from segmark.core.recommend.topk import dense_topk, sparse_topk

__all__ = [
    "BASELINES",
    "CF_METHODS",
    "DEFAULT_WEIGHTS",
    "METHODS",
    "ALSRecommender",
    "BPRRecommender",
    "BlendedRecommender",
    "Evaluation",
    "IdMap",
    "Interactions",
    "ItemKNNRecommender",
    "ModelParams",
    "NotFittedError",
    "PopularityRecommender",
    "Recommender",
    "RepurchasePolicy",
    "UserKNNRecommender",
    "build_model",
    "choose",
    "default_holdout_days",
    "dense_topk",
    "evaluate_split",
    "holdout_days_split",
    "interaction_matrix",
    "item_similarity",
    "last_order_split",
    "make_cf",
    "metrics_by_group",
    "per_user_metrics",
    "popularity_baseline",
    "ranking_metrics",
    "repeat_baseline",
    "repeat_rates",
    "repurchase_policy",
    "sparse_topk",
]
