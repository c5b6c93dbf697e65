"""The ``segmark`` command: thin commands that open the workspace and call one library function.

Each command family lives in its own module and registers itself on ``app`` here.
"""

from __future__ import annotations

import os
import sys

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


# each module registers its commands on `app` when imported
from segmark.cli import (  # noqa: E402,F401
    audience_cmds,
    campaign_cmds,
    clv_cmds,
    features_cmds,
    ingest_cmds,
    predict_cmds,
    recommend_cmds,
    report_cmds,
    run_cmds,
    segment_cmds,
    tags_cmds,
    workspace_cmds,
)


def run() -> None:
    """The console entry point: ``app`` and, after Ctrl-C, a prompt exit with status 130.

    By the time an interrupted command exits, its workspace is closed and its failure recorded;
    what is left are readers' worker threads stopped mid-file (a CSV reader's read-ahead), and
    letting the interpreter finalise around them can abort the process ("terminate called without
    an active exception", status -6) instead of exiting 130. So the exit skips finalisation.
    """
    try:
        app()
    except SystemExit as exc:
        if exc.code == 130:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        raise

__all__ = ["app", "run"]
