"""segmark: user features, named segments, tags, predictions and audiences from e-commerce behaviour."""

from segmark.config import Settings, load_settings
from segmark.errors import SegmarkError
from segmark.pipeline.ingest import IngestReport, ingest_file, ingest_frame
from segmark.workspace import Workspace, init_workspace, open_workspace

__version__ = "0.1.0"

__all__ = [
    "IngestReport",
    "SegmarkError",
    "Settings",
    "Workspace",
    "__version__",
    "ingest_file",
    "ingest_frame",
    "init_workspace",
    "load_settings",
    "open_workspace",
]
