"""English output names features by the catalogue's labels, as the Chinese page does, and the lift
heatmap colours better and worse as a marketer reads them (a low recency is good)."""

from __future__ import annotations

import numpy as np
import pytest

from segmark.features.labels import feature_label, relabel
from segmark.report import ReportData
from segmark.report.figures import profile_chart
from segmark.report.model import ClusterView


def test_catalogue_labels_in_english_fill_windows_and_categories() -> None:
    assert feature_label("recency_visit_days", "en") == "days since last visit"
    assert feature_label("sessions_90d", "en", "sessions_{W}d", "近90天会话数") == "sessions in the last 90 days"
    # the category's value as the items table names it, read back from the stored Chinese label
    assert feature_label("cat_share__nv_zhuang", "en", "cat_share__{category}", "品类女装占比") == \
        "share of interest in 女装"
    assert feature_label("cat_share__nv_zhuang", "zh", "cat_share__{category}", "品类女装占比") == "品类女装占比"
    assert feature_label("big_basket_share", "en", None, None) == "big_basket_share"  # custom: its name


def test_rules_read_with_labels_whole_names_only() -> None:
    labels = {"aov": "average order value", "sessions_90d": "sessions in the last 90 days",
              "aov_ratio": "aov_ratio"}
    assert relabel("aov unknown and sessions_90d <= 0", labels) == \
        "average order value unknown and sessions in the last 90 days <= 0"
    assert relabel("aov_ratio > 2 and (aov <= 10 or unknown)", labels) == \
        "aov_ratio > 2 and (average order value <= 10 or unknown)"


def test_heatmap_colours_a_low_recency_as_better(report_data: ReportData) -> None:
    # the RFM profile as the section draws it: champions have recency lift 0.3 (recent: good), frequency 4.0
    rfm = ClusterView(report_data.rfm.segments, profile=report_data.rfm.profile,
                      features=["recency_days", "frequency", "monetary"])
    labels_en = {"recency_days": "days since last purchase", "frequency": "orders", "monetary": "net spend"}
    chart = profile_chart(rfm, {}, "en", {}, labels_en)
    heat = chart.figure.data[0]
    assert list(heat.x) == ["days since last purchase", "orders", "net spend"]
    rows = [str(y) for y in heat.y]
    z = np.array(heat.z, dtype=float)[next(i for i, y in enumerate(rows) if "Champions" in y)]
    assert z[0] == pytest.approx(-np.log2(0.3))  # lift ×0.3 on recency: coloured +1.74, the "better" side
    assert z[1] == pytest.approx(2.0)  # frequency ×4: better, same side
    lost = np.array(heat.z, dtype=float)[next(i for i, y in enumerate(rows) if "Lost" in y)]
    assert lost[0] == pytest.approx(-np.log2(3.0))  # recency ×3: worse
    assert heat.text[rows.index(next(y for y in rows if "Champions" in y))][0] == "×0.30"  # the lift itself
    assert list(heat.colorbar.ticktext) == ["worse", "", "×1", "", "better"]
    # The section's intro says the same as the colours: blue is better, not "above average".
    from segmark.report.text import tr

    for lang, better, lower in (("en", "Blue is better than average", "days since the last visit"),
                                ("zh", "蓝色优于平均", "越低越好")):
        intro = tr("sec_profile_intro", lang)
        assert better in intro and lower in intro
