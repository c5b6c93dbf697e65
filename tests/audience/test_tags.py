"""Every tag kind on the hand-made shop (see conftest.py for the values worked out by hand), the
default tag file, runs kept side by side, statistics, reasons, and tag-file errors with positions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.audience.conftest import write_clv, write_scores

from segmark.errors import ConfigError
from segmark.pipeline.tags import apply_tags, list_tags, user_tags_of

TAGS = """\
version: 1
groups:
  - group: demo
    label: Demo
    label_zh: 演示
    tags:
      - tag: age_group
        label: Age group
        label_zh: 年龄段
        owner: marketing
        kind: rule
        values:
          - {value: 未成年, when: "age < 18"}
          - {value: 青年, label: young adult, when: "age BETWEEN 18 AND 34"}
          - {value: 中年, when: "age BETWEEN 35 AND 59"}
          - {value: 老年, when: "age >= 60"}
      - tag: shanghai_buyer
        kind: rule
        values:
          - {value: yes, when: "city = '上海' AND frequency >= 1"}
      - tag: abandoner
        kind: behaviour
        event: cart
        window_days: 30
        then_not: purchase
        within_days: 7
      - tag: abandoner_any_item
        kind: behaviour
        event: cart
        window_days: 30
        then_not: purchase
        within_days: 7
        same: any
      - tag: hot_category
        kind: behaviour
        event: view
        window_days: 7
        per: category
        min_count: 3
      - tag: viewer_2x
        kind: behaviour
        event: view
        window_days: 7
        min_count: 2
      - tag: big_spender
        kind: sql
        sql: >
          SELECT user_id, 'big' AS value, 'max ' || CAST(max(amount) AS VARCHAR) AS reason FROM events
          WHERE event_type = 'purchase' AND amount >= 100 AND ts < {as_of} GROUP BY user_id
      - tag: vip_list
        kind: list
        file: vip.csv
        value: VIP
      - tag: rfm
        kind: model
        source: rfm_segment
      - tag: churn_decile
        kind: model
        source: churn_decile
      - tag: churn_risk
        kind: rule
        values:
          - {value: high, when: "churn_probability >= 0.7"}
          - {value: low, when: "churn_probability < 0.7"}
"""


def _tagged(ws, run_id: int, tag: str) -> dict[str, str]:
    return dict(ws.store.query_rows("SELECT user_id, value FROM user_tags WHERE run_id = ? AND tag = ? "
                                    "ORDER BY user_id", [run_id, tag]))


@pytest.fixture
def tag_file(tmp_path: Path) -> Path:
    (tmp_path / "vip.csv").write_text("user_id\nu1\nu3\nu99\n\n", encoding="utf-8")
    path = tmp_path / "tags.yaml"
    path.write_text(TAGS, encoding="utf-8")
    return path


def test_every_kind_gives_the_values_worked_out_by_hand(hand_ws, tag_file: Path) -> None:
    run = apply_tags(hand_ws, tag_file)
    r = run.run_id
    # rule: ages at 2025-03-01; u6 has no age; u7 turns 35 that day, u8 the day after
    assert _tagged(hand_ws, r, "age_group") == {"u1": "青年", "u2": "中年", "u3": "老年", "u4": "未成年",
                                                "u5": "青年", "u7": "中年", "u8": "青年"}
    assert _tagged(hand_ws, r, "shanghai_buyer") == {"u1": "yes"}  # u3, u7, u8 are in 上海 but never bought
    # behaviour, not followed within 7 days by a purchase of the same item (or of anything)
    assert _tagged(hand_ws, r, "abandoner") == {"u2": "yes", "u3": "yes", "u5": "yes"}
    assert _tagged(hand_ws, r, "abandoner_any_item") == {"u2": "yes", "u3": "yes"}  # u5 bought F the next day
    # behaviour per category: 3+ views in the 7 days before as_of; u5's tie goes to the latest (图书)
    assert _tagged(hand_ws, r, "hot_category") == {"u1": "美妆", "u5": "图书"}
    assert _tagged(hand_ws, r, "viewer_2x") == {"u1": "yes", "u2": "yes", "u5": "yes"}
    # sql: purchases of 100 or more before as_of
    assert _tagged(hand_ws, r, "big_spender") == {"u1": "big", "u6": "big"}
    # list: u99 is not a user of the build
    assert _tagged(hand_ws, r, "vip_list") == {"u1": "VIP", "u3": "VIP"}
    by_tag = {t["tag"]: t for t in run.taxonomy}
    assert by_tag["vip_list"]["unmatched"] == 1
    # model: the RFM segmentation's own keys
    keys = dict(hand_ws.store.query_rows(
        "SELECT m.user_id, s.key FROM segment_members m JOIN segments s USING (segmentation_id, segment_id)"))
    assert _tagged(hand_ws, r, "rfm") == keys
    # the churn model has not been scored: both of its tags are skipped, with the reason
    assert {s["tag"] for s in run.skipped} == {"churn_decile", "churn_risk"}
    assert all("has not been scored" in s["reason"] for s in run.skipped)
    # coverage is tagged users over the build's 8 users
    assert by_tag["age_group"]["coverage"] == pytest.approx(7 / 8)
    assert by_tag["age_group"]["values"][1] == {"value": "青年", "label": "young adult", "label_zh": "青年",
                                                "when": "age BETWEEN 18 AND 34", "users": 3}


def test_score_tags_apply_once_scores_exist(hand_ws, tag_file: Path) -> None:
    write_scores(hand_ws, "churn", [("u1", 0.9, 10), ("u2", 0.2, 1), ("u6", 0.7, 8)], run_id=500)
    newer = write_scores(hand_ws, "churn", [("u1", 0.1, 1), ("u2", 0.8, 9), ("u6", 0.75, 9)], run_id=600)
    run = apply_tags(hand_ws, tag_file)
    assert run.skipped == []
    assert run.ids["score_runs"] == {"churn": newer}  # always the latest scoring run
    assert _tagged(hand_ws, run.run_id, "churn_decile") == {"u1": "1", "u2": "9", "u6": "9"}
    assert _tagged(hand_ws, run.run_id, "churn_risk") == {"u1": "low", "u2": "high", "u6": "high"}


def test_the_default_file_works_without_and_with_scores(hand_ws) -> None:
    bare = apply_tags(hand_ws)
    applied = {t["tag"] for t in bare.taxonomy}
    assert {"age_group", "value_tier", "lifecycle_stage", "user_segment", "cart_abandoner"} <= applied
    assert {s["tag"] for s in bare.skipped} == {"clv_level", "churn_risk", "churn_level", "propensity_level"}
    r = bare.run_id
    # lifecycle from frequency and the RFM recency score, as stored by the RFM step
    scores = dict(hand_ws.store.query_rows("SELECT user_id, r_score FROM segment_members"))
    freq = dict(hand_ws.store.query_rows("SELECT user_id, frequency FROM features_run_3"))
    expected = {}
    for u, rs in scores.items():
        expected[u] = ("潜在客户" if freq[u] == 0 else "新客户" if freq[u] == 1 and rs >= 4 else "活跃客户" if rs >= 4
                       else "沉睡客户" if rs in (2, 3) else "流失客户")
    assert _tagged(hand_ws, r, "lifecycle_stage") == expected
    write_scores(hand_ws, "churn", [("u1", 0.9, 10), ("u2", 0.5, 5)])
    write_scores(hand_ws, "propensity", [("u1", 0.3, 4)])
    write_clv(hand_ws, [("u1", 500.0, 10), ("u6", 20.0, 2)])
    full = apply_tags(hand_ws)
    assert full.skipped == []
    assert _tagged(hand_ws, full.run_id, "churn_risk") == {"u1": "高", "u2": "中"}
    assert _tagged(hand_ws, full.run_id, "clv_level") == {"u1": "10", "u6": "2"}
    assert _tagged(hand_ws, full.run_id, "propensity_level") == {"u1": "4"}
    # both runs are kept
    assert _tagged(hand_ws, r, "age_group") == _tagged(hand_ws, full.run_id, "age_group")


def test_statistics_value_counts_and_overlap(hand_ws, tag_file: Path) -> None:
    run = apply_tags(hand_ws, tag_file)
    data = list_tags(hand_ws.store)
    assert data["run_id"] == run.run_id
    pairs = {(o["tag_a"], o["value_a"], o["tag_b"], o["value_b"]): o for o in data["overlap"]}
    # abandoners {u2, u3, u5} and 青年 {u1, u5, u8}: both = {u5}, either = 5 users
    o = pairs[("abandoner", "yes", "age_group", "青年")] if ("abandoner", "yes", "age_group", "青年") in pairs \
        else pairs[("age_group", "青年", "abandoner", "yes")]
    assert o["users"] == 1 and o["jaccard"] == pytest.approx(1 / 5)
    counts = dict(((t, v), n) for t, v, n in hand_ws.store.query_rows(
        "SELECT tag, value, users FROM tag_values WHERE run_id = ?", [run.run_id]))
    assert counts[("age_group", "青年")] == 3 and counts[("age_group", "中年")] == 2


def test_a_users_tags_say_why(hand_ws, tag_file: Path) -> None:
    apply_tags(hand_ws, tag_file)
    data = user_tags_of(hand_ws, "u5")
    by = {t["tag"]: t for t in data["tags"]}
    assert by["age_group"]["rule"] == "age BETWEEN 18 AND 34" and by["age_group"]["values"] == {"age": 34.0}
    assert by["abandoner"]["evidence"] == {"n": "1", "last": "2025-02-05", "item": "E"}
    assert by["hot_category"]["value"] == "图书" and by["hot_category"]["evidence"]["n"] == "3"
    assert "big_spender" not in by
    u1 = {t["tag"]: t for t in user_tags_of(hand_ws, "u1")["tags"]}
    assert u1["big_spender"]["evidence"] == {}  # the reason column is free text, kept as is
    assert u1["vip_list"]["evidence"] == {"list": "vip.csv"}


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("version: 1\ngroups: []\n", 2, 9, "non-empty list"),
    ("version: 1\ngroups:\n  - group: g\n    tags:\n      - tag: t\n        kind: magic\n", 6, 15, "unknown kind"),
    ("version: 1\ngroups:\n  - group: g\n    tags:\n      - tag: t\n        kind: rule\n        values:\n"
     "          - {value: a, when: \"agee > 3\"}\n", 8, 31, "did you mean age"),
    ("version: 1\ngroups:\n  - group: g\n    tags:\n      - tag: t\n        kind: behaviour\n        event: click\n"
     "        window_days: 7\n", 7, 16, "unknown event 'click'"),
    ("version: 1\ngroups:\n  - group: g\n    tags:\n      - tag: t\n        kind: rule\n        colour: red\n"
     "        values: [{value: a, when: \"age > 1\"}]\n", 7, 9, "unknown key 'colour'"),
    ("version: 1\ngroups:\n  - group: g\n    tags:\n      - tag: t\n        kind: sql\n        sql: SELECT nope\n",
     7, 14, "its SQL fails"),
    ("version: 1\ngroups:\n  - group: g\n    tags:\n      - {tag: t, kind: list, file: missing.csv}\n", 5, 36,
     "no id list"),
    ("version: 1\ngroups:\n  - group: g\n    tags: [\n", 5, 1, "not valid YAML"),
])
def test_tag_file_errors_name_file_line_and_column(hand_ws, tmp_path: Path, text: str, line: int, column: int,
                                                   words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    before = hand_ws.store.scalar("SELECT count(*) FROM runs WHERE status = 'ok'")
    with pytest.raises(ConfigError) as info:
        apply_tags(hand_ws, path)
    assert f"{path}, line {line}, column {column}" in str(info.value)
    assert words in str(info.value)
    assert hand_ws.store.scalar("SELECT count(*) FROM user_tags") == 0
    assert hand_ws.store.scalar("SELECT count(*) FROM runs WHERE status = 'ok'") == before


def test_tags_cli(hand_ws) -> None:
    from typer.testing import CliRunner

    from segmark.cli import app

    root = str(hand_ws.root)
    hand_ws.close()
    runner = CliRunner()
    r = runner.invoke(app, ["tags", "apply", "--json", "-w", root])
    assert r.exit_code == 0, r.output
    applied = json.loads(r.stdout)
    assert {t["tag"] for t in applied["tags"]} >= {"age_group", "value_tier", "lifecycle_stage"}
    r = runner.invoke(app, ["tags", "list", "-w", root, "--lang", "zh"])
    assert r.exit_code == 0 and "年龄段" in r.output and "已跳过" in r.output
    # overlaps are named by the taxonomy's labels, as the report names them: the four non-buyers are
    # prospects (lifecycle) and "No purchase yet" (segment) at once
    r = runner.invoke(app, ["tags", "list", "-w", root, "--lang", "en"], terminal_width=200)
    assert r.exit_code == 0 and "Lifecycle stage = prospect" in r.output, r.output
    assert "Segment = No purchase yet" in r.output and "lifecycle_stage = 潜在客户" not in r.output
    r = runner.invoke(app, ["tags", "show", "u8", "--json", "-w", root])
    data = json.loads(r.stdout)
    age = next(t for t in data["tags"] if t["tag"] == "age_group")
    assert age["value"] == "青年" and age["why"] == "age BETWEEN 18 AND 34, with age = 34"
    r = runner.invoke(app, ["tags", "show", "nobody", "-w", root])
    assert r.exit_code == 1 and "not in feature build" in r.output
