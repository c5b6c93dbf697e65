"""``segmark init`` and ``segmark status``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from segmark.cli import app
from segmark.cli._common import (
    JsonOpt,
    Lang,
    LangOpt,
    TimezoneOpt,
    WorkspaceOpt,
    console,
    err_console,
    fail,
    guarded,
    language,
    local_day,
    local_time,
    print_json,
    say,
    use_timezone,
    workspace,
)
from segmark.cli.ingest_cmds import shown_source
from segmark.config import SETTINGS_FILE, load_settings
from segmark.errors import WorkspaceBusyError
from segmark.numbers import significant
from segmark.pipeline.status import busy_status, quarantine_rows, workspace_status
from segmark.text import Lang as TextLang
from segmark.text import known, msg
from segmark.workspace import init_workspace, resolve_root


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
    console.print(say("ws.ready", "en", path=path))


@app.command()
def status(
    quarantine: Annotated[bool, typer.Option("--quarantine", help="List quarantined rows.")] = False,
    reason: Annotated[str | None, typer.Option(help="With --quarantine: only this reason.")] = None,
    limit: Annotated[int, typer.Option(help="With --quarantine: at most this many rows.")] = 20,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """What the workspace holds: rows per table, time range, users, items, quarantine, last runs.

    Examples: [bold]segmark status[/], [bold]segmark status --json[/],
    [bold]segmark status --quarantine --reason unknown_event_type[/]
    """
    def when_busy(exc: WorkspaceBusyError) -> None:
        _busy(resolve_root(ws_dir), exc, lang, json_out=json_out, quarantine=quarantine)

    with workspace(ws_dir, when_busy=when_busy) as ws:
        out = language(lang, ws)
        if quarantine:
            rows = quarantine_rows(ws.store, reason=reason, limit=limit)
            if json_out:
                print_json(rows)
                return
            t = Table(title=say("ws.quarantined_rows", out), title_justify="left")
            for col in ("file", "line", "column", "reason", "value", "raw"):
                t.add_column(say(f"ws.q.{col}", out), overflow="fold")
            for r in rows:
                t.add_row(escape(shown_source(r["file"])), str(r["line"]), r["column_name"] or "", r["reason"],
                          escape(str(r["value"] or "")), escape((r["raw"] or "")[:120]))
            console.print(t)
            return
        info = workspace_status(ws.store)
    if json_out:
        print_json(info)
        return
    _print_status(info, out, ws.root or info["database"])


def _busy(root: Path, exc: WorkspaceBusyError, lang: Lang | None, *, json_out: bool, quarantine: bool) -> None:
    """Status while another process writes: its last finished state, and who holds it."""
    with guarded():
        settings = load_settings(root / SETTINGS_FILE)
    use_timezone(settings.time.timezone)
    out = language(lang) if lang is not None else ("zh" if settings.lang == "zh" else "en")
    view = busy_status(root, exc.pid)
    who = view["holder"]
    holder_text = say("ws.busy.holder", out, pid=who["pid"] if who["pid"] is not None else "?",
                      command=who["command"] or "?", since=who["since"] or "?")
    if quarantine:
        fail(Text.from_markup(say("ws.busy.no_quarantine", out, holder=holder_text)))
    if json_out:
        print_json(view)
        if view["snapshot"] is None:
            raise typer.Exit(1)
        raise typer.Exit(0)
    if view["snapshot"] is None:
        fail(Text.from_markup(say("ws.busy.no_snapshot", out, holder=holder_text)))
    err_console.print(Text.from_markup(say("ws.busy.showing", out, holder=holder_text,
                               at=local_time(view["snapshot"].get("snapshot_at"))), style="yellow"),
                      soft_wrap=True)
    _print_status(view["snapshot"], out, root)
    raise typer.Exit(0)


def _print_status(info: dict[str, Any], out: TextLang, root: object) -> None:
    ev = info["events"]
    t = Table(title=say("ws.title", out, root=root), title_justify="left", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    for name, n in info["tables"].items():
        t.add_row(_table(name, out), f"{n:,}")
    for key, value in (("users", f"{ev['users']:,}"), ("guest_events", f"{ev['guest_events']:,}"),
                       ("items", f"{ev['items']:,}"), ("first_ts", local_time(ev["first_ts"], seconds=True)),
                       ("last_ts", local_time(ev["last_ts"], seconds=True))):
        t.add_row(say(f"ws.{key}", out), value)
    console.print(t)
    if ev["by_type"]:
        bt = Table(title=say("ws.by_type", out), title_justify="left")
        bt.add_column(say("ws.type", out))
        bt.add_column(say("ws.events", out), justify="right")
        for k, n in ev["by_type"].items():
            bt.add_row(msg(f"data.event.{k}", out) if out == "zh" and k in _EVENTS else k, f"{n:,}")
        console.print(bt)
    if info["quarantine"]:
        q = Table(title=say("ingest.by_reason", out), title_justify="left")
        for col in ("table", "reason", "rows"):
            q.add_column(say(f"ingest.col.{col}", out), justify="right" if col == "rows" else "left")
        for r in info["quarantine"]:
            q.add_row(_table(r["table"], out), r["reason"], f"{r['rows']:,}")
        console.print(q)
    if info["runs"]:
        rt = Table(title=say("ws.last_runs", out), title_justify="left")
        for col in ("run", "step", "status", "as_of", "started", "note"):
            rt.add_column(say(f"ws.runs.{col}", out))
        for r in info["runs"]:
            note = r["message"] or say("list_sep", out).join(
                f"{_known('figure', k, out, k.replace('_', ' '))} {_figure(v, k)}" for k, v in r["metrics"].items()
                if isinstance(v, int | float) and not isinstance(v, bool) and k != "run_id")
            outcome = r.get("outcome") or r["status"]
            rt.add_row(str(r["run_id"]), _known("step", r["step"], out), _known("ws.outcome", outcome, out),
                       local_day(r["as_of"]) if r["as_of"] else "", local_time(r["started_at"]), Text(note))
        console.print(rt)


def _figure(v: float, name: str = "") -> str:
    """A run's figure as people read it: whole numbers with thousands separators, shares as
    percentages (min share 3.6%, not 0.0357), others to three significant digits (silhouette 0.412,
    not 0.41204475625806775; n clusters 6, not 6.0)."""
    if name.endswith("share"):
        return f"{v:.1%}"
    if isinstance(v, int) or float(v).is_integer():
        return f"{int(v):,}"
    return significant(v) if abs(v) < 1000 else f"{v:,.0f}"


_EVENTS = ("view", "search", "cart", "remove_cart", "fav", "purchase", "refund")


def _table(name: str, lang: str) -> str:
    """A table's name in ``lang`` (one the catalogue does not know as it is)."""
    if name in ("events", "users", "items"):
        return msg(f"data.table.{name}", lang) if lang == "zh" else name
    return _known("ws.table", name, lang)


def _known(group: str, key: str, lang: str, default: str | None = None) -> str:
    """``cli.<group>.<key>`` in ``lang`` where the catalogue has it, else ``default`` (the key)."""
    return known(f"cli.{group}.{key}", lang, key if default is None else default)  # type: ignore[arg-type]
