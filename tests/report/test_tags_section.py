"""The tags section on a hand-made shop in Asia/Shanghai: the tag run is dated by the shop's local
date, overlaps name tags and values by their labels in the page's language, and skipped reasons,
owners and channels are translated.

As of 2025-03-01 on the shop's clock (2025-02-28 16:00 UTC). u1-u4 buy; u5 and u6 only view and
cart, so lifecycle_stage = 潜在客户 (prospect) and value_tier = 未购买 (no purchase yet) hold exactly
the same two users (Jaccard 1). No model is scored and no lifetime value fitted: clv_level,
churn_risk, churn_level and propensity_level are skipped.
"""

from __future__ import annotations

import pandas as pd
import pytest

from segmark.pipeline.features import build_features
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.report import collect_report_data
from segmark.pipeline.segments import run_rfm
from segmark.pipeline.tags import apply_tags
from segmark.report import ReportData
from segmark.report.sections import AudiencesSection, Block, Section, TagsSection
from segmark.workspace import init_workspace, open_workspace


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    base = tmp_path_factory.mktemp("tagshop")
    rows = []
    for i, (user, day) in enumerate((("u1", "02-20"), ("u2", "02-10"), ("u3", "01-15"), ("u4", "02-27"))):
        rows.append((user, "view", f"2025-{day} 10:00:00", f"I{i}", "服装", None, None))
        rows.append((user, "purchase", f"2025-{day} 12:00:00", f"I{i}", "服装", 50.0 + 10 * i, f"o{i}"))
    rows += [("u5", "view", "2025-02-25 10:00:00", "I9", "美妆", None, None),
             ("u5", "cart", "2025-02-25 10:05:00", "I9", "美妆", None, None),
             ("u6", "view", "2025-02-26 09:00:00", "I8", "食品", None, None)]
    pd.DataFrame(rows, columns=["user_id", "event_type", "ts", "item_id", "category", "price", "order_id"]).to_csv(
        base / "events.csv", index=False)
    root = init_workspace(base / "ws", timezone="Asia/Shanghai")
    with open_workspace(root) as ws:
        ingest_file(ws, "events", base / "events.csv")
        build_features(ws, as_of="2025-03-01")
        run_rfm(ws)
        apply_tags(ws)
        return collect_report_data(ws.store, root=root)


def _tables(section: Section) -> list[Block]:
    return [b for b in section.blocks if b.kind == "table"]


def _texts(block: Block) -> list[list[str]]:
    return [[c.text for c in row] for row in block.rows]


def test_the_tag_run_is_dated_by_the_shops_local_date(tagged: ReportData) -> None:
    assert str(tagged.parts["tags"]["as_of"]).startswith("2025-02-28 16:00")  # stored in UTC
    assert "as of 2025-03-01:" in TagsSection().build(tagged, "en").intro
    assert "截至 2025-03-01：" in TagsSection().build(tagged, "zh").intro


def test_overlaps_name_tags_and_values_by_their_labels_in_the_pages_language(tagged: ReportData) -> None:
    for lang, prospect, no_purchase in (("en", "Lifecycle stage = prospect", "Value tier = no purchase yet"),
                                        ("zh", "生命周期阶段 = 潜在客户", "价值层级 = 未购买")):
        _, overlap, _ = _tables(TagsSection().build(tagged, lang))
        rows = _texts(overlap)
        assert [prospect, no_purchase, "2", "1.00"] in rows
        segment = "Segment = No purchase yet" if lang == "en" else "用户分群 = 未购买用户"
        assert [segment, no_purchase, "2", "1.00"] in rows  # the RFM segment stands in for clusters
        cells = [c for row in rows for c in row[:2]]
        assert not any("_" in c for c in cells)  # neither a tag's name nor a segment's key
        if lang == "en":
            assert not any("\u4e00" <= ch <= "\u9fff" for c in cells for ch in c)


def test_skipped_reasons_and_owners_are_in_the_pages_language(tagged: ReportData) -> None:
    taxonomy, _, skipped = _tables(TagsSection().build(tagged, "zh"))
    owners = {row[1]: row[-1] for row in _texts(taxonomy)}
    assert owners["年龄段 (age_group)"] == "市场营销" and owners["价值层级 (value_tier)"] == "客户关系管理"
    assert owners["用户分群 (user_segment)"] == "数据分析" and owners["加购未购买 (cart_abandoner)"] == "用户增长"
    churn = "churn 模型尚未评分：请运行 `segmark predict train churn` 和 `segmark predict score churn`"
    assert dict(_texts(skipped)) == {
        "终身价值十分位 (clv_level)": "还没有终身价值：请运行 `segmark clv fit` 和 `segmark clv predict`",
        "流失风险 (churn_risk)": churn,
        "流失风险十分位 (churn_level)": churn,
        "购买倾向十分位 (propensity_level)": "propensity 模型尚未评分：请运行 `segmark predict train propensity` 和 "
                                      "`segmark predict score propensity`"}
    taxonomy, _, skipped = _tables(TagsSection().build(tagged, "en"))
    assert {row[1]: row[-1] for row in _texts(taxonomy)}["Value tier (value_tier)"] == "CRM"
    assert dict(_texts(skipped))["Lifetime value decile (clv_level)"] == (
        "no lifetime values yet: run `segmark clv fit` and `segmark clv predict`")


def test_playbook_channels_are_in_the_pages_language(tagged: ReportData) -> None:
    # the RFM segments of the shop: four buyers and the two who have not bought (their default: app push)
    for lang, expected in (("en", "app push"), ("zh", "App 推送")):
        playbook = _tables(AudiencesSection().build(tagged, lang))[-1]
        no_purchase = "No purchase yet" if lang == "en" else "未购买用户"
        assert dict((row[0], row[2]) for row in _texts(playbook))[no_purchase] == expected
        if lang == "zh":
            assert not {row[2] for row in _texts(playbook)} & {"email", "sms", "app push"}


def test_the_date_range_and_header_are_the_shops_local_days(tmp_path) -> None:
    """Events from 00:05 on 1 January to 23:50 on 31 January, Shanghai time (16:05 UTC on 31
    December to 15:50 UTC on 31 January): the range card reads 2025-01-01 – 2025-01-31 over 31
    days, and without a feature build the header dates the data by its last local day."""
    from segmark.report.render import build_cards, render_report

    pd.DataFrame([("u1", "view", "2025-01-01 00:05:00"), ("u2", "view", "2025-01-31 23:50:00")],
                 columns=["user_id", "event_type", "ts"]).to_csv(tmp_path / "events.csv", index=False)
    root = init_workspace(tmp_path / "ws", timezone="Asia/Shanghai")
    with open_workspace(root) as ws:
        ingest_file(ws, "events", tmp_path / "events.csv")
        assert str(ws.store.scalar("SELECT min(ts) FROM events")).startswith("2024-12-31 16:05")
        data = collect_report_data(ws.store, root=root, timezone=ws.settings.time.timezone)
    card = next(c for c in build_cards(data, "en") if "2025-01-01" in c.note)
    assert card.note == "2025-01-01 – 2025-01-31" and data.overview.days == 31
    assert "data to 2025-01-31" in render_report(data, "en")
