"""segmark: user features, named segments, tags, predictions and audiences from e-commerce behaviour.

As a library (docs/library.md)::

    import segmark as sm

    ws = sm.memory_workspace()                 # or sm.open_workspace("shop") / sm.init_workspace("shop")
    sm.ingest_frame(ws, "events", events_df)   # the same mapping, validation and quarantine as files
    sm.build_features(ws)
    features = sm.load_features(ws)            # one row per user, indexed by user_id
    rfm = sm.run_rfm(ws)
    clusters = sm.run_cluster(ws)
    clusters.members                           # user_id -> segment_id, key, name, name_zh
    clusters.explain("U000123")
"""

from segmark.config import Settings, load_settings
from segmark.errors import NoStructureError, NotFoundError, NotReadyError, SegmarkError
from segmark.library import (
    assign,
    build_features,
    explain,
    export_segments,
    load_features,
    run_cluster,
    run_rfm,
    segmentation,
    write_report,
)
from segmark.pipeline.audience import (
    audience_overlap,
    create_audience,
    export_audience,
    get_audience,
    list_audiences,
    preview_audience,
)
from segmark.pipeline.campaign import campaign_plan, campaign_readout, fit_uplift
from segmark.pipeline.clv import fit_clv, predict_clv
from segmark.pipeline.features import FeatureRun
from segmark.pipeline.forecast import forecast_revenue
from segmark.pipeline.ingest import IngestReport, ingest_file, ingest_frame, ingest_query
from segmark.pipeline.predict import explain_prediction, export_scores, latest_scores, score_model, train_model
from segmark.pipeline.recommend import (
    build_recommendations,
    evaluate_recommendations,
    export_recommendations,
    recommend_user,
    similar_items,
    top_items,
)
from segmark.pipeline.segmentation import SegmentationResult
from segmark.pipeline.tags import apply_tags, list_tags, user_tags_of
from segmark.workspace import Workspace, init_workspace, memory_workspace, open_workspace

__version__ = "0.1.0"

__all__ = [
    "FeatureRun",
    "IngestReport",
    "NoStructureError",
    "NotFoundError",
    "NotReadyError",
    "SegmarkError",
    "SegmentationResult",
    "Settings",
    "Workspace",
    "__version__",
    "apply_tags",
    "assign",
    "audience_overlap",
    "build_features",
    "build_recommendations",
    "campaign_plan",
    "campaign_readout",
    "create_audience",
    "evaluate_recommendations",
    "explain",
    "explain_prediction",
    "export_audience",
    "export_recommendations",
    "export_scores",
    "export_segments",
    "fit_clv",
    "fit_uplift",
    "forecast_revenue",
    "get_audience",
    "ingest_file",
    "ingest_frame",
    "ingest_query",
    "init_workspace",
    "latest_scores",
    "list_audiences",
    "list_tags",
    "load_features",
    "load_settings",
    "memory_workspace",
    "open_workspace",
    "predict_clv",
    "preview_audience",
    "recommend_user",
    "run_cluster",
    "run_rfm",
    "score_model",
    "segmentation",
    "similar_items",
    "top_items",
    "train_model",
    "user_tags_of",
    "write_report",
]
