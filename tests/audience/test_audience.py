"""Audiences on the hand-made shop: size and composition by hand, the holdout recorded with the
audience, scores and recommendations read through their contract tables, overlap and export."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.audience.conftest import write_clv, write_scores
from typer.testing import CliRunner

from segmark.cli import app
from segmark.errors import InputError
from segmark.pipeline.audience import (
    AudienceError,
    ExportRefused,
    audience_overlap,
    create_audience,
    export_audience,
    get_audience,
    preview_audience,
)
from segmark.pipeline.recommend import top_items
from segmark.pipeline.tags import apply_tags


def _ids(ws, name: str) -> dict[str, str]:
    a = get_audience(ws.store, name)
    return dict(ws.store.query_rows("SELECT user_id, arm FROM audience_members WHERE audience_id = ? ORDER BY 1",
                                    [a.audience_id]))


def test_preview_size_and_composition_by_hand(hand_ws) -> None:
    apply_tags(hand_ws)
    out = preview_audience(hand_ws, "age_group = '青年'")  # u1, u5, u8
    assert out["size"] == 3 and out["universe"] == 8 and out["share"] == pytest.approx(3 / 8)
    seg = {s["segment"]: s for s in out["by_segment"]}
    assert {k: s["users"] for k, s in seg.items()} == {"promising": 1, "hibernating": 1, "no_purchase": 1}
    assert seg["no_purchase"]["penetration"] == pytest.approx(1 / 4)  # u3, u4, u7, u8 have not bought
    tags = {(t["tag"], t["value"]): t["users"] for t in out["by_tag"]}
    assert tags[("cart_abandoner", "yes")] == 1  # u5
    assert tags[("age_group", "青年")] == 3
    assert hand_ws.store.scalar("SELECT count(*) FROM audiences") == 0  # a preview writes nothing


def test_names_of_every_namespace(hand_ws) -> None:
    apply_tags(hand_ws)
    assert preview_audience(hand_ws, "rfm_segment = 'No purchase yet' AND city = '上海'")["size"] == 3  # u3 u7 u8
    assert preview_audience(hand_ws, "has_tag('cart_abandoner') AND NOT tag.age_group = '老年'")["size"] == 2
    assert preview_audience(hand_ws, "frequency >= 1 AND monetary BETWEEN 50 AND 400")["size"] == 3  # u1 u2 u6
    assert preview_audience(hand_ws, "age IS NULL")["size"] == 1  # u6
    assert preview_audience(hand_ws, "user_id IN ('u1', 'u2', 'nobody')")["size"] == 2


def test_scores_resolve_once_their_contract_tables_hold_rows(hand_ws) -> None:
    with pytest.raises(AudienceError) as info:
        preview_audience(hand_ws, "churn_probability > 0.5")
    assert info.value.error.position == 1 and "has not been scored" in str(info.value)
    write_scores(hand_ws, "churn", [("u1", 0.9, 10), ("u2", 0.4, 4), ("u6", 0.6, 7)])
    write_clv(hand_ws, [("u1", 300.0, 10), ("u6", 900.0, 10), ("u2", 5.0, 1)])
    assert preview_audience(hand_ws, "churn_probability > 0.5")["size"] == 2
    assert preview_audience(hand_ws, "churn_decile >= 7 AND clv_decile = 10")["size"] == 2
    assert preview_audience(hand_ws, "clv > 100 AND p_alive >= 0.5")["size"] == 2
    with pytest.raises(AudienceError) as info:
        preview_audience(hand_ws, "churn_decile >= 7 AND propensity_decile >= 9")
    assert info.value.error.position == 23 and "propensity model has not been scored" in str(info.value)


def test_holdout_is_stratified_recorded_and_reproducible(hand_ws) -> None:
    a = create_audience(hand_ws, "everyone", "frequency >= 0", holdout=0.5, seed=11)
    assert (a.size, a.treatment, a.control) == (8, 4, 4)
    members = hand_ws.store.query_df("SELECT segment_key, arm FROM audience_members")
    assert (members[members["segment_key"] == "no_purchase"]["arm"] == "control").sum() == 2  # half of 4
    again = create_audience(hand_ws, "everyone", "frequency >= 0", holdout=0.5, seed=11, replace=True)
    assert again.audience_id != a.audience_id
    first = _ids(hand_ws, "everyone")
    create_audience(hand_ws, "same", "user_id IS NOT NULL", holdout=0.5, seed=11)
    assert _ids(hand_ws, "same") == first
    assert preview_audience(hand_ws, "frequency >= 0", holdout=0.5, seed=11)["control"] == 4
    with pytest.raises(InputError, match="exists"):
        create_audience(hand_ws, "same", "frequency >= 0")
    stored = hand_ws.store.query_rows("SELECT holdout, seed, size, treatment, control FROM audiences "
                                      "WHERE name = 'same'")
    assert stored == [(0.5, 11, 8, 4, 4)]


def test_overlap_between_audiences(hand_ws) -> None:
    create_audience(hand_ws, "buyers", "frequency >= 1")  # u1 u2 u5 u6
    create_audience(hand_ws, "shanghai", "city = '上海'")  # u1 u3 u7 u8
    [o] = audience_overlap(hand_ws.store)
    assert (o["users"], o["jaccard"]) == (1, pytest.approx(1 / 7))


def test_export_columns_groups_actions_and_top_items(hand_ws, tmp_path: Path) -> None:
    apply_tags(hand_ws)
    write_scores(hand_ws, "churn", [("u1", 0.9, 10)])
    create_audience(hand_ws, "young", "age_group IN ('青年', '中年')", holdout=0.2, seed=1)  # u1 u2 u5 u7 u8
    with pytest.raises(ExportRefused, match="minimum export size of 100"):
        export_audience(hand_ws, "young", tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
    r = export_audience(hand_ws, "young", tmp_path / "young.csv", columns=["age", "value_tier", "churn_probability"],
                        min_size=1)
    df = pd.read_csv(tmp_path / "young.csv", dtype={"user_id": str}).set_index("user_id")
    assert sorted(df.index) == ["u1", "u2", "u5", "u7", "u8"]
    assert r["treatment"] + r["control"] == 5 and r["control"] == 1
    assert set(df["group"]) == {"treatment", "control"}
    assert df.loc["u2", "age"] == 45 and df.loc["u1", "churn_probability"] == 0.9
    assert df.loc["u1", "value_tier"] in ("高价值", "中价值", "低价值")
    assert df.loc["u8", "segment"] == "no_purchase"
    assert df.loc["u8", "action"].startswith("First-order coupon")  # the default playbook's no_purchase
    assert "top_items" not in df  # no recommendation build yet
    # with a real build (the recommendations step's command), every member gets its top items: their
    # own list where the build has one, else the cold-start list, exactly as `top_items` serves them
    r = CliRunner().invoke(app, ["recommend", "build", "--method", "popularity", "-w", str(hand_ws.root)])
    assert r.exit_code == 0, r.output

    export_audience(hand_ws, "young", tmp_path / "young.csv", min_size=1)
    df = pd.read_csv(tmp_path / "young.csv", dtype={"user_id": str}).set_index("user_id")
    served = top_items(hand_ws.store, list(df.index), hand_ws.settings.audience.top_items)
    expected = served.sort_values(["user_id", "rank"]).groupby("user_id")["item_id"].agg(",".join)
    assert df["top_items"].to_dict() == expected.to_dict() and df["top_items"].notna().all()
    zh = export_audience(hand_ws, "young", tmp_path / "young.parquet", lang="zh", min_size=1)
    pq = pd.read_parquet(tmp_path / "young.parquet").set_index("user_id")
    assert zh["format"] == "parquet" and pq.loc["u8", "segment_name"] == "未购买用户"
    assert pq.loc["u8", "action"] == "首单优惠券与口碑展示"


def test_a_workspace_playbook_overrides_the_default(hand_ws, tmp_path: Path) -> None:
    (hand_ws.root / "playbooks.yaml").write_text(
        "segments:\n  no_purchase: {action: Welcome pack, action_zh: 欢迎礼包, channel: sms}\n", encoding="utf-8")
    create_audience(hand_ws, "new", "frequency = 0")
    export_audience(hand_ws, "new", tmp_path / "new.csv", min_size=1)
    df = pd.read_csv(tmp_path / "new.csv")
    assert set(df["action"]) == {"Welcome pack"}


def test_cli_json_keys_and_errors(hand_ws, tmp_path: Path) -> None:
    runner = CliRunner()
    root = str(hand_ws.root)
    hand_ws.close()
    r = runner.invoke(app, ["audience", "preview", "--where", "frequency >= 1", "--json", "-w", root])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["size"] == 4
    r = runner.invoke(app, ["audience", "create", "b", "--where", "frequency >= 1", "--holdout", "0.25", "--seed",
                            "3", "--json", "-w", root])
    data = json.loads(r.stdout)
    assert (data["size"], data["treatment"], data["control"]) == (4, 3, 1)
    r = runner.invoke(app, ["audience", "preview", "--where", "frequency >= 1; DROP TABLE events", "-w", root])
    assert r.exit_code == 1 and "position 15" in r.output
    r = runner.invoke(app, ["audience", "export", "b", "--out", str(tmp_path / "b.csv"), "-w", root])
    assert r.exit_code == 1 and "minimum export size" in r.output
    (Path(root) / "segmark.toml").write_text("[audience]\nmin_export_size = 2\n", encoding="utf-8")
    r = runner.invoke(app, ["audience", "export", "b", "--out", str(tmp_path / "b.csv"), "--columns", "age,city",
                            "-w", root])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / "b.csv")
    assert list(df.columns[:2]) == ["user_id", "group"] and {"age", "city"} <= set(df.columns)
    r = runner.invoke(app, ["audience", "list", "--json", "-w", root])
    assert [a["name"] for a in json.loads(r.stdout)["audiences"]] == ["b"]
    r = runner.invoke(app, ["audience", "show", "b", "-w", root, "--lang", "zh"])
    assert r.exit_code == 0 and "运营动作" in r.output


def test_tags_of_an_older_feature_build_are_flagged(hand_ws) -> None:
    from segmark.pipeline.features import build_features

    apply_tags(hand_ws)
    assert preview_audience(hand_ws, "age_group = '青年'")["warnings"] == []
    build_features(hand_ws, as_of="2025-03-01")
    out = preview_audience(hand_ws, "age_group = '青年'")
    assert out["size"] == 3 and "computed on feature build 3, not on build" in out["warnings"][0]


def test_library_errors_name_the_parameters(hand_ws, tmp_path: Path) -> None:
    """A notebook's bad argument is named as passed (where, holdout, replace=True, columns), not as the
    command line's flag; nothing is written."""
    with pytest.raises(InputError, match=r"^holdout must be at least 0 and below 1, not 1\.5$"):
        create_audience(hand_ws, "x", "frequency >= 0", holdout=1.5)
    with pytest.raises(AudienceError) as info:
        preview_audience(hand_ws, "frequency >= ")
    assert str(info.value).startswith("where: ") and info.value.error.position is not None
    create_audience(hand_ws, "same", "frequency >= 0")
    with pytest.raises(InputError) as exists:
        create_audience(hand_ws, "same", "frequency >= 1")
    assert str(exists.value) == "an audience named 'same' exists: choose another name or pass replace=True (--replace)"
    with pytest.raises(InputError, match=r"^columns 'age > 1 OR city': give names only"):
        export_audience(hand_ws, "same", tmp_path / "a.csv", columns=["age > 1 OR city"], min_size=1)
    assert hand_ws.store.scalar("SELECT count(*) FROM audiences") == 1 and not (tmp_path / "a.csv").exists()
