"""Section "migration": users moving between the segments of the latest two runs of each kind."""

from __future__ import annotations

from segmark.errors import NotReadyError
from segmark.pipeline.segments import Segmentation, get_segmentation, segment_migration
from segmark.report.figures import migration_chart
from segmark.report.model import MigrationView, ReportData
from segmark.report.sections._read import local_as_of, segments_by_key
from segmark.report.sections.base import BaseSection, Block, CollectOptions, Section
from segmark.report.text import tr
from segmark.store.base import Store
from segmark.text import Lang


def collect_migration(store: Store, latest: Segmentation) -> MigrationView | None:
    """Users moving between the latest segmentation of a kind and the one before it (earlier as_of)."""
    try:
        report = segment_migration(store, to_id=latest.segmentation_id)
    except NotReadyError:
        return None
    before, after = report.before, report.after

    def names(seg: Segmentation, pairs: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        # the segments the page shows first, in its order (their colours follow it), then empty ones
        shown = [str(k) for k in segments_by_key(store, seg)[0].table.index]
        return {k: pairs[k] for k in [*shown, *pairs] if k in pairs}

    users = report.migration.users.rename(index=str, columns=str)  # keyed by segment key, like the page
    names_before, names_after = names(before, report.names_before), names(after, report.names_after)
    return MigrationView(after.kind, before.segmentation_id, after.segmentation_id,
                         local_as_of(store, before.feature_run_id), local_as_of(store, after.feature_run_id), users,
                         names_before, names_after)


class MigrationSection(BaseSection):
    id = "migration"

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        for kind in ("rfm", "cluster"):
            if data.runs_by_kind.get(kind, 0) >= 2:
                view = collect_migration(store, get_segmentation(store, kind=kind))
                if view is not None:
                    data.migrations.append(view)

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        for mv in data.migrations:
            section.add(migration_chart(mv, lang))
        if not any(b.kind == "chart" for b in section.blocks):
            n = max(data.runs_by_kind.values(), default=0)
            section.blocks.append(Block("missing", text=tr("missing_migration", lang, n=n)))
        return section
