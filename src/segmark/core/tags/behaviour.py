"""Behaviour-sequence tags as SQL over the events table: what a user did in a window before as_of.

Two shapes, both one shared-SQL SELECT with every value bound as a parameter (the day counts are
checked whole numbers):

- counting: ``event`` at least ``min_count`` times in the window; with ``per`` the count is per
  category (or item) and the value is the user's most frequent one (ties: latest, then name);
- not followed: ``event`` in the window with no ``then_not`` after it within ``within_days``
  (and before as_of), for the same item, category or anything; the value is ``yes``.

Each row carries evidence as ``key=value`` pairs (``n=3;last=2025-11-03;item=I42``) that
``tags show`` turns into a sentence in either language.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from segmark.core.tags.spec import TagSpec


def _evidence(n: str, last: str) -> str:
    return f"'n=' || CAST({n} AS VARCHAR) || ';last=' || CAST(CAST({last} AS DATE) AS VARCHAR)"


def behaviour_sql(spec: TagSpec, as_of: datetime, universe: str) -> tuple[str, list[Any]]:
    """SELECT user_id, value, evidence for one behaviour tag; ``universe`` is a query of the user ids
    that may be tagged (the feature build's)."""
    s = spec.settings
    start = as_of - timedelta(days=int(s["window_days"]))
    if s["then_not"]:
        within = int(s["within_days"])
        same = {"item": " AND p.item_id = c.item_id", "category": " AND p.category = c.category",
                "any": ""}[s["same"] or "item"]
        extra = {"item": "item", "category": "category"}.get(s["same"] or "item")
        example = f"min(c.{'item_id' if extra == 'item' else 'category'})" if extra else None
        sql = (
            f"SELECT c.user_id, ? AS value, {_evidence('count(*)', 'max(c.ts)')}"
            + (f" || coalesce(';{extra}=' || {example}, '')" if example else "")
            + " AS evidence FROM events c "
            "WHERE c.user_id IS NOT NULL AND c.event_type = ? AND c.ts >= ? AND c.ts < ? "
            f"AND c.user_id IN ({universe}) "
            "AND NOT EXISTS (SELECT 1 FROM events p WHERE p.user_id = c.user_id AND p.event_type = ? "
            f"AND p.ts > c.ts AND p.ts <= c.ts + INTERVAL '{within}' DAY AND p.ts < ?{same}) "
            "GROUP BY c.user_id HAVING count(*) >= ?")
        value = spec.values[0].value if spec.values else "yes"
        return sql, [value, s["event"], start, as_of, s["then_not"], as_of, int(s["min_count"])]
    if s["per"]:
        col = "category" if s["per"] == "category" else "item_id"
        sql = (
            "SELECT user_id, value, evidence FROM ("
            f"SELECT user_id, {col} AS value, {_evidence('count(*)', 'max(ts)')} AS evidence, "
            f"row_number() OVER (PARTITION BY user_id ORDER BY count(*) DESC, max(ts) DESC, {col}) AS pick "
            f"FROM events WHERE user_id IS NOT NULL AND event_type = ? AND ts >= ? AND ts < ? AND {col} IS NOT NULL "
            f"AND user_id IN ({universe}) "
            f"GROUP BY user_id, {col} HAVING count(*) >= ?) ranked WHERE pick = 1")
        return sql, [s["event"], start, as_of, int(s["min_count"])]
    value = spec.values[0].value if spec.values else "yes"
    sql = (f"SELECT user_id, ? AS value, {_evidence('count(*)', 'max(ts)')} AS evidence FROM events "
           f"WHERE user_id IS NOT NULL AND event_type = ? AND ts >= ? AND ts < ? AND user_id IN ({universe}) "
           "GROUP BY user_id HAVING count(*) >= ?")
    return sql, [value, s["event"], start, as_of, int(s["min_count"])]


def parse_evidence(text: str | None) -> dict[str, str]:
    """``n=3;last=2025-11-03`` -> {"n": "3", "last": "2025-11-03"}."""
    out: dict[str, str] = {}
    for part in (text or "").split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out
