"""The report step: let every section read what it shows from the store, render, write one HTML file.

``collect_report_data`` only reads, section by section (``segmark.report.sections``): aggregates
are computed in the store (events by type, users per RFM cell, quarantine by reason) so a shop of
any size reaches the report as small frames; only the 2-D map reads per-user features, for a sample
of at most ``max_points`` users. Every section whose tables do not exist yet (no features, no
segmentation, a single run) is left empty, and the page says so. ``write_report`` renders and
writes the file atomically (a temporary file renamed into place), so a failed render never leaves
half a report.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from segmark.errors import InputError, NotReadyError
from segmark.report import Overview, ReportData, render_report
from segmark.report.projection import MAX_POINTS
from segmark.report.sections import REGISTRY, CollectOptions
from segmark.report.sections.overview import collect_overview, shop_name
from segmark.store.base import Store
from segmark.text import LANGS
from segmark.workspace import Workspace

__all__ = ["collect_overview", "collect_report_data", "default_report_path", "resolve_lang", "shop_name",
           "write_report"]


def collect_report_data(store: Store, *, shop: str = "", max_points: int = MAX_POINTS,
                        projection: str = "auto", random_state: int = 0, root: Path | None = None,
                        timezone: str = "UTC") -> ReportData:
    """Everything the report shows, read from the store by each section in page order (nothing is
    written).

    ``projection`` places users on the map: "pca", "umap", or "auto" (UMAP where umap-learn is
    installed, else PCA).
    """
    options = CollectOptions(shop=shop, max_points=max_points, projection=projection, random_state=random_state,
                             root=root, timezone=timezone)
    data = ReportData(Overview(shop=shop, events=0, users=0, items=0, first_ts=None, last_ts=None))
    for section in REGISTRY:
        section.collect(store, data, options)
    return data


def resolve_lang(ws: Workspace, lang: str | None) -> str:
    """``lang`` if given, else ``report.lang`` when set in segmark.toml, else the workspace's ``lang``."""
    if lang is None:
        report = ws.settings.report
        lang = report.lang if "lang" in report.model_fields_set else ws.settings.lang
    if lang not in LANGS:
        raise InputError(f"report language must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def default_report_path(ws: Workspace) -> Path:
    """Where the report goes when no file is named: ``report.html`` in the workspace folder (where
    ``segmark run`` writes it too), whatever the current folder."""
    return (ws.root or Path.cwd()) / "report.html"


def write_report(ws: Workspace, out: Path | str | None = None, lang: str | None = None, *,
                 max_points: int = MAX_POINTS, projection: str = "auto") -> Path:
    """Render the workspace's report in ``lang`` and write it to ``out`` (default
    :func:`default_report_path`; a relative path is relative to the current folder); returns the
    path written."""
    lang = resolve_lang(ws, lang)
    if not ws.store.scalar("SELECT count(*) FROM events"):
        raise NotReadyError("the workspace has no events yet: run `segmark ingest events FILE` first")
    data = collect_report_data(ws.store, shop=ws.name, max_points=max_points, projection=projection,
                               random_state=ws.settings.segment.random_state, root=ws.root,
                               timezone=ws.settings.time.timezone)
    html = render_report(data, lang)  # type: ignore[arg-type]
    out = Path(out) if out is not None else default_report_path(ws)
    out.parent.mkdir(parents=True, exist_ok=True)
    # the mode of any file the user writes (0666 less the umask, usually 0644), not mkstemp's 0600:
    # the page is made to be opened, mailed and archived; its only per-user data are the ids of the
    # map's sample (at most 5,000 users), so a private report belongs in a private folder
    tmp = out.parent / f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
