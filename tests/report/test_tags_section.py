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
from segmark.report.sections import TagsSection
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


def test_the_tag_run_is_dated_by_the_shops_local_date(tagged: ReportData) -> None:
    assert str(tagged.parts["tags"]["as_of"]).startswith("2025-02-28 16:00")  # stored in UTC
    assert "as of 2025-03-01:" in TagsSection().build(tagged, "en").intro
    assert "截至 2025-03-01：" in TagsSection().build(tagged, "zh").intro
