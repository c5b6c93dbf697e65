"""The segments step under its first name: everything of ``segmark.pipeline.segmentation``, where
it lives now (one module per job: fit, persist, read, use)."""

from segmark.pipeline.segmentation import *  # noqa: F403
from segmark.pipeline.segmentation import __all__  # noqa: F401
