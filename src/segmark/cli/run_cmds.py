"""``segmark run`` (the whole flow over given files) and ``segmark demo`` (the same on a sample shop)."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from segmark.cli import app
from segmark.cli._common import (
    Lang,
    LangOpt,
    TimezoneOpt,
    WorkspaceOpt,
    console,
    fail,
    guarded,
    language,
    plain,
    revenue_pct,
    say,
)
from segmark.config import SETTINGS_FILE
from segmark.core.segment.fitted import rfm_notes
from segmark.errors import StepFailed
from segmark.ingest.mapping import load_mapping
from segmark.pipeline.demo import check_demo_folder, prepare_demo
from segmark.pipeline.run import FlowInputs, StepResult, run_flow
from segmark.text import Lang as TextLang
from segmark.text import catalogue, msg
from segmark.workspace import init_workspace, open_workspace, resolve_root

_ICONS = {"pending": "[dim]·[/]", "running": "[yellow]…[/]", "ok": "[green]✓[/]", "failed": "[red]✗[/]",
          "skipped": "[dim]-[/]"}


def _label(group: str, key: str, lang: TextLang) -> str:
    """A step's name or a figure's label in ``lang`` (``cli.<group>.<key>``); the key itself when
    the catalogue has no entry (a step another module added)."""
    full = f"cli.{group}.{key}"
    return say(f"{group}.{key}", lang) if full in catalogue() else key


def _figure(value: Any) -> str:
    """A step's figure as the table shows it: counts with separators, a local as-of date-time as
    its date when it is midnight (as every other view shows it), else to the minute."""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ", timespec="minutes")
    return str(value)


def _steps_table(results: list[StepResult], lang: TextLang = "en") -> Table:
    t = Table(title=say("run.title", lang), title_justify="left")
    for col in ("", "step", "seconds", "peak", "result"):
        t.add_column(say(f"run.col.{col}", lang) if col else "",
                     justify="right" if col in ("seconds", "peak") else "left")
    for r in results:
        detail = r.error or say("list_sep", lang).join(
            f"{_label('figure', k, lang)} {_figure(v)}" for k, v in r.summary.items() if not isinstance(v, dict | list))
        t.add_row(_ICONS[r.status], _label("step", r.name, lang), f"{r.seconds:.1f}" if r.seconds else "",
                  f"{r.peak_rss_mb:,.0f}" if r.peak_rss_mb else "", plain(detail))
    return t


def execute(root: Path, inputs: FlowInputs) -> dict[str, Any]:
    """Run the flow with a live table of steps; print the summary; exit non-zero on failure."""
    shown: list[StepResult] = []
    with guarded(), open_workspace(root) as ws, Live(console=console, refresh_per_second=4,
                                                     transient=not console.is_terminal) as live:
        lang = language(inputs.lang or ws.settings.report.lang or ws.settings.lang)

        def on_step(result: StepResult) -> None:
            if result not in shown:
                shown.append(result)
            live.update(_steps_table(shown, lang))

        try:
            results, state = run_flow(ws, inputs, on_step=on_step)
        except StepFailed as exc:
            live.update(_steps_table(exc.results, lang))
            live.stop()
            fail(str(exc))
            raise  # unreachable: fail() exits
        live.update(_steps_table(results, lang))
    if not console.is_terminal:
        console.print(_steps_table(results, lang))
    _print_summary(root, state, lang)
    return state


def _print_summary(root: Path, state: dict[str, Any], lang: TextLang) -> None:
    for key in ("cluster", "rfm"):
        result = state.get(key)
        if result is None:
            continue
        seg = result.segmentation
        t = Table(title=say(f"run.summary_{key}", lang, id=seg.segmentation_id, method=seg.method),
                  title_justify="left")
        for col in ("segment", "users", "share", "revenue_share"):
            t.add_column(say(f"seg.col.{col}", lang), justify="left" if col == "segment" else "right")
        segments = result.segments[result.segments["size"] > 0]  # the scheme keeps empty ones for `assign`
        for _, row in segments.sort_values("size", ascending=False).iterrows():
            name = row["name_zh"] if lang == "zh" and row.get("name_zh") else row["name"]
            t.add_row(plain(name), f"{int(row['size']):,}", f"{row['share']:.1%}",
                      revenue_pct(row["revenue_share"], lang))
        console.print(t)
        if key == "cluster":
            console.print(Text.from_markup(say("run.why", lang, reason=seg.reason_in(lang)), style="dim"))
        else:  # RFM names are relative to the shop, and may rest on too short a history
            for i, note in enumerate(rfm_notes(seg.metrics, lang)):  # the first says relative, the rest warn
                console.print(note, style="yellow" if i else "dim", highlight=False, markup=False)
    if "cluster_refused" in state:
        selection = state.get("cluster_selection")
        why = selection.why.text(lang) if selection is not None and selection.why is not None else None
        if "cluster_too_few" in state:
            n, minimum = state["cluster_too_few"]
            why = say("run.too_few_users", lang, n=n, minimum=minimum)
        console.print(Text.from_markup(say("run.clustering", lang), style="yellow"),
                      plain(why or state["cluster_refused"]))
    ingest = state.get("ingest", {})
    if ingest:
        t = Table(title=say("run.quality", lang), title_justify="left")
        for col in ("table", "read", "accepted", "quarantined", "duplicates"):
            t.add_column(say(f"ingest.col.{col}", lang), justify="left" if col == "table" else "right")
        for table, rep in ingest.items():
            t.add_row(msg(f"data.table.{table}", lang), f"{rep.rows_read:,}", f"{rep.accepted:,}",
                      f"{rep.quarantined:,}", f"{rep.duplicates:,}")
        console.print(t)
    console.print(say("run.workspace", lang, root=root))
    if "report" in state:
        console.print(say("run.report", lang, path=state["report"]))


@app.command()
def run(
    events: Annotated[str, typer.Option("--events", "-e", help="Event file, folder or glob.")],
    users: Annotated[str | None, typer.Option("--users", help="User attribute file.")] = None,
    items: Annotated[str | None, typer.Option("--items", help="Item file.")] = None,
    mapping: Annotated[str | None, typer.Option(
        "--mapping", "-m", help="Mapping for the events file: a TOML file or a preset (taobao, online-retail, "
                                "cdnow).")] = None,
    users_mapping: Annotated[str | None, typer.Option("--users-mapping", help="Mapping for the users file.")] = None,
    items_mapping: Annotated[str | None, typer.Option("--items-mapping", help="Mapping for the items file.")] = None,
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", help="Compute features as of this date (default: the day after the last event).")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Where to write the HTML report "
                                                "(default: report.html in the workspace).")] = None,
    timezone: TimezoneOpt = None,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """The whole flow over your files: ingest, features, segments, report — one command.

    Each step can also be run alone (segmark ingest, segmark features build, ...); a failed step
    says which and why, and the steps before it stay done. A new workspace takes the shop's time
    zone from --timezone, else from the mapping (the taobao preset: Asia/Shanghai), else UTC.

    Example:

      segmark run --events UserBehavior.csv --mapping taobao -w taobao-shop
    """
    root = resolve_root(ws_dir)
    with guarded():
        if timezone is None and mapping is not None and not (root / SETTINGS_FILE).exists():
            timezone = load_mapping(mapping).ts.timezone
        init_workspace(root, timezone=timezone)
    inputs = FlowInputs(events=events, users=users, items=items, mapping=mapping, users_mapping=users_mapping,
                        items_mapping=items_mapping, as_of=as_of, report=report or root / "report.html",
                        lang=None if lang is None else lang.value)
    execute(root, inputs)


@app.command()
def demo(
    users: Annotated[int, typer.Option(help="Number of users in the sample shop.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed makes the same shop.")] = 0,
    lang: Annotated[Lang, typer.Option(help="Language of names and report.")] = Lang.en,
    force: Annotated[bool, typer.Option(
        "--force", help="Use the folder even though it holds something that is not a sample shop.")] = False,
    ws_dir: Annotated[Path | None, typer.Option(
        "--workspace", "-w", envvar="SEGMARK_WORKSPACE", show_default=False,
        help="Workspace to (re)create for the sample shop (default: ./demo-shop).")] = None,
) -> None:
    """Make a realistic sample shop and run the whole flow on it.

    The shop has Chinese and English user attributes, a year of views, searches, carts,
    favourites, purchases and refunds from six behaviour types, and some deliberately dirty rows.
    Running it again replaces the sample shop; a folder holding anything else is refused unless
    --force is given.

    Example: [bold]segmark demo --users 5000 --lang zh[/]
    """
    root = (ws_dir or Path("demo-shop")).resolve()
    out = language(lang)
    with guarded(out):
        check_demo_folder(root, force=force)
        with console.status(say("demo.generating", out, users=users)):
            inputs = prepare_demo(root, users=users, seed=seed, lang=lang.value)
    console.print(say("demo.written", out, path=root / "data"))
    execute(root, inputs)
