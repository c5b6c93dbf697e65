"""Section "overview": what the workspace holds and every rejected input row, by reason."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path, PurePath

import pandas as pd

from segmark.features.labels import feature_label
from segmark.localtime import to_local
from segmark.pipeline.features import get_feature_run
from segmark.pipeline.status import workspace_status
from segmark.report.figures import events_by_type_chart, quarantine_chart
from segmark.report.model import Overview, ReportData
from segmark.report.sections.base import BaseSection, Block, Cell, CollectOptions, Section
from segmark.report.text import fmt_int, fmt_pct, table_label, tr
from segmark.store.base import Store
from segmark.text import Lang


def shop_name(store: Store) -> str:
    """The workspace folder's name, from where the store's file lives ("" for a store in memory)."""
    location = Path(store.location)
    return location.parent.name if location.suffix else ""


def collect_overview(store: Store, shop: str, timezone: str = "UTC") -> Overview:
    """The shop's figures and the data-quality record; the first and last events on the shop's
    clock (``timezone``), so the date range reads as ``status`` and every other view dates them."""
    st = workspace_status(store, runs=0)
    ev = st["events"]
    buyers, revenue, priced = store.query_rows(
        "SELECT count(DISTINCT user_id) FILTER (WHERE event_type = 'purchase' AND user_id IS NOT NULL), "
        "coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0) "
        "- coalesce(sum(amount) FILTER (WHERE event_type = 'refund'), 0), "
        "count(amount) FILTER (WHERE event_type = 'purchase') FROM events")[0]
    purchases = int(ev["by_type"].get("purchase", 0) or 0)
    quarantine = pd.DataFrame(st["quarantine"], columns=["table", "reason", "rows"])
    sources = store.query_df(
        'SELECT table_name AS "table", path AS file, rows_read, accepted, quarantined, duplicates '
        "FROM sources ORDER BY source_id")
    return Overview(shop=shop, events=int(st["tables"]["events"]), users=int(ev["users"] or 0),
                    items=int(ev["items"] or 0), first_ts=_local(ev["first_ts"], timezone),
                    last_ts=_local(ev["last_ts"], timezone),
                    events_by_type={str(k): int(v) for k, v in ev["by_type"].items()}, quarantine=quarantine,
                    sources=sources, buyers=int(buyers or 0),
                    revenue=None if purchases and not priced else float(revenue or 0.0),
                    guest_events=int(ev["guest_events"] or 0))


def _local(ts: datetime | None, timezone: str) -> datetime | None:
    return None if ts is None or ts is pd.NaT else to_local(ts, timezone)


def overview_reading(data: ReportData, lang: Lang) -> str:
    ov = data.overview
    read = ov.rows_read or (ov.events + ov.rows_quarantined)
    return tr("r_overview", lang, events=fmt_int(ov.events), users=fmt_int(ov.users), items=fmt_int(ov.items),
              days=fmt_int(ov.days), quarantined=fmt_int(ov.rows_quarantined),
              q_share=fmt_pct(ov.rows_quarantined / read) if read else "0%")


class OverviewSection(BaseSection):
    """Also collects the date of the latest feature build and the features' Chinese labels, which
    the header and the segment sections show."""

    id = "overview"

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        data.overview = collect_overview(store, options.shop or shop_name(store), options.timezone)
        if store.table_exists("feature_runs") and store.scalar("SELECT count(*) FROM feature_runs"):
            run = get_feature_run(store)
            data.overview.as_of = run.as_of_local
            data.feature_labels = {c.name: c.label_zh for c in run.columns if c.label_zh}
            data.feature_labels_en = {c.name: feature_label(c.name, "en", c.template, c.label_zh) for c in run.columns}

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        section.blocks.append(Block("note", text=overview_reading(data, lang)))
        section.add(events_by_type_chart(data.overview, lang))
        section.add(quarantine_chart(data.overview, lang), tr("no_quarantine", lang))
        src = data.overview.sources
        if src is not None and not src.empty:
            section.blocks.append(Block("table", text=tr("sources", lang), columns=[
                tr("col_table", lang), tr("col_file", lang), tr("col_read", lang), tr("col_accepted", lang),
                tr("col_quarantined", lang), tr("col_duplicates", lang)], rows=[
                [Cell(table_label(str(r.table), lang)), Cell(PurePath(str(r.file)).name),
                 Cell(fmt_int(r.rows_read), numeric=True),
                 Cell(fmt_int(r.accepted), numeric=True), Cell(fmt_int(r.quarantined), numeric=True),
                 Cell(fmt_int(r.duplicates), numeric=True)] for r in src.itertuples()]))
        return section
