"""The sample shop: a synthetic but realistic online shop whose right answer is known.

``generate.py`` makes it (pure: a seed in, frames out); ``files.py`` writes it (the I/O edge).
"""

from segmark.demo.files import write_shop
from segmark.demo.generate import (
    BEHAVIOUR_TYPES,
    DIRTY_EVENT_KINDS,
    DIRTY_USER_KINDS,
    EVENT_COLUMNS,
    ITEM_COLUMNS,
    USER_COLUMNS,
    BehaviourType,
    Shop,
    generate_shop,
)

__all__ = [
    "BEHAVIOUR_TYPES",
    "DIRTY_EVENT_KINDS",
    "DIRTY_USER_KINDS",
    "EVENT_COLUMNS",
    "ITEM_COLUMNS",
    "USER_COLUMNS",
    "BehaviourType",
    "Shop",
    "generate_shop",
    "write_shop",
]
