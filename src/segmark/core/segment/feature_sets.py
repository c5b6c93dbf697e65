"""The default features for behavioural clustering, chosen from the feature table's contract.

One feature per behaviour a marketer acts on, so each planted type of shopper differs from the
others on at least one of them:

- ``recency_visit_days`` — lapsed users have not visited for long;
- ``tenure_days`` — newcomers joined recently;
- ``frequency`` and ``monetary`` — loyal high spenders order often and spend much;
- ``views_{W}d``, ``carts_{W}d``, ``active_days_{W}d`` — window shoppers view a lot, cart
  abandoners put things in carts, both are active;
- ``cart_abandonment_rate`` — cart abandoners leave carts unbought;
- ``price_level`` and ``low_price_share`` — bargain hunters pay below the category median.

``W`` is the largest configured window up to 90 days (the smallest window when all are longer):
a quarter is long enough for occasional shoppers to show activity and short enough that lapsed
users show none. Attributes (age, city...) are left out by default: they describe who users are,
not how they shop, and are better used in tags and audiences; add them with ``--features``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_BEHAVIOUR_FEATURES: tuple[str, ...] = (
    "recency_visit_days",
    "tenure_days",
    "frequency",
    "monetary",
    "views_{W}d",
    "carts_{W}d",
    "active_days_{W}d",
    "cart_abandonment_rate",
    "price_level",
    "low_price_share",
)

PREFERRED_WINDOW = 90


def available_windows(columns: Iterable[str]) -> list[int]:
    """Windows present in a feature table, read from its ``views_{W}d`` columns."""
    found = {int(m.group(1)) for c in columns if (m := re.fullmatch(r"views_(\d+)d", c))}
    return sorted(found)


def default_features(columns: Iterable[str]) -> list[str]:
    """The default behavioural features that exist in a table with these columns."""
    columns = list(columns)
    windows = available_windows(columns)
    short = [w for w in windows if w <= PREFERRED_WINDOW]
    window = max(short) if short else (min(windows) if windows else None)
    present = set(columns)
    out = []
    for name in DEFAULT_BEHAVIOUR_FEATURES:
        if "{W}" in name:
            if window is None:
                continue
            name = name.replace("{W}", str(window))
        if name in present:
            out.append(name)
    return out
