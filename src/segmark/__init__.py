"""segmark: user features, named segments, tags, predictions and audiences from e-commerce behaviour."""

from segmark.config import Settings, load_settings
from segmark.errors import SegmarkError
from segmark.pipeline.audience import (
    audience_overlap,
    create_audience,
    export_audience,
    get_audience,
    list_audiences,
    preview_audience,
)
from segmark.pipeline.campaign import campaign_plan, campaign_readout, fit_uplift
from segmark.pipeline.ingest import IngestReport, ingest_file, ingest_frame
from segmark.pipeline.recommend import (
    build_recommendations,
    evaluate_recommendations,
    export_recommendations,
    recommend_user,
    similar_items,
    top_items,
)
from segmark.pipeline.tags import apply_tags, list_tags, user_tags_of
from segmark.workspace import Workspace, init_workspace, open_workspace

__version__ = "0.1.0"

__all__ = [
    "IngestReport",
    "SegmarkError",
    "Settings",
    "Workspace",
    "__version__",
    "apply_tags",
    "audience_overlap",
    "build_recommendations",
    "campaign_plan",
    "campaign_readout",
    "create_audience",
    "evaluate_recommendations",
    "export_audience",
    "export_recommendations",
    "fit_uplift",
    "get_audience",
    "ingest_file",
    "ingest_frame",
    "init_workspace",
    "list_audiences",
    "list_tags",
    "load_settings",
    "open_workspace",
    "preview_audience",
    "recommend_user",
    "similar_items",
    "top_items",
    "user_tags_of",
]
