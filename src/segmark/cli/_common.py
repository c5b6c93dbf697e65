"""What every command shares: the workspace option, the console, and turning errors into messages."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from segmark.errors import SegmarkError, WorkspaceBusyError
from segmark.localtime import json_value
from segmark.localtime import local_day as _local_day
from segmark.localtime import local_time as _local_time
from segmark.pipeline.status import last_run_id, save_snapshot
from segmark.text import Lang as TextLang
from segmark.text import msg
from segmark.workspace import Workspace, open_workspace

console = Console()
err_console = Console(stderr=True)
_shop = {"timezone": "UTC"}
"""The time zone of the workspace this command opened: dates are shown on the shop's clock."""

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace", "-w",
        help="Workspace folder (default: $SEGMARK_WORKSPACE, else the current folder).",
        envvar="SEGMARK_WORKSPACE", show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


class Lang(StrEnum):
    """Languages of names and pages."""

    en = "en"
    zh = "zh"


LangOpt = Annotated[Lang | None, typer.Option(
    "--lang", help="Language of the output and of names: en or zh (default: the workspace's lang).",
    show_default=False)]


def language(lang: Lang | str | None, ws: Workspace | None = None) -> TextLang:
    """The output's language: the --lang option, else the workspace's ``lang``, else English."""
    if lang is not None:
        return "zh" if str(lang) == "zh" else "en"
    return "zh" if ws is not None and ws.settings.lang == "zh" else "en"


def say(key: str, lang: TextLang, /, **params: Any) -> str:
    """A CLI message (``cli.<key>`` in the catalogue) in ``lang``, as Rich markup: the catalogue's
    own markup (``[bold]``) is kept, while the text filled in (paths, names, reasons such as "set
    [ts] unit or format") is escaped, so that Rich prints it rather than eating it as a tag."""
    return msg(f"cli.{key}", lang, **{k: escape(v) if isinstance(v, str) else v for k, v in params.items()})


def plain(text: Any) -> Text:
    """User-facing text that is not markup (a segment name, a rule, a reason, an error), for a
    table cell or ``console.print``: printed as it is, brackets and all."""
    return Text(str(text))


TimezoneOpt = Annotated[str | None, typer.Option(
    "--timezone", help="The shop's local time zone for a new workspace, e.g. Asia/Shanghai (default: UTC, or "
                       "the mapping's zone).", show_default=False)]


def fail(message: str | Text, code: int = 1) -> None:
    """Print an error the user can act on and exit non-zero (a ``str`` is printed as it is, not
    as markup; give ``Text.from_markup(say(...))`` for a catalogue message)."""
    # plain text: messages may contain brackets ("[read] encoding") and must not wrap in logs
    err_console.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True, highlight=False)
    raise typer.Exit(code)


@contextmanager
def guarded(lang: TextLang = "en") -> Iterator[None]:
    """Map segmark's own errors to a one-line message; let real bugs show their traceback."""
    try:
        yield
    except SegmarkError as exc:
        fail(str(exc))
    except OSError as exc:  # the file system said no: a path, a permission, a full disk
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        err_console.print(Text.from_markup(say("interrupted", lang), style="yellow"))
        raise typer.Exit(130) from None


@contextmanager
def workspace(root: Path | None, *, read_only: bool = False,
              when_busy: Callable[[WorkspaceBusyError], None] | None = None) -> Iterator[Workspace]:
    """Open the workspace for one command, with errors turned into messages (an interruption is
    reported in the workspace's language). ``when_busy`` answers instead when another process holds
    it (it prints and exits). A command that finished a step leaves a snapshot of the workspace's
    state for ``status`` to show while a later command holds it."""
    with guarded():
        try:
            # a command that can answer while another holds the workspace (status) does not wait
            ws = open_workspace(root, read_only=read_only, wait=when_busy is None)
        except WorkspaceBusyError as exc:
            if when_busy is None:
                raise
            when_busy(exc)
            raise typer.Exit(0) from None
    _shop["timezone"] = ws.settings.time.timezone
    try:
        with guarded(language(None, ws)):
            before = None if read_only or ws.root is None else last_run_id(ws.store)
            yield ws
            if before is not None and last_run_id(ws.store) != before:
                save_snapshot(ws.store, ws.root)
    finally:
        ws.close()


def use_timezone(timezone: str) -> None:
    """Show dates on this clock (``workspace`` sets it from the workspace it opens)."""
    _shop["timezone"] = timezone


def local_day(value: Any) -> str:
    """A stored instant's date on the shop's clock (the workspace's ``time.timezone``)."""
    return _local_day(value, _shop["timezone"])


def local_time(value: Any, *, seconds: bool = False) -> str:
    """A stored instant on the shop's clock with its offset (``2014-12-01 08:00+08:00``)."""
    return _local_time(value, _shop["timezone"], seconds=seconds)


def print_json(data: Any) -> None:
    """JSON on stdout; date-times in ISO 8601 with the shop's offset (``segmark.localtime``)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False,
                                default=lambda v: json_value(v, _shop["timezone"])) + "\n")


def missing(v: Any) -> bool:
    """None, NaN, or pandas' NA (nullable columns such as a candidate's ``k``, which HDBSCAN
    leaves empty, or a revenue share without prices)."""
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def revenue_pct(v: Any, lang: str) -> str:
    """A revenue share, or "unknown" (未知) where the data carry no prices (stored as NULL)."""
    return msg("segment.revenue_unknown", lang) if missing(v) else f"{v:.1%}"
