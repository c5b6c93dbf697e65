"""``segmark report``: the workspace's HTML report, one self-contained file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from segmark.cli import app
from segmark.cli._common import Lang, WorkspaceOpt, console, guarded, language, say, workspace


class Projection(StrEnum):
    auto = "auto"
    pca = "pca"
    umap = "umap"


@app.command()
def report(
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Where to write the HTML file (default: report.html in the workspace folder, as "
                            "`segmark run` does; a relative path is relative to the current folder).",
        show_default=False)] = None,
    lang: Annotated[Lang | None, typer.Option(
        "--lang", help="Language of the page: en or zh (default: report.lang, else lang, in segmark.toml).",
        show_default=False)] = None,
    projection: Annotated[Projection, typer.Option(
        "--map", help="How the map places users: pca, umap (needs umap-learn), or auto (UMAP where installed).",
    )] = Projection.auto,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Write the report: data quality, segments, RFM grid, map of users, profiles, rules, model
    selection and segment migration, as one HTML file that works offline.

    Sections whose step has not run yet say so instead of failing.

    Examples:

      segmark report                      (writes report.html in the workspace and prints where)

      segmark report --out report.html    (into the current folder)

      segmark report --out 报告.html --lang zh -w demo-shop
    """
    from segmark.pipeline.report import write_report  # Plotly and scikit-learn: loaded only when needed

    with workspace(ws_dir, read_only=True) as ws:
        shown = language(None, ws)  # --lang is the page's; the command speaks the workspace's language
        with guarded(shown), console.status(say("report.writing", shown)):
            path = write_report(ws, out, lang.value if lang else None, projection=projection.value)
    console.print(say("report.written", shown, path=path.resolve(), size=path.stat().st_size / 1e6))
