"""``segmark init`` and ``segmark status``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from segmark.cli import app
from segmark.cli._common import JsonOpt, TimezoneOpt, WorkspaceOpt, console, guarded, print_json, workspace
from segmark.pipeline.status import quarantine_rows, workspace_status
from segmark.workspace import init_workspace


@app.command()
def init(
    directory: Annotated[Path | None, typer.Argument(help="Folder to make (default: current).")] = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Make a workspace: segmark.toml with documented defaults and an empty database.

    Example: [bold]segmark init myshop --timezone Asia/Shanghai[/] then [bold]cd myshop[/] or pass
    [bold]--workspace myshop[/].
    """
    with guarded():
        path = init_workspace(directory, timezone=timezone)
    console.print(f"workspace ready: [bold]{path}[/]")


@app.command()
def status(
    quarantine: Annotated[bool, typer.Option("--quarantine", help="List quarantined rows.")] = False,
    reason: Annotated[str | None, typer.Option(help="With --quarantine: only this reason.")] = None,
    limit: Annotated[int, typer.Option(help="With --quarantine: at most this many rows.")] = 20,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """What the workspace holds: rows per table, time range, users, items, quarantine, last runs.

    Examples: [bold]segmark status[/], [bold]segmark status --json[/],
    [bold]segmark status --quarantine --reason unknown_event_type[/]
    """
    with workspace(ws_dir) as ws:
        if quarantine:
            rows = quarantine_rows(ws.store, reason=reason, limit=limit)
            if json_out:
                print_json(rows)
                return
            t = Table(title="quarantined rows", title_justify="left")
            for col in ("file", "line", "column", "reason", "value", "raw"):
                t.add_column(col, overflow="fold")
            for r in rows:
                t.add_row(Path(r["file"]).name, str(r["line"]), r["column_name"] or "", r["reason"],
                          str(r["value"] or ""), (r["raw"] or "")[:120])
            console.print(t)
            return
        info = workspace_status(ws.store)
    if json_out:
        print_json(info)
        return
    ev = info["events"]
    t = Table(title=f"workspace {ws.root}", title_justify="left", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    for name, n in info["tables"].items():
        t.add_row(name, f"{n:,}")
    t.add_row("users with events", f"{ev['users']:,}")
    t.add_row("guest events", f"{ev['guest_events']:,}")
    t.add_row("items with events", f"{ev['items']:,}")
    t.add_row("first event (UTC)", str(ev["first_ts"] or "-"))
    t.add_row("last event (UTC)", str(ev["last_ts"] or "-"))
    console.print(t)
    if ev["by_type"]:
        bt = Table(title="events by type", title_justify="left")
        bt.add_column("type")
        bt.add_column("events", justify="right")
        for k, n in ev["by_type"].items():
            bt.add_row(k, f"{n:,}")
        console.print(bt)
    if info["quarantine"]:
        q = Table(title="quarantined by reason", title_justify="left")
        for col in ("table", "reason", "rows"):
            q.add_column(col, justify="right" if col == "rows" else "left")
        for r in info["quarantine"]:
            q.add_row(r["table"], r["reason"], f"{r['rows']:,}")
        console.print(q)
    if info["runs"]:
        rt = Table(title="last runs", title_justify="left")
        for col in ("run", "step", "status", "as_of", "started (UTC)", "note"):
            rt.add_column(col)
        for r in info["runs"]:
            note = r["message"] or ", ".join(
                f"{k.replace('_', ' ')} {v:,}" for k, v in r["metrics"].items()
                if isinstance(v, int | float) and k != "run_id")
            rt.add_row(str(r["run_id"]), r["step"], r["status"], str(r["as_of"] or ""),
                       str(r["started_at"])[:19], note)
        console.print(rt)
