"""What a workspace holds: table sizes, time range, data quality and recent runs, as one dict.

The database has one writer and no reader beside it, so while an ingest (or any step) writes,
``segmark status`` cannot open it. It then shows the snapshot of the last finished state instead:
after each command that recorded a run, ``save_snapshot`` writes ``workspace_status`` to
``.segmark-status.json`` in the workspace folder; ``busy_status`` reads it back, with who holds the
workspace (its PID and command line, database passwords redacted).
"""

from __future__ import annotations

import contextlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from segmark.ingest.database import is_database_url, parse_url
from segmark.store.base import Store, utc_now

SNAPSHOT_FILE = ".segmark-status.json"
"""The last finished state of a workspace, for ``status`` while another process holds it."""


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
    recent = []
    for rid, step, status, as_of, started, finished, metrics, msg in store.query_rows(
            "SELECT run_id, step, status, as_of, started_at, finished_at, metrics, message "
            "FROM runs ORDER BY run_id DESC LIMIT ?", [runs]):
        figures = json.loads(metrics) if metrics else {}
        recent.append({"run_id": rid, "step": step, "status": status, "outcome": run_outcome(step, status, figures),
                       "as_of": as_of, "started_at": started, "finished_at": finished, "metrics": figures,
                       "message": msg})
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


def run_outcome(step: str, status: str, metrics: dict[str, Any]) -> str:
    """What a run came to, for people: its status, except that a clustering which found no real
    segments is ``no_structure``. It is recorded as ``failed`` (it stored no segmentation, and
    ``last_refused_clustering`` reads it back), but it is a finding, shown with ✓ by ``run``."""
    selection = metrics.get("selection") if isinstance(metrics, dict) else None
    if (step == "segment cluster" and status == "failed" and isinstance(selection, dict)
            and selection.get("candidates") and not selection.get("structure_found", False)):
        return "no_structure"
    return status


def last_run_id(store: Store) -> int:
    """The newest run record's id (0 when none): a command that changed it finished a step."""
    return int(store.scalar("SELECT coalesce(max(run_id), 0) FROM runs"))


def save_snapshot(store: Store, root: Path) -> None:
    """Write the workspace's status as it is now (a command just finished a step) beside it."""
    info = workspace_status(store)
    info["snapshot_at"] = utc_now()
    path = root / SNAPSHOT_FILE
    tmp = path.with_name(f"{SNAPSHOT_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info, default=str, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def busy_status(root: Path, pid: int | None) -> dict[str, Any]:
    """What ``status`` can say while process ``pid`` holds the workspace: the last finished state
    (``snapshot``, None if no command has finished a step since this release) and the holder."""
    snapshot = None
    with contextlib.suppress(OSError, ValueError):
        snapshot = json.loads((root / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    return {"busy": True, "holder": holder(pid), "snapshot": snapshot}


def holder(pid: int | None) -> dict[str, Any]:
    """The process that holds the workspace: its PID, command line (database URLs without their
    passwords) and start time, as far as the system tells."""
    out: dict[str, Any] = {"pid": pid, "command": None, "since": None}
    if pid is None:
        return out
    with contextlib.suppress(psutil.Error, OSError):
        proc = psutil.Process(pid)
        out["command"] = " ".join(_shown_arg(a) for a in _segmark_args(proc.cmdline()))
        out["since"] = datetime.fromtimestamp(proc.create_time()).isoformat(sep=" ", timespec="seconds")
    return out


def _segmark_args(argv: list[str]) -> list[str]:
    """``python -m segmark.cli ingest ...`` or ``.../bin/segmark ingest ...`` as ``segmark ingest ...``."""
    for i, arg in enumerate(argv):
        if arg in ("segmark.cli", "segmark") or Path(arg).name == "segmark":
            return ["segmark", *argv[i + 1:]]
    return argv


def _shown_arg(arg: str) -> str:
    if is_database_url(arg):
        with contextlib.suppress(Exception):
            return parse_url(arg).redacted
        return arg.split("://", 1)[0] + "://***"
    return arg
