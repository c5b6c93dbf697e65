"""``segmark features build|runs|show|export|describe``."""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from segmark.cli import app
from segmark.cli._common import (
    JsonOpt,
    LangOpt,
    WorkspaceOpt,
    console,
    fail,
    language,
    local_time,
    plain,
    print_json,
    say,
    workspace,
)
from segmark.features.labels import feature_label
from segmark.localtime import to_local
from segmark.pipeline.features import (
    build_features,
    describe_features,
    export_features,
    list_feature_runs,
    user_features,
)

features_app = typer.Typer(
    help="User features as of a date: RFM, activity, funnel, preferences, time, attributes.",
    no_args_is_help=True,
)
app.add_typer(features_app, name="features")

RunOpt = Annotated[int | None, typer.Option("--run", help="Feature build to read (default: the latest).")]


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


def _windows(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        fail(f"--windows {text!r}: give day counts separated by commas, e.g. 7,30,90,365")
        raise  # unreachable: fail() exits


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


@features_app.command("build")
def build(
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Count events strictly before this local date (YYYY-MM-DD) or date-time; "
        "default: the day after the last event.")] = None,
    windows: Annotated[str | None, typer.Option(
        help="Activity windows in days, comma-separated (default: features.windows, 7,30,90,365).")] = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Compute one row of features per user from the store, as of a date, and keep it as a new run.

    Examples:

      segmark features build

      segmark features build --as-of 2011-09-01 --windows 30,90
    """
    with workspace(ws_dir) as ws:
        run = build_features(ws, as_of=as_of, windows=_windows(windows))
        out = language(lang, ws)
    if json_out:
        print_json({"run_id": run.run_id, "as_of": run.as_of, "as_of_local": to_local(run.as_of, run.timezone),
                    "timezone": run.timezone, "users": run.n_users, "events": run.n_events,
                    "columns": len(run.columns), "table": run.table_name})
        return
    console.print(say("features.built", out, run=run.run_id, users=run.n_users, n=len(run.columns),
                      events=run.n_events, as_of=f"{run.as_of_local:%Y-%m-%d %H:%M}", zone=run.timezone))


@features_app.command("runs")
def runs(lang: LangOpt = None, json_out: JsonOpt = False, ws_dir: WorkspaceOpt = None) -> None:
    """List the stored feature builds, newest first."""
    with workspace(ws_dir, read_only=True) as ws:
        found = list_feature_runs(ws.store) if ws.store.table_exists("feature_runs") else []
        out = language(lang, ws)
    if json_out:
        print_json([{"run_id": r.run_id, "as_of": r.as_of, "as_of_local": to_local(r.as_of, r.timezone),
                     "timezone": r.timezone, "windows": list(r.windows), "users": r.n_users,
                     "events": r.n_events, "created_at": r.created_at} for r in found])
        return
    t = Table(title=say("features.runs_title", out), title_justify="left")
    for col in ("run", "as_of", "zone", "windows", "users", "events", "built"):
        t.add_column(say(f"features.runs.{col}", out))
    for r in found:
        t.add_row(str(r.run_id), f"{r.as_of_local:%Y-%m-%d %H:%M}", r.timezone, ",".join(map(str, r.windows)),
                  f"{r.n_users:,}", f"{r.n_events:,}", local_time(r.created_at))
    console.print(t)


def _named(name: str, template: str | None, label_zh: str | None, lang: str, sep: str = " ") -> str:
    """A column by its name (what SQL and ``--features`` take) and its label in ``lang`` beside it,
    where the catalogue has one."""
    label = feature_label(name, "zh" if lang == "zh" else "en", template, label_zh)
    return name if not label or label == name else f"{name}{sep}{label}"


@features_app.command("show")
def show(
    user_id: Annotated[str, typer.Argument(help="The user.")],
    run: RunOpt = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """One user's features, with units and meanings.

    Example: [bold]segmark features show 12347[/]
    """
    with workspace(ws_dir, read_only=True) as ws:
        feature_run, values = user_features(ws.store, user_id, run)
        out = language(lang, ws)
    if json_out:
        print_json({"user_id": user_id, "run_id": feature_run.run_id, "as_of": feature_run.as_of,
                    "features": values})
        return
    t = Table(title=say("features.user_title", out, user=user_id, as_of=f"{feature_run.as_of_local:%Y-%m-%d %H:%M}",
                        run=feature_run.run_id), title_justify="left")
    for col in ("feature", "value", "unit", "family"):
        t.add_column(say(f"features.col.{col}", out), justify="right" if col == "value" else "left")
    unknown = say("features.unknown", out)
    for c in feature_run.columns:
        name = plain(_named(c.name, c.template, c.label_zh, out))
        value = values.get(c.name)
        # a sum is 0 when there is nothing to add up; empty only when the shop has no amounts
        t.add_row(name, unknown if c.kind == "sum" and value is None else plain(_fmt(value)), c.unit, c.family)
    console.print(t)
    if any(c.kind == "sum" and values.get(c.name) is None for c in feature_run.columns):
        console.print(say("features.spend_unknown", out))


@features_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write: .csv or .parquet.")],
    fmt: Annotated[ExportFormat | None, typer.Option("--format", help="Override the format "
                                                     "guessed from the file name.")] = None,
    run: RunOpt = None,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Write a feature build to CSV (UTF-8) or Parquet, one row per user.

    Examples: [bold]segmark features export --out features.parquet[/],
    [bold]segmark features export --out f.csv --run 3[/]
    """
    with workspace(ws_dir, read_only=True) as ws:
        feature_run, path = export_features(ws.store, out, run, fmt.value if fmt else None)
        shown = language(lang, ws)
    console.print(say("features.exported", shown, users=feature_run.n_users, n=len(feature_run.columns),
                      run=feature_run.run_id, path=path))


@features_app.command("describe")
def describe(
    run: RunOpt = None,
    family: Annotated[str | None, typer.Option(help="Only this family (rfm, activity, funnel, "
                                               "preference, time, attributes, custom).")] = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """The feature catalog: each feature's meaning and unit, and its distribution in a build.

    Examples: [bold]segmark features describe[/], [bold]segmark features describe --family rfm --json[/]
    """
    with workspace(ws_dir, read_only=True) as ws:
        feature_run, table = describe_features(ws.store, run)
        out = language(lang, ws)
    if family:
        table = table[table["family"] == family]
    if json_out:
        records = table.astype(object).where(table.notna(), None).to_dict(orient="records")
        print_json({"run_id": feature_run.run_id, "as_of": feature_run.as_of,
                    "users": feature_run.n_users, "features": records})
        return
    t = Table(title=say("features.describe_title", out, run=feature_run.run_id,
                        as_of=f"{feature_run.as_of_local:%Y-%m-%d %H:%M}", users=feature_run.n_users),
              title_justify="left")
    for col in ("feature", "unit", "meaning", "filled", "mean", "min", "median", "max_top"):
        t.add_column(say(f"features.col.{col}", out), overflow="fold")
    unknown_spend = False
    columns = {c.name: c for c in feature_run.columns}
    for r in table.to_dict(orient="records"):
        col = columns.get(r["name"])
        name = plain(_named(r["name"], col.template if col else None, r["label_zh"], out, sep="\n"))
        last = _fmt(r["max"]) if r["kind"] != "text" else f"{_fmt(r['top'])} ({_fmt(r['top_share'])})"
        filled = 1 - r["missing_share"] if r["missing_share"] is not None else None
        stats = [_fmt(r["mean"]), _fmt(r["min"]), _fmt(r["median"]), last]
        if r["kind"] == "sum" and r["count"] == 0 and feature_run.n_users:  # no amounts in the shop
            stats, unknown_spend = [say("features.unknown", out)] * 4, True
        t.add_row(name, r["unit"], r["description"], f"{filled:.0%}" if filled is not None else "-", *stats)
    console.print(t)
    if unknown_spend:
        console.print(say("features.spend_unknown", out))
