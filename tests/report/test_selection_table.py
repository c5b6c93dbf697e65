"""The model-selection table: no candidate reads "eligible" beside a reason that says it fell below
a threshold, and on paper every row and every reason is printed (no scroll box)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmark.report import ReportData, Selection, render_report
from segmark.report.figures import selection_reading
from segmark.report.sections.selection import candidates_table


def _candidates() -> pd.DataFrame:
    rows = [  # as selection records them: low_gain candidates keep status "eligible"
        ("kmeans", 3, 3, 0.42, 0.25, "winner", "largest_gain", {}),
        ("kmeans", 4, 4, 0.30, 0.02, "eligible", "low_gain", {"gain": 0.02, "min_gain": 0.05}),
        ("kmeans", 5, 5, 0.35, 0.18, "eligible", "not_measured", {}),
        ("gmm", 6, 6, 0.20, np.nan, "rejected", "small_segment", {"min_share": 0.01, "threshold": 0.02}),
    ]
    df = pd.DataFrame(rows, columns=["method", "k", "n_clusters", "silhouette", "gain", "status", "reason_code",
                                     "reason_params"])
    df["reason"] = None
    return df


def test_a_candidate_below_the_gain_threshold_is_shown_rejected() -> None:
    for lang, eligible, rejected in (("en", "eligible", "rejected"), ("zh", "合格", "淘汰")):
        block = candidates_table(_candidates(), lang)
        assert block.row_classes == ["winner", "rejected", "eligible", "rejected"]
        status = [row[3].text for row in block.rows]
        assert status[1] == rejected and status[2] == eligible
        assert "0.05" in block.rows[1][-1].text  # the reason still says which threshold


def test_the_reading_counts_the_rejections_the_table_shows() -> None:
    c = _candidates()  # rows 2 (low gain, stored "eligible") and 4 (small segment) read "rejected"
    sel = Selection(c, "kmeans", 3, thresholds={"min_gain": 0.05})
    assert selection_reading(sel, "en").endswith("4 candidates were tried, 2 rejected.")
    assert selection_reading(sel, "zh").endswith("共尝试 4 个候选，淘汰 2 个。")
    c.loc[0, ["status", "reason_code"]] = ["eligible", "low_gain"]  # no winner: three read "rejected"
    c.at[0, "reason_params"] = {"gain": 0.25, "min_gain": 0.3}
    none = Selection(c, None, None, structure_found=False)
    assert selection_reading(none, "en") == "No candidate passed: 4 were tried, 3 rejected."
    assert selection_reading(none, "zh") == "没有候选通过：共尝试 4 个，淘汰 3 个。"
    shown = [row[3].text for row in candidates_table(c, "en").rows]
    assert shown.count("rejected") == 3


@pytest.mark.browser
def test_printed_candidates_table_shows_every_row_and_reason(report_data: ReportData, tmp_path: Path,
                                                             browser_context) -> None:
    many = pd.concat([report_data.cluster.selection.candidates] * 12, ignore_index=True)  # 48 rows: > 460 px
    many["reason"] = "silhouette gain below the threshold a winner needs, " * 3
    report_data.cluster.selection.candidates, original = many, report_data.cluster.selection.candidates
    try:
        path = tmp_path / "print.html"
        path.write_text(render_report(report_data, "en"), encoding="utf-8")
    finally:
        report_data.cluster.selection.candidates = original
    page = browser_context.new_page()
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        measure = """() => { const s = document.querySelector('.candidates .table-scroll');
            return {sh: s.scrollHeight, ch: s.clientHeight, sw: s.scrollWidth, cw: s.clientWidth,
                    rows: s.querySelectorAll('tbody tr').length}; }"""
        screen = page.evaluate(measure)
        assert screen["rows"] == 48 and screen["sh"] > screen["ch"]  # on screen: a scroll box
        page.emulate_media(media="print")
        printed = page.evaluate(measure)
        assert printed["sh"] <= printed["ch"] + 1 and printed["sw"] <= printed["cw"] + 1, printed
    finally:
        page.close()
