"""The ``segmark`` command: thin commands that open the workspace and call one library function.

Each command family lives in its own module and registers itself on ``app`` here.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="segmark",
    help="User features, segments and audiences from e-commerce behaviour.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)



@app.callback()
def main() -> None:
    """segmark: user features, named segments and audiences from e-commerce behaviour.

    Start with [bold]segmark demo[/], or [bold]segmark init[/] then [bold]segmark ingest events FILE[/].
    """


from segmark.cli import ingest_cmds, report_cmds, run_cmds, workspace_cmds  # noqa: E402,F401  (registers the commands)
from segmark.cli import features_cmds  # noqa: E402,F401  (registers segmark features ...)
from segmark.cli import segment_cmds  # noqa: E402,F401  (registers segmark segment ... and segments ...)

__all__ = ["app"]
