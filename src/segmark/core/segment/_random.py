"""Independent random streams, one per purpose, all from the one ``random_state`` setting.

Seeding every step with the bare seed would make, say, the surrogate tree's holdout rows the same
uniform draws that picked the sample (or that a data generator with the same seed used to make
the data), correlating things that must be independent. Each purpose gets its own stream.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(random_state: int, purpose: str) -> np.random.Generator:
    """A generator for ``purpose`` (e.g. "sample", "holdout"), reproducible from ``random_state``."""
    return np.random.default_rng([int(random_state), zlib.crc32(purpose.encode())])
