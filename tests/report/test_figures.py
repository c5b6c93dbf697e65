"""Figures and readings from known data: the numbers the reader sees are the numbers in the data."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from segmark.report import ReportData, project_users, segment_colors
from segmark.report.colors import RFM_COLORS
from segmark.report.figures import migration_chart, profile_features, selection_chart, sizes_chart
from segmark.report.projection import sample_rows, umap_available
from segmark.report.text import TEXT, fmt_compact, fmt_pct, tr

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_text_has_both_languages_with_the_same_fields() -> None:
    for key, (en, zh) in TEXT.items():
        assert en.strip() and zh.strip(), key
        fields = lambda s: sorted(re.findall(r"{(\w+)", s))  # noqa: E731
        assert fields(en) == fields(zh), key


def test_number_formats() -> None:
    assert fmt_pct(0.08) == "8.0%" and fmt_pct(0.41) == "41%" and fmt_pct(0.0004) == "<0.1%"
    assert fmt_pct(np.int64(0)) == "0%" and fmt_pct(float("nan")) == "–"
    assert fmt_compact(3_453_347, "en") == "3.45M" and fmt_compact(3_453_347, "zh") == "345万"
    assert fmt_compact(250_000_000, "zh") == "2.5亿" and fmt_compact(950, "en") == "950"
    # never in exponent form, and no "1,000K" at a unit's edge
    assert fmt_compact(10_749_960, "zh") == "1,075万" and fmt_compact(999_999, "en") == "1M"


def test_sizes_reading_names_the_richest_and_the_largest_segment(toy_charts: dict) -> None:
    assert toy_charts["en"]["sizes_rfm"].reading == ("Champions are 8.0% of users and 41% of revenue. "
                                           "The largest segment, Lost, holds 31% of users.")
    zh = toy_charts["zh"]["sizes_rfm"].reading
    assert zh == "冠军用户占用户的 8.0%，贡献了 41% 的收入。规模最大的分群是已流失用户，占用户的 31%。"


def test_sizes_chart_bars_hold_the_shares_in_segment_colours(report_data: ReportData) -> None:
    seg = report_data.rfm.segments
    colors = segment_colors("rfm", seg.table.index)
    fig = sizes_chart(seg, colors, "en").figure
    users, revenue = fig.data
    # drawn bottom-up, so the first segment is the last bar
    assert list(users.x)[::-1] == pytest.approx([0.08, 0.12, 0.19, 0.31, 0.30])
    assert list(revenue.x)[::-1] == pytest.approx([0.41, 0.20, 0.15, 0.24, 0.0])
    assert revenue.marker.line.color[-1] == RFM_COLORS["champions"]
    assert fig.layout.xaxis.title.text == "share of users" and fig.layout.xaxis2.title.text == "share of revenue"


def test_rfm_grid_cells_are_users_and_named_by_their_majority_segment(toy_charts: dict) -> None:
    chart = toy_charts["en"]["rfm_grid"]
    heat = chart.figure.data[0]
    z = np.array(heat.z, dtype=float)  # rows F 1..5, columns R 1..5
    assert z[0, 0] == 25 and z[3, 0] == 19 and z[4, 4] == 8 and z[0, 1] == 6
    assert np.isnan(z[2, 2])
    names = {(a.x, a.y): a.text for a in chart.figure.layout.annotations if a.yshift > 0}
    assert names[(1, 1)] == "Lost" and names[(5, 5)] == "Champions" and names[(1, 4)] == "At Risk"
    # non-buyers are not on the grid but are counted in the reading
    assert chart.reading == ("The biggest cell is R1 F1 (Lost, 25 users); 30 users without a purchase are "
                             "not on the grid.")
    # the second button switches to mean net spend per cell
    money = np.array(chart.figure.layout.updatemenus[0].buttons[1].args[0]["z"][0], dtype=float)
    assert money[4, 4] == pytest.approx(410 / 8)


def test_profile_reading_and_the_log_lift_colour_scale(toy_charts: dict) -> None:
    charts = toy_charts["en"]
    assert charts["profile"].reading == "Strongest difference: Cart abandoners have ×3.5 the average carts_90d."
    heat = charts["profile"].figure.data[0]
    z = np.array(heat.z, dtype=float)
    assert z.max() == pytest.approx(np.log2(3.5)) and heat.zmid == 0
    zh = toy_charts["zh"]["profile"]
    assert "近90天加购次数" in zh.reading and "加购未买用户" in zh.reading
    assert "近90天浏览次数" in list(zh.figure.data[0].x)


def test_profile_features_put_the_clustering_features_first() -> None:
    prof = pd.DataFrame({"segment": ["0", "0", "0", "1", "1", "1"], "feature": ["a", "b", "c"] * 2,
                         "lift": [1.0, 1.1, 9.0, 1.0, 0.9, 0.1]})
    assert profile_features(prof, ["b"], limit=2) == ["b", "c"]
    assert profile_features(prof, [], limit=3)[0] == "c"


def test_selection_chart_stars_the_winner_and_marks_rejections(report_data: ReportData) -> None:
    chart = selection_chart(report_data.cluster.selection, "en")
    kmeans, _hdbscan, star = chart.figure.data
    assert list(kmeans.y) == pytest.approx([0.10, 0.25, 0.18])
    assert list(kmeans.marker.symbol) == ["circle", "circle", "x-thin-open"]
    assert (star.x[0], star.y[0]) == (3, 0.25)
    # hdbscan has no k: it is placed at the number of segments it found
    assert list(_hdbscan.x) == [5]
    assert chart.reading == ("kmeans k=3 won: silhouette 0.42 (+0.250 over structureless data), stability 0.91; "
                             "4 candidates were tried, 1 rejected.")


def test_migration_reading_and_display_order(report_data: ReportData) -> None:
    chart = migration_chart(report_data.migrations[0], "en")
    heat = chart.figure.data[0]
    # stayed: 6 + 9 + 15 + 30 = 60 of the 68 users present in both runs
    assert chart.reading == ("88% of the users in both runs kept their segment; the largest move is 4 users "
                             "from At Risk to Lost.")
    assert list(heat.x) == ["Champions", "Loyal", "At Risk", "Lost", "(gone)"]
    assert heat.y[0].endswith("(new)") and heat.y[-1].endswith("Champions")  # top row is the first segment
    zh = migration_chart(report_data.migrations[0], "zh")
    assert "（离开）" in list(zh.figure.data[0].x) and "流失风险用户" in zh.reading


def test_colours_are_the_same_for_a_segment_everywhere(toy_charts: dict) -> None:
    charts = toy_charts["en"]
    colors = segment_colors("cluster", ["0", "1", "2"])
    map_colors = {t.name: t.marker.color for t in charts["map"].figure.data}
    sizes = charts["sizes_cluster"].figure.data[1]
    size_colors = dict(zip([s.split("</span> ")[1] for s in sizes.y], sizes.marker.line.color, strict=True))
    profile_rows = {s.split("</span> ")[1]: re.search(r"color:(#\w+)", s).group(1)
                    for s in charts["profile"].figure.data[0].y}
    for key, name in (("0", "Window shoppers"), ("1", "High-value loyal"), ("2", "Cart abandoners")):
        assert map_colors[name] == size_colors[name] == profile_rows[name] == colors[key]


def test_every_chart_has_a_title_axis_titles_and_a_reading(toy_charts: dict) -> None:
    for lang in ("en", "zh"):
        charts = toy_charts[lang]
        assert set(charts) == {"events_by_type", "quarantine", "sizes_rfm", "sizes_cluster", "rfm_grid", "map",
                               "profile", "selection", "migration_rfm"}
        for key, chart in charts.items():
            layout = chart.figure.layout
            assert chart.title and chart.title in layout.title.text, key
            assert layout.xaxis.title.text and layout.yaxis.title.text, key
            assert chart.reading and "{" not in chart.reading and "nan" not in chart.reading.lower(), key
            if lang == "zh":
                assert CJK.search(chart.title) and CJK.search(chart.reading), key
                assert CJK.search(layout.xaxis.title.text) or key == "selection" or CJK.search(
                    layout.yaxis.title.text), key


def test_map_samples_every_segment_and_keeps_the_clustering_space() -> None:
    rng = np.random.default_rng(1)
    n = 12_000
    labels = pd.Series(np.where(np.arange(n) < 60, "tiny", np.where(np.arange(n) % 2, "a", "b")),
                       index=[f"u{i}" for i in range(n)])
    rows = sample_rows(labels, 1000, random_state=0)
    picked = labels.iloc[rows].value_counts()
    assert len(rows) <= 1000 + 30 and picked["tiny"] == 30 and abs(picked["a"] - picked["b"]) <= 2
    # a minority apart on f1 and f3 together: whatever the scaling, their shared direction carries
    # the most variance (1 + their correlation, about 0.86, against 1 for f2 alone)
    cut = n * 4 // 5
    feats = pd.DataFrame({"f1": np.r_[rng.normal(0, 1, cut), rng.normal(8, 1, n - cut)],
                          "f2": rng.normal(size=n), "f3": np.r_[rng.normal(0, 1, cut), rng.normal(8, 1, n - cut)],
                          "city": rng.choice(["北京", "上海"], n, p=[0.95, 0.05])},
                         index=labels.index)
    groups = pd.Series(np.r_[["low"] * cut, ["high"] * (n - cut)], index=labels.index)
    mp = project_users(feats, groups, ["f1", "f2", "f3", "city"], max_points=2000)
    assert mp.method == "pca" and len(mp.points) <= 2000 and mp.n_total == n and mp.n_features == 4
    # the planted split lies along the first axis
    x = mp.points.groupby("segment")["x"]
    assert abs(x.mean()["high"] - x.mean()["low"]) > 3 * x.std().max()
    assert mp.explained[0] > mp.explained[1]


def test_reading_fields_fill_in_both_languages() -> None:
    assert tr("r_sizes", "zh", name="冠军用户", users="8%", revenue="41%") == "冠军用户占用户的 8%，贡献了 41% 的收入。"


def test_umap_is_used_only_where_installed() -> None:
    rng = np.random.default_rng(2)
    feats = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    labels = pd.Series(np.where(feats["a"] > 0, "x", "y"), index=feats.index)
    auto = project_users(feats, labels, ["a", "b"], method="auto")
    if umap_available():
        assert auto.method == "umap" and auto.explained is None
    else:
        assert auto.method == "pca" and auto.explained is not None
        with pytest.raises(ValueError, match="umap-learn"):
            project_users(feats, labels, ["a", "b"], method="umap")


def test_overview_readings(toy_charts: dict, report_data: ReportData) -> None:
    from segmark.report.render import overview_reading

    assert toy_charts["en"]["events_by_type"].reading == (
        "The most common event is view (70% of all); 8.0% of events are purchases.")
    assert toy_charts["zh"]["events_by_type"].reading == "最常见的事件是浏览（占 70%）；购买事件占 8.0%。"
    assert toy_charts["en"]["quarantine"].reading == (
        'The most common reason is "unreadable timestamp": 6 rows (75% of rejected rows).')
    # 8 rejected of the 1,010 rows read; 2024 is a leap year
    assert overview_reading(report_data, "en") == (
        "1,000 events from 100 users on 40 items over 366 days; 8 of the input rows (0.8%) were rejected.")
