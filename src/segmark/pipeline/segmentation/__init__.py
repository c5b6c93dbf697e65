"""Segmentations, one job per module: ``fit`` (make one: RFM or clustering), ``persist`` (store it
with its signed model), ``read`` (records, segments, members, profiles, candidates, the fitted
model), ``use`` (explain a user, assign new users, export, migration), ``result`` (what ``run_rfm``
and ``run_cluster`` return). The fitted model is a ``segmark.core.segment.fitted.FittedSegmentation``
whatever its kind, so nothing here branches on the kind.
"""

from segmark.core.segment.fitted import rfm_reason
from segmark.pipeline.segmentation.fit import cluster_model, run_cluster, run_rfm
from segmark.pipeline.segmentation.persist import Fit, store_fit
from segmark.pipeline.segmentation.read import (
    candidates_table,
    distinguishing,
    feature_labels_zh,
    get_segmentation,
    last_refused_clustering,
    list_segmentations,
    load_model,
    load_segmentation,
    members,
    profile_table,
    segments_table,
)
from segmark.pipeline.segmentation.records import RefusedClustering, Segmentation
from segmark.pipeline.segmentation.result import SegmentationResult
from segmark.pipeline.segmentation.use import (
    MigrationReport,
    assign_users,
    explain_user,
    export_segments,
    segment_migration,
)

__all__ = [
    "Fit",
    "MigrationReport",
    "RefusedClustering",
    "Segmentation",
    "SegmentationResult",
    "assign_users",
    "candidates_table",
    "cluster_model",
    "distinguishing",
    "explain_user",
    "export_segments",
    "feature_labels_zh",
    "get_segmentation",
    "last_refused_clustering",
    "list_segmentations",
    "load_model",
    "load_segmentation",
    "members",
    "profile_table",
    "rfm_reason",
    "run_cluster",
    "run_rfm",
    "segment_migration",
    "segments_table",
    "store_fit",
]
