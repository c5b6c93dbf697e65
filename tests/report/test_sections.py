"""The report's sections as plug-ins: each registered section builds in both languages from data
alone, and a section added to the registry is collected from the store and shown on the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import plotly.graph_objects as go
import pytest

from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.report import collect_report_data, write_report
from segmark.report import SECTIONS, Overview, ReportData
from segmark.report.figures import Chart
from segmark.report.sections import REGISTRY, BaseSection, Block, CollectOptions, Section
from segmark.store.base import Store
from segmark.text import Lang
from segmark.workspace import Workspace

from .test_render import figures, parse

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_registry_is_the_page() -> None:
    ids = [s.id for s in REGISTRY]
    assert tuple(ids) == SECTIONS == ("overview", "segments", "rfm", "map", "profile", "rules", "selection",
                                      "migration", "predictions", "recommend", "tags", "audiences", "campaign")
    data = ReportData(Overview(shop="s", events=0, users=0, items=0, first_ts=None, last_ts=None))
    for section in REGISTRY:
        for lang in ("en", "zh"):
            built = section.build(data, lang)
            assert built.id == section.id and built.title and built.intro
            assert bool(CJK.search(built.title + built.intro)) == (lang == "zh"), (section.id, lang)
            # no data: every section says why in one line instead of failing
            assert built.blocks and all(b.kind in ("note", "missing") for b in built.blocks), section.id


class CartsSection(BaseSection):
    """A section as another step adds one: its own data from the store, one chart and a reading."""

    id = "carts"

    def collect(self, store: Store, data: ReportData, options: CollectOptions) -> None:
        rows = store.query_rows("SELECT user_id, count(*) FROM events WHERE event_type = 'cart' "
                                "GROUP BY user_id ORDER BY 2 DESC, 1 LIMIT 3")
        if rows:
            data.parts[self.id] = rows

    def section(self, lang: Lang, **intro: object) -> Section:
        zh = lang == "zh"
        return Section(self.id, "购物车" if zh else "Carts", "加购最多的用户" if zh else "Top carts")

    def build(self, data: ReportData, lang: Lang) -> Section:
        section = self.section(lang)
        rows = data.parts.get(self.id)
        if rows is None:
            section.blocks.append(Block("missing", text="no carts"))
            return section
        fig = go.Figure(go.Bar(x=[u for u, _ in rows], y=[n for _, n in rows]))
        section.add(Chart("carts_top", "Carts", fig, f"{rows[0][0]} put {rows[0][1]} items in the cart"))
        return section


@pytest.fixture
def carts_section() -> Iterator[CartsSection]:
    section = CartsSection()
    REGISTRY.append(section)
    try:
        yield section
    finally:
        REGISTRY.remove(section)


def test_a_registered_section_is_collected_and_shown(ws: Workspace, tmp_path: Path,
                                                     carts_section: CartsSection) -> None:
    events = tmp_path / "events.csv"
    events.write_text("user_id,event_type,ts,item_id\n"
                      "u1,cart,2024-05-01 10:00:00,i1\nu2,cart,2024-05-01 11:00:00,i1\n"
                      "u2,cart,2024-05-02 11:00:00,i2\nu2,view,2024-05-02 12:00:00,i2\n", encoding="utf-8")
    ingest_file(ws, "events", events)
    data = collect_report_data(ws.store)
    assert data.parts["carts"] == [("u2", 2), ("u1", 1)]  # counted by hand from the four rows
    out = write_report(ws, tmp_path / "report.html", "en")
    page = parse(out.read_text(encoding="utf-8"))
    assert page.sections == [*SECTIONS, "carts"]
    assert "carts_top" in figures(page)
    assert "u2 put 2 items in the cart" in " ".join(page.text)
