"""What a workspace holds: table sizes, time range, data quality and recent runs, as one dict."""

from __future__ import annotations

import json
from typing import Any

from segmark.store.base import Store


def workspace_status(store: Store, *, runs: int = 10) -> dict[str, Any]:
    """A summary for ``segmark status``; the CLI prints it as tables or JSON."""
    ev = store.query_rows(
        "SELECT count(*), count(DISTINCT user_id), count(*) FILTER (WHERE user_id IS NULL), "
        "count(DISTINCT item_id), min(ts), max(ts) FROM events"
    )[0]
    by_type = dict(store.query_rows(
        "SELECT event_type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"))
    quarantine = [
        {"table": t, "reason": r, "rows": n}
        for t, r, n in store.query_rows(
            "SELECT table_name, reason, count(*) FROM quarantine GROUP BY 1, 2 ORDER BY 3 DESC")
    ]
    recent = [
        {"run_id": rid, "step": step, "status": status, "as_of": as_of, "started_at": started,
         "finished_at": finished, "metrics": json.loads(metrics) if metrics else {}, "message": msg}
        for rid, step, status, as_of, started, finished, metrics, msg in store.query_rows(
            "SELECT run_id, step, status, as_of, started_at, finished_at, metrics, message "
            "FROM runs ORDER BY run_id DESC LIMIT ?", [runs])
    ]
    return {
        "database": store.location,
        "schema_version": store.schema_version(),
        "tables": {
            "events": ev[0],
            "users": store.scalar("SELECT count(*) FROM users"),
            "items": store.scalar("SELECT count(*) FROM items"),
            "quarantine": store.scalar("SELECT count(*) FROM quarantine"),
            "sources": store.scalar("SELECT count(*) FROM sources"),
        },
        "events": {
            "users": ev[1], "guest_events": ev[2], "items": ev[3],
            "first_ts": ev[4], "last_ts": ev[5], "by_type": by_type,
        },
        "quarantine": quarantine,
        "runs": recent,
    }


def quarantine_rows(store: Store, *, reason: str | None = None,
                    limit: int = 20) -> list[dict[str, Any]]:
    """Quarantined rows with file, line, column, reason, value and the raw row."""
    where = "WHERE reason = ?" if reason else ""
    params: list[Any] = [reason] if reason else []
    cols = ["table_name", "file", "line", "column_name", "reason", "value", "raw"]
    rows = store.query_rows(
        f"SELECT {', '.join(cols)} FROM quarantine {where} ORDER BY file, line LIMIT ?", [*params, limit])
    return [dict(zip(cols, r, strict=True)) for r in rows]
