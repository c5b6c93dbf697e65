"""Section "tags": the latest tag run's taxonomy — each tag's coverage and values — its largest
overlaps, and the tags skipped and why."""

from __future__ import annotations

from typing import Any

from segmark.errors import NotReadyError
from segmark.pipeline.tags import list_tags, owner_label, skip_reason, tag_value_label
from segmark.report.campaign_charts import tag_values_chart
from segmark.report.model import ReportData
from segmark.report.sections._read import local_as_of
from segmark.report.sections.base import BaseSection, Block, Cell, CollectOptions, Section
from segmark.report.text import fmt_date, fmt_int, fmt_pct
from segmark.store.base import Store
from segmark.text import Lang, msg
from segmark.text import label as _label


class TagsSection(BaseSection):
    id = "tags"
    area = "tags"

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        try:
            run = list_tags(store)
        except NotReadyError:
            return
        # the date on the shop's clock, as the header and `segmark status` show it (as_of is UTC)
        data.parts[self.id] = {**run, "as_of_local": local_as_of(store, int(run["feature_run_id"]))}

    def build(self, data: ReportData, lang: Lang) -> Section:
        run = data.parts.get(self.id)
        if run is None:
            section = self.section(lang, run_id="–", source="–", as_of="–")
            section.blocks.append(Block("missing", text=msg("tags.missing", lang)))
            return section
        source = msg("audience.playbook.default", lang) if run["source"] == "default" else run["source"]
        section = self.section(lang, run_id=run["run_id"], source=source, as_of=fmt_date(run.get("as_of_local")))
        section.add(tag_values_chart(run["tags"], lang), msg("tags.missing", lang))
        rows = []
        for t in run["tags"]:
            values = sorted((v for v in t["values"] if v.get("users")), key=lambda v: -v["users"])[:6]
            rows.append([Cell(_label(t, lang, "group_label")), Cell(f"{_label(t, lang)} ({t['tag']})"),
                         Cell(msg(f"tags.kind.{t['kind']}", lang)), Cell(fmt_pct(t["coverage"]), numeric=True),
                         Cell(", ".join(f"{_label(v, lang) or v['value']} {fmt_int(v['users'])}" for v in values)),
                         Cell(owner_label(str(t.get("owner") or ""), lang))])
        section.blocks.append(Block("table", columns=[msg(f"tags.col.{k}", lang) for k in
                                                      ("group", "tag", "kind", "coverage", "values", "owner")],
                                    rows=rows))
        by_tag = {t["tag"]: t for t in run["tags"]}
        if run.get("overlap"):
            section.blocks.append(Block("note", text=msg("tags.overlap.title", lang)))
            section.blocks.append(Block("table", columns=[msg("tags.col.tag", lang), msg("tags.col.tag", lang),
                                                          msg("tags.col.both", lang), msg("tags.col.jaccard", lang)],
                                        rows=[[Cell(tag_value_label(by_tag, o["tag_a"], o["value_a"], lang)),
                                               Cell(tag_value_label(by_tag, o["tag_b"], o["value_b"], lang)),
                                               Cell(fmt_int(o["users"]), numeric=True),
                                               Cell(f"{o['jaccard']:.2f}", numeric=True)]
                                              for o in run["overlap"][:10]]))
        if run.get("skipped"):
            section.blocks.append(Block("table", columns=[msg("tags.col.skipped", lang), msg("tags.col.reason", lang)],
                                        rows=[[Cell(_named(s, lang)), Cell(skip_reason(s, lang))]
                                              for s in run["skipped"]]))
        return section


def _named(tag: dict[str, Any], lang: Lang) -> str:
    """A tag by its label and key, as the taxonomy table names it ("终身价值等级 (clv_level)"); a
    run stored before skipped tags kept their labels, by its key."""
    shown = _label(tag, lang)
    return f"{shown} ({tag['tag']})" if shown and shown != tag["tag"] else str(tag["tag"])
