"""The value tier is not claimed when the shop's revenue is unknown.

A shop whose purchases carry no prices has no net spend, so its RFM segmentation scores every buyer
M=1 (see docs/segmentation.md): a value tier read from that score would call every buyer "low
value". The default ``value_tier`` tag is skipped there with the reason, ``m_score`` is unknown to
tag rules and audiences, and the tags that do not read spend are applied as usual.

The shops are the hand-made one of conftest.py, with and without its prices. Buyers and their net
spend with prices: u1 120, u2 80, u5 30, u6 200 + 150 = 350; u3, u4, u7, u8 never bought.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.audience.conftest import _events, build_hand_shop, open_copy
from typer.testing import CliRunner

from segmark.cli import app
from segmark.core.audience.expression import ExpressionError
from segmark.core.audience.plan import compile_expression
from segmark.pipeline.features import build_features
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.segments import run_rfm
from segmark.pipeline.tags import apply_tags, user_tags_of
from segmark.pipeline.universe import open_universe
from segmark.workspace import Workspace

BUYERS = {"u1", "u2", "u5", "u6"}
NON_BUYERS = {"u3", "u4", "u7", "u8"}


def _tagged(ws: Workspace, run_id: int, tag: str) -> dict[str, str]:
    return dict(ws.store.query_rows("SELECT user_id, value FROM user_tags WHERE run_id = ? AND tag = ?",
                                    [run_id, tag]))


@pytest.fixture(scope="module")
def no_prices_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made shop without a price (or amount) on any event, with features and RFM."""
    return build_hand_shop(tmp_path_factory.mktemp("no-prices"), _events().assign(price=None))


@pytest.fixture
def no_prices(no_prices_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    yield from open_copy(no_prices_template, tmp_path)


def test_without_prices_the_value_tier_is_skipped_with_the_reason(no_prices: Workspace) -> None:
    assert no_prices.store.scalar("SELECT count(*) FROM events WHERE amount IS NOT NULL OR price IS NOT NULL") == 0
    run = apply_tags(no_prices)
    skipped = {s["tag"]: s["reason"] for s in run.skipped}
    assert "value_tier" in skipped and "value_tier" not in {t["tag"] for t in run.taxonomy}
    assert "carry no prices" in skipped["value_tier"] and "m_score" in skipped["value_tier"]
    assert _tagged(no_prices, run.run_id, "value_tier") == {}
    # what does not read spend is applied: the four buyers bought once or twice, the others never
    lifecycle = _tagged(no_prices, run.run_id, "lifecycle_stage")
    assert {u for u, v in lifecycle.items() if v == "潜在客户"} == NON_BUYERS
    assert set(lifecycle) == BUYERS | NON_BUYERS
    shown = {t["tag"] for t in user_tags_of(no_prices, "u6", run.run_id)["tags"]}
    assert "lifecycle_stage" in shown and "value_tier" not in shown


def test_without_prices_m_score_is_unknown_to_expressions_with_the_reason(no_prices: Workspace) -> None:
    catalog = open_universe(no_prices.store).catalog()
    with pytest.raises(ExpressionError) as raised:
        compile_expression("m_score >= 4", catalog)
    assert "carry no prices" in raised.value.render()
    compile_expression("r_score >= 4 AND f_score >= 1", catalog)  # the other axes are still there


def test_with_prices_the_value_tier_follows_the_m_score(hand_ws: Workspace) -> None:
    """M = 1 + floor(5 w / 4), w the buyers who spent strictly less: u5 (30) 1, u2 (80) 2, u1 (120) 3,
    u6 (350) 4."""
    run = apply_tags(hand_ws)
    assert "value_tier" not in {s["tag"] for s in run.skipped}
    assert _tagged(hand_ws, run.run_id, "value_tier") == {
        "u5": "低价值", "u2": "低价值", "u1": "中价值", "u6": "中价值", **dict.fromkeys(NON_BUYERS, "未购买")}


def test_the_command_line_says_why_in_both_languages(no_prices: Workspace) -> None:
    root = str(no_prices.root)
    no_prices.close()
    runner = CliRunner()
    applied = runner.invoke(app, ["tags", "apply", "-w", root])
    assert applied.exit_code == 0, applied.output
    assert "skipped value_tier: the shop's purchases carry no prices" in " ".join(applied.output.split())
    listed = runner.invoke(app, ["tags", "list", "--json", "-w", root])
    assert {s["tag"] for s in json.loads(listed.stdout)["skipped"]} >= {"value_tier"}
    zh = runner.invoke(app, ["tags", "apply", "--lang", "zh", "-w", root])
    assert zh.exit_code == 0 and "已跳过value_tier：店铺的购买记录没有价格" in "".join(zh.output.split())


def test_taobao_gets_no_value_tier(ws: Workspace, shared_data: Path) -> None:
    """Taobao's behaviour log has no price column (its PROVENANCE.txt)."""
    ingest_file(ws, "events", shared_data / "taobao-userbehavior-sample" / "UserBehavior_first814users.csv",
                mapping="taobao")
    build_features(ws)
    run_rfm(ws)
    run = apply_tags(ws)
    assert "value_tier" in {s["tag"] for s in run.skipped}
    buyers = ws.store.scalar("SELECT count(DISTINCT user_id) FROM events WHERE event_type = 'purchase'")
    lifecycle = _tagged(ws, run.run_id, "lifecycle_stage")
    assert len(lifecycle) == 814 and sum(v != "潜在客户" for v in lifecycle.values()) == buyers
