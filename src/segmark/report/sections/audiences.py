"""Section "audiences": the saved audiences with their groups, and the playbook — the default
action for each segment of the latest segmentation, as the workspace's playbooks set it."""

from __future__ import annotations

from typing import Any

from segmark.pipeline.audience import audience_overlap, list_audiences, load_playbook
from segmark.pipeline.universe import open_universe
from segmark.report.campaign_charts import audience_groups_chart
from segmark.report.model import ReportData
from segmark.report.sections.base import BaseSection, Block, Cell, CollectOptions, Section
from segmark.report.text import fmt_int
from segmark.store.base import Store
from segmark.text import Lang, known, msg

MAX_AUDIENCES = 15


def channel_label(channel: str, lang: Lang) -> str:
    """A playbook's channel in ``lang`` where the catalogue knows it; a workspace's own channel as written."""
    return known(f"audience.channel.{channel.strip().lower().replace(' ', '_')}", lang, channel)


class AudiencesSection(BaseSection):
    id = "audiences"
    area = "audience"

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        part: dict[str, Any] = {"audiences": [], "overlap": [], "playbook": []}
        if store.table_exists("audiences"):
            part["audiences"] = [a.to_dict() for a in list_audiences(store)[:MAX_AUDIENCES]]
            part["overlap"] = audience_overlap(store)[:10]
        if store.table_exists("feature_runs") and store.scalar("SELECT count(*) FROM feature_runs"):
            u = open_universe(store, with_tags=False)
            book, source = load_playbook(options.root)
            part["playbook_source"] = source
            for key, (name, name_zh) in u.segment_names.items():
                a = book.action_for(key)
                part["playbook"].append({"segment": key, "name": name, "name_zh": name_zh, "action": a.action,
                                         "action_zh": a.action_zh, "channel": a.channel})
        if part["audiences"] or part["playbook"]:
            data.parts[self.id] = part

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        part = data.parts.get(self.id)
        zh = lang == "zh"
        if part is None or not part["audiences"]:
            section.blocks.append(Block("missing", text=msg("audience.missing", lang)))
        else:
            section.add(audience_groups_chart(part["audiences"], lang), msg("audience.missing", lang))
            section.blocks.append(Block("table", columns=[msg(f"audience.col.{k}", lang) for k in
                                                          ("name", "size", "treatment", "control", "where")],
                                        rows=[[Cell(a["name"]), Cell(fmt_int(a["size"]), numeric=True),
                                               Cell(fmt_int(a["treatment"]), numeric=True),
                                               Cell(fmt_int(a["control"]), numeric=True), Cell(a["where"])]
                                              for a in part["audiences"]]))
            if part["overlap"]:
                section.blocks.append(Block("table", columns=[msg(f"audience.col.{k}", lang) for k in
                                                              ("a", "b", "both", "jaccard")],
                                            rows=[[Cell(o["a"]), Cell(o["b"]), Cell(fmt_int(o["users"]), numeric=True),
                                                   Cell(f"{o['jaccard']:.2f}", numeric=True)]
                                                  for o in part["overlap"]]))
        if part is not None and part["playbook"]:
            source = part.get("playbook_source", "default")
            shown = msg("audience.playbook.default", lang) if source == "default" else source
            section.blocks.append(Block("note", text=msg("audience.playbook.title", lang, source=shown)))
            section.blocks.append(Block("table", columns=[msg(f"audience.col.{k}", lang) for k in
                                                          ("segment", "action", "channel")],
                                        rows=[[Cell(p["name_zh"] if zh else p["name"]),
                                               Cell(p["action_zh"] if zh else p["action"]),
                                               Cell(channel_label(p["channel"], lang))]
                                              for p in part["playbook"]]))
        return section
