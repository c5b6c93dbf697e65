"""``segmark ingest events|users|items FILE``."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from segmark.cli import app
from segmark.cli._common import (
    JsonOpt,
    LangOpt,
    WorkspaceOpt,
    console,
    err_console,
    fail,
    language,
    print_json,
    say,
    workspace,
)
from segmark.ingest.database import is_database_url
from segmark.ingest.transform import REASONS
from segmark.pipeline.ingest import IngestReport, ingest_file, ingest_query
from segmark.text import Lang as TextLang
from segmark.text import catalogue, msg


class TableName(StrEnum):
    events = "events"
    users = "users"
    items = "items"


class FileFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"


@app.command()
def ingest(
    table: Annotated[TableName, typer.Argument(help="Which canonical table the file feeds.")],
    file: Annotated[str, typer.Argument(help="A file, a folder of files, or a glob such as 'logs/*.csv' "
                                        "(in a folder or glob, files that are not data, such as README.md, "
                                        "are left out and listed); or a database URL, postgresql://USER@HOST/DB "
                                        "or mysql://USER@HOST/DB, with --query or --table.")],
    fmt: Annotated[FileFormat | None, typer.Option("--format", help="Override the format guessed "
                                                   "from the file name.")] = None,
    mapping: Annotated[str | None, typer.Option(
        "--mapping", "-m", help="A mapping TOML file, or a preset: taobao, online-retail, cdnow.")] = None,
    query: Annotated[str | None, typer.Option(
        "--query", help="With a database URL: the SELECT whose rows to ingest.")] = None,
    source_table: Annotated[str | None, typer.Option(
        "--table", help="With a database URL: a table (or schema.table) to ingest whole.")] = None,
    lang_opt: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Load a file, or a query on the shop's database, into the store: mapped, validated,
    de-duplicated, bad rows quarantined.

    Rows read = accepted + quarantined + duplicates, always; the same file twice adds nothing; an
    error or Ctrl-C leaves the store as it was. From a database, a row's line is its row number in
    the result; keep the password out of the URL (PGPASSWORD or ~/.pgpass, MYSQL_PWD): it is never
    stored or shown either way.

    Examples:

      segmark ingest events UserBehavior.csv --mapping taobao

      segmark ingest events online_retail.parquet --mapping online-retail

      segmark ingest users users_gbk.csv --mapping my_users.toml --json

      segmark ingest events postgresql://shop@db.internal/shop --query "SELECT * FROM orders WHERE day >= '2024-01-01'"

      segmark ingest users mysql://shop@10.0.0.5/shop --table customers --mapping my_users.toml
    """
    database = is_database_url(file)
    if not database and (query is not None or source_table is not None):
        raise typer.BadParameter("--query and --table go with a database URL (postgresql://... or mysql://...)",
                                 param_hint="FILE")

    def run(progress: Callable[[str, int, int], None] | None) -> IngestReport:
        if database:
            return ingest_query(ws, table.value, file, query, source_table=source_table, mapping=mapping,
                                progress=progress)
        return ingest_file(ws, table.value, file, mapping=mapping, fmt=fmt.value if fmt else None,
                           progress=progress)

    with workspace(ws_dir) as ws:
        lang = language(lang_opt, ws)
        if json_out:
            report = run(None)
            print_json(report.to_dict())
            _exit_if_nothing_accepted(report, lang)
            return
        if not console.is_terminal:
            # logs of scheduled jobs: plain lines on stderr instead of a live bar
            report = run(_plain_progress(lang))
            print_report(report, lang)
            _exit_if_nothing_accepted(report, lang)
            return
        counted = (TextColumn("{task.completed:,} " + say("ingest.rows_unit", lang)),) if database else (
            BarColumn(), DownloadColumn(), TimeRemainingColumn())
        with Progress(TextColumn("[bold]{task.description}"), *counted, console=console, transient=True) as bar:
            tasks: dict[str, int] = {}

            def progress(name: str, done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(escape(name), total=total or None)  # a name is no markup
                bar.update(tasks[name], completed=done)

            report = run(progress)
        print_report(report, lang)
        _exit_if_nothing_accepted(report, lang)


def _exit_if_nothing_accepted(report: IngestReport, lang: TextLang) -> None:
    """An ingest that stored nothing new and rejected rows (or read none) did not do its job: say so
    and exit non-zero, so scripts notice (the quarantine is kept for inspection)."""
    if report.nothing_accepted:
        fail(report.rejection_summary(lang))


def _plain_progress(lang: TextLang = "en", step: float = 0.1) -> Callable[[str, int, int], None]:
    """Progress as a line on stderr every ``step`` of a file (a database's result, of unknown size:
    the rows so far, at most every ``ROWS_EVERY`` rows)."""
    shown: dict[str, float] = {}

    def progress(name: str, done: int, total: int) -> None:
        if not total:
            if done - shown.get(name, 0) >= ROWS_EVERY or (done and name not in shown):
                shown[name] = done
                err_console.print(f"{name}: {done:,} {say('ingest.rows_unit', lang)}", highlight=False, markup=False)
            return
        share = done / total if total else 1.0
        if share - shown.get(name, -1.0) >= step or (share >= 1.0 > shown.get(name, 0.0)):
            shown[name] = share
            err_console.print(f"{name}: {share:.0%}", highlight=False, markup=False)

    return progress


ROWS_EVERY = 1_000_000


def shown_source(path: str, fmt: str | None = None) -> str:
    """A file by its name, a database source by its (password-free) label."""
    return path if fmt in ("postgresql", "mysql") or is_database_url(path) else Path(path).name


def print_report(report: IngestReport, lang: TextLang = "en") -> None:
    """The summary table: read, accepted, quarantined by reason, duplicates."""
    table = msg(f"data.table.{report.table}", lang) if f"data.table.{report.table}" in catalogue() else report.table
    t = Table(title=say("ingest.title", lang, table=table, mapping=report.mapping), title_justify="left")
    for col in ("file", "read", "accepted", "quarantined", "duplicates"):
        t.add_column(say(f"ingest.col.{col}", lang), justify="left" if col == "file" else "right")
    for f in report.files:
        t.add_row(escape(shown_source(f.path, f.format)), f"{f.rows_read:,}", f"{f.accepted:,}", f"{f.quarantined:,}",
                  f"{f.duplicates:,}")
    if len(report.files) > 1:
        t.add_row(say("ingest.total", lang), f"{report.rows_read:,}", f"{report.accepted:,}",
                  f"{report.quarantined:,}", f"{report.duplicates:,}")
    console.print(t)
    if report.by_reason:
        r = Table(title=say("ingest.by_reason", lang), title_justify="left")
        r.add_column(say("ingest.col.reason", lang))
        r.add_column(say("ingest.col.rows", lang), justify="right")
        r.add_column(say("ingest.col.meaning", lang))
        for reason, n in report.by_reason.items():
            r.add_row(reason, f"{n:,}", escape(_meaning(reason, lang)))  # "[event_types]" is no markup
        console.print(r)
        console.print(say("ingest.see_rows", lang))
    ignored = sorted({c for f in report.files for c in f.ignored_columns})
    if ignored:
        console.print(say("ingest.unused", lang, columns=say("list_sep", lang).join(ignored)))
    if report.skipped:
        console.print(Text(msg("ingest.skipped", lang, files=", ".join(Path(p).name for p in report.skipped)),
                           style="yellow"))


def _meaning(reason: str, lang: TextLang) -> str:
    """What a quarantine reason means: the ingestion's own words in English, the catalogue's in Chinese."""
    if lang == "zh" and f"data.reason.{reason}" in catalogue():
        return msg(f"data.reason.{reason}", lang)
    return REASONS.get(reason, "")
