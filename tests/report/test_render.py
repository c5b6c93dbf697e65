"""The page: every section, one self-contained file, both languages, and safe with any segment name."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from html.parser import HTMLParser

import pandas as pd

from segmark.report import SECTIONS, Overview, ReportData, render_report
from segmark.report.text import tr

CJK = re.compile(r"[\u4e00-\u9fff]")


class PageParser(HTMLParser):
    """Collects what the page would load (src/href), section ids, chart keys and visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.sections: list[str] = []
        self.charts: list[str] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None
        self._script: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.links += [v for k, v in attrs if k in ("src", "href", "data", "action") and v]
        if tag == "link" or (tag == "script" and a.get("src")):
            self.links.append(f"<{tag}> {a}")
        if tag == "section":
            self.sections.append(a.get("id") or "")
        if "data-chart" in a:
            self.charts.append(a["data-chart"] or "")
        if tag in ("script", "style"):
            self._in, self._script = tag, a

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data) if self._script.get("type") != "application/json" else self.scripts.append(
                "JSON:" + data)
        elif self._in is None:
            self.text.append(data)


def parse(html: str) -> PageParser:
    p = PageParser()
    p.feed(html)
    p.close()
    return p


def figures(page: PageParser) -> dict:
    (data,) = [s for s in page.scripts if s.startswith("JSON:")]
    return json.loads(data[len("JSON:"):])


def test_full_page_has_every_section_chart_and_nothing_to_fetch(report_data: ReportData) -> None:
    html = render_report(report_data, "en")
    page = parse(html)
    assert page.sections == list(SECTIONS)
    # the table of contents links to every section, and nothing else is linked
    assert page.links == [f"#{s}" for s in SECTIONS]
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html.split("<script>")[0])
    # Plotly is inlined once and every chart div has its figure
    assert sum("plotly.js v" in s[:200] for s in page.scripts) == 1
    figs = figures(page)
    assert sorted(page.charts) == sorted(figs) and len(figs) == 9
    text = " ".join(page.text)
    for name in ("Champions", "Lost", "Window shoppers", "High-value loyal", "Cart abandoners"):
        assert name in text or any(name in json.dumps(f, ensure_ascii=False) for f in figs.values()), name
    assert "views_90d &gt; 20 and frequency &lt;= 0" in html  # the rule, escaped, in the rules table
    assert "The rules agree with the segments for 87% of held-out users; 3 rules are listed." in text
    assert "kmeans k=3: the largest silhouette gain" in text  # the selection's own reason
    assert len(html) < 6_000_000  # Plotly's bundle is most of it


def test_chinese_page_has_chinese_titles_names_and_fonts(report_data: ReportData) -> None:
    html = render_report(report_data, "zh")
    page = parse(html)
    assert '<html lang="zh-CN">' in html and "<title>用户分群报告 · toy-shop</title>" in html
    text = " ".join(page.text)
    for key in ("sec_overview", "sec_segments", "sec_rfm", "sec_map", "sec_profile", "sec_rules", "sec_selection",
                "sec_migration"):
        assert tr(key, "zh") in text
    figs = figures(page)
    for key, fig in figs.items():
        title = fig["layout"]["title"]["text"]
        assert CJK.search(title), (key, title)
    dumped = json.dumps(figs, ensure_ascii=False)
    for zh in ("冠军用户", "已流失用户", "只逛不买用户", "高价值忠诚用户", "加购未买用户"):
        assert zh in dumped or zh in text, zh
    # English segment names do not leak into the Chinese page
    for en in ("Window shoppers", "High-value loyal", "Champions"):
        assert en not in dumped and en not in text, en
    assert "Noto Sans CJK SC" in html and "Microsoft YaHei" in html and "sans-serif" in html


def test_missing_steps_say_so_in_one_line_each() -> None:
    ov = Overview(shop="new-shop", events=10, users=3, items=2, first_ts=datetime(2024, 5, 1),
                  last_ts=datetime(2024, 5, 2), events_by_type={"view": 8, "purchase": 2})
    data = ReportData(ov)
    for lang in ("en", "zh"):
        html = render_report(data, lang)
        page = parse(html)
        assert page.sections == list(SECTIONS)
        assert list(figures(page)) == ["events_by_type"]
        text = " ".join(page.text)
        for key in ("missing_segments", "missing_rfm", "missing_map", "missing_profile", "missing_rules",
                    "missing_selection", "no_quarantine"):
            assert tr(key, lang) in text, key
        assert tr("missing_migration", lang, n=0) in text


def test_clustering_without_structure_shows_the_candidates_and_why(report_data: ReportData) -> None:
    sel = replace(report_data.cluster.selection, method=None, k=None, structure_found=False,
                  reason="no real segments: no stable candidate beats structureless data",
                  candidates=report_data.cluster.selection.candidates.assign(status="rejected"))
    data = replace(report_data, cluster=replace(report_data.cluster, segments=None, selection=sel, map=None))
    page = parse(render_report(data, "en"))
    text = " ".join(page.text)
    assert ("No behaviour segments: the clustering found no real structure (no stable candidate beats "
            "structureless data)." in text)
    figs = figures(page)
    assert "selection" in figs and "map" not in figs and "sizes_cluster" not in figs
    # the map and the rules point to the candidates; the profile falls back to the RFM segments
    assert text.count(tr("no_structure_short", "en")) == 2
    assert figs["profile"]["layout"]["title"]["text"] == "<b>Feature lift per RFM segment</b>"


def test_hostile_names_cannot_break_out_of_the_page(report_data: ReportData) -> None:
    evil = "</script><script>alert(1)</script><b>x"
    seg = report_data.cluster.segments
    table = seg.table.copy()
    table.loc["0", "name"] = evil
    rules = report_data.cluster.rules.assign(text=evil)
    data = replace(report_data, cluster=replace(report_data.cluster, segments=replace(seg, table=table), rules=rules))
    html = render_report(data, "en")
    page = parse(html)
    assert "alert(1)" not in "".join(s for s in page.scripts if not s.startswith("JSON:"))
    assert evil in json.dumps(figures(page))  # intact inside the figure data, where Plotly shows it as text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html  # escaped in the tables
    assert page.sections == list(SECTIONS)


def test_sources_show_file_names_not_machine_paths(report_data: ReportData) -> None:
    ov = replace(report_data.overview, sources=pd.DataFrame(
        [("events", "/home/someone/private/shop/events.csv", 10, 9, 1, 0)],
        columns=["table", "file", "rows_read", "accepted", "quarantined", "duplicates"]))
    html = render_report(replace(report_data, overview=ov), "en")
    assert "events.csv" in html and "/home/someone" not in html


def test_figure_json_cannot_end_or_reopen_its_script_element() -> None:
    """Labels and names come from tag files and segment names; "<!--<script>" in one would keep the JSON
    element open past its "</script>" (the HTML parser's double-escaped state), swallowing the page."""
    from segmark.report.render import _script_json

    value = {"label": "<!--<script>alert(1)</script>", "name": "a</script><b>", "zh": "高价值 < 1"}
    text = _script_json(value)
    assert "<" not in text
    assert json.loads(text) == value
