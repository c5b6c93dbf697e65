"""What every command shares: the workspace option, the console, and turning errors into messages."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from segmark.errors import SegmarkError
from segmark.workspace import Workspace, open_workspace

console = Console()
err_console = Console(stderr=True)

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


TimezoneOpt = Annotated[str | None, typer.Option(
    "--timezone", help="The shop's local time zone for a new workspace, e.g. Asia/Shanghai (default: UTC, or "
                       "the mapping's zone).", show_default=False)]


def fail(message: str, code: int = 1) -> None:
    """Print an error the user can act on and exit non-zero."""
    # plain text: messages may contain brackets ("[read] encoding") and must not wrap in logs
    err_console.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True, highlight=False)
    raise typer.Exit(code)


@contextmanager
def guarded() -> Iterator[None]:
    """Map segmark's own errors to a one-line message; let real bugs show their traceback."""
    try:
        yield
    except SegmarkError as exc:
        fail(str(exc))
    except OSError as exc:  # the file system said no: a path, a permission, a full disk
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted: nothing from this command was written[/]")
        raise typer.Exit(130) from None


@contextmanager
def workspace(root: Path | None, *, read_only: bool = False) -> Iterator[Workspace]:
    """Open the workspace for one command, with errors turned into messages."""
    with guarded():
        ws = open_workspace(root, read_only=read_only)
        try:
            yield ws
        finally:
            ws.close()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
