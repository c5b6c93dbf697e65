"""Segmentation, pure: RFM rules, preprocessing, clustering with model selection, profiles, names,
explanations and migration. Frames and arrays in, frames and arrays out; no database, no files.

Modules: ``rfm`` (scores and the named scheme), ``preprocess`` (per-feature pipeline), ``methods``
(the estimators), ``metrics`` (silhouette, stability, reference), ``selection`` (the automatic
choice), ``model`` (``SegmentModel``, the estimator that ties them together), ``profile``,
``naming``, ``explain`` (surrogate tree), ``migration``, ``feature_sets`` (the default features).
"""

from segmark.core.segment.explain import Surrogate, fit_surrogate, nearest_centres
from segmark.core.segment.feature_sets import DEFAULT_BEHAVIOUR_FEATURES, default_features
from segmark.core.segment.methods import AUTO_METHODS, METHODS
from segmark.core.segment.migration import Migration, migration_matrix
from segmark.core.segment.model import NoStructureError, SegmentModel
from segmark.core.segment.naming import ARCHETYPES, Archetype, apply_name_overrides, name_segments
from segmark.core.segment.profile import effect_matrix, feature_profile, segment_summary
from segmark.core.segment.rfm import (
    RFMRule,
    RFMScorer,
    default_rfm_rules,
    parse_rfm_rules,
    rfm_catalog,
    rfm_scores,
    rfm_segments,
)
from segmark.core.segment.selection import Selection, select_model

__all__ = [
    "ARCHETYPES",
    "AUTO_METHODS",
    "DEFAULT_BEHAVIOUR_FEATURES",
    "METHODS",
    "Archetype",
    "Migration",
    "NoStructureError",
    "RFMRule",
    "RFMScorer",
    "SegmentModel",
    "Selection",
    "Surrogate",
    "apply_name_overrides",
    "default_features",
    "default_rfm_rules",
    "effect_matrix",
    "feature_profile",
    "fit_surrogate",
    "migration_matrix",
    "name_segments",
    "nearest_centres",
    "parse_rfm_rules",
    "rfm_catalog",
    "rfm_scores",
    "rfm_segments",
    "segment_summary",
    "select_model",
]
