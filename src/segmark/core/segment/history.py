"""How much history the events cover, measured so that a few stray events do not stretch it.

RFM scores rank a shop's buyers against each other, so "Lost" means "among the shop's longest since
a purchase", whatever that is. Over a short history it is days, not months: Taobao's behaviour sample
covers nine days (plus 35 stray September events that stretch its full range to 84), and its
"Lost" buyers bought 6.6 days ago. The span that counts is the one holding the central
:data:`HISTORY_SHARE` of events (:func:`robust_span_days`); below :data:`MIN_RFM_HISTORY_DAYS`
the RFM names come with a warning.
"""

from __future__ import annotations

import math

HISTORY_SHARE = 0.98
"""Share of events the robust span holds: from the 1st to the 99th percentile of event times."""
MIN_RFM_HISTORY_DAYS = 90.0
"""Shortest robust span over which recency scores mean much: a quarter, the shortest window in
which most shops see a regular buyer come back."""


def quantiles() -> tuple[float, float]:
    """The event-time quantiles that bound the robust span."""
    tail = (1.0 - HISTORY_SHARE) / 2.0
    return tail, 1.0 - tail


def robust_span_days(low_epoch: float | None, high_epoch: float | None) -> float | None:
    """Days between two event-time quantiles (seconds since the epoch); None without events."""
    if low_epoch is None or high_epoch is None or not (math.isfinite(low_epoch) and math.isfinite(high_epoch)):
        return None
    return max(0.0, (float(high_epoch) - float(low_epoch)) / 86_400.0)


def short_history(span_days: float | None) -> bool:
    """Whether RFM names rest on too short a history to mean much."""
    return span_days is not None and span_days < MIN_RFM_HISTORY_DAYS
