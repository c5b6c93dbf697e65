"""``segmark init`` and ``segmark status``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segmark.cli import app
from segmark.cli._common import console, guarded
from segmark.workspace import init_workspace


@app.command()
def init(
    directory: Annotated[Path | None, typer.Argument(help="Folder to make (default: current).")] = None,
) -> None:
    """Make a workspace: segmark.toml with documented defaults and an empty database.

    Example: [bold]segmark init myshop[/] then [bold]cd myshop[/] or pass [bold]--workspace myshop[/].
    """
    with guarded():
        path = init_workspace(directory)
    console.print(f"workspace ready: [bold]{path}[/]")
