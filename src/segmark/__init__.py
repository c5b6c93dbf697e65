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
from segmark.pipeline.features import FeatureRun
from segmark.pipeline.ingest import IngestReport, ingest_file, ingest_frame
from segmark.pipeline.segmentation import SegmentationResult
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
    "assign",
    "build_features",
    "explain",
    "export_segments",
    "ingest_file",
    "ingest_frame",
    "init_workspace",
    "load_features",
    "load_settings",
    "memory_workspace",
    "open_workspace",
    "run_cluster",
    "run_rfm",
    "segmentation",
    "write_report",
]
