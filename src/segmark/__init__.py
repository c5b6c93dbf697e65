"""segmark: user features, named segments, tags, predictions and audiences from e-commerce behaviour."""

from segmark.config import Settings, load_settings
from segmark.errors import SegmarkError
from segmark.workspace import Workspace, init_workspace, open_workspace

__version__ = "0.1.0"

__all__ = [
    "SegmarkError",
    "Settings",
    "Workspace",
    "__version__",
    "init_workspace",
    "load_settings",
    "open_workspace",
]
