"""recommend build|evaluate|user|similar|export on a small generated shop, through the store and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from segmark.cli import app
from segmark.demo import generate_shop, write_shop
from segmark.errors import ConfigError, NotFoundError, StoreError
from segmark.pipeline.features import build_features
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.recommend import (
    build_recommendations,
    evaluate_recommendations,
    export_recommendations,
    get_build,
    load_build_model,
    top_items,
)
from segmark.pipeline.segments import run_rfm
from segmark.workspace import init_workspace, open_workspace

SETTINGS = """[recommend]
methods = ["item-knn", "als"]
als_iterations = 5
factors = 16
"""
REQUIRED = ("precision@10", "recall@10", "ndcg@10", "recall@20", "ndcg@20", "map@10", "hit_rate@10", "coverage")


@pytest.fixture(scope="module")
def shop_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the demo shop (1,500 users), RFM segments, and one auto build as of
    2025-09-01 (users who came later are cold for it)."""
    base = tmp_path_factory.mktemp("recshop")
    paths = write_shop(generate_shop(n_users=1_500, seed=0), base / "shop")
    root = init_workspace(base / "ws")
    toml = root / "segmark.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[recommend]\n", SETTINGS, 1), encoding="utf-8")
    with open_workspace(root) as ws:
        for table in ("users", "items", "events"):
            ingest_file(ws, table, paths[table])
        build_features(ws)
        run_rfm(ws)
        build_recommendations(ws, as_of="2025-09-01")
    return root


@pytest.fixture
def ws(shop_root: Path, tmp_path: Path):
    root = tmp_path / "ws"
    shutil.copytree(shop_root, root)
    with open_workspace(root) as w:
        yield w


def test_build_publishes_lists_fallbacks_and_a_signed_model(ws) -> None:
    build = get_build(ws.store)
    assert build.requested == "auto" and build.selection["picked"] == build.method
    assert build.method in build.selection["candidates"]
    assert "recall@20" in build.reason
    recs = ws.store.query_df("SELECT * FROM recommendations")
    assert set(recs["run_id"]) == {build.run_id}
    users_before = ws.store.scalar("SELECT count(DISTINCT user_id) FROM events WHERE user_id IS NOT NULL AND "
                                   "item_id IS NOT NULL AND ts < ?", [build.as_of])
    assert recs["user_id"].nunique() == users_before == build.n_users
    ranks = recs.groupby("user_id")["rank"].agg(["min", "max", "size"])
    assert (ranks["min"] == 1).all() and (ranks["max"] == ranks["size"]).all() and (ranks["size"] <= 20).all()
    assert not recs.duplicated(["user_id", "item_id"]).any()
    ordered = recs.sort_values(["user_id", "rank"])
    assert (ordered.groupby("user_id")["score"].diff().dropna() <= 1e-9).all()
    shop = ws.store.query_df("SELECT * FROM recommendation_fallbacks WHERE segment_key IS NULL ORDER BY rank")
    assert len(shop) == 20
    stored = load_build_model(ws, build.run_id)
    assert stored["model"].name == build.method and len(stored["ids"].users) == build.n_users
    run = ws.store.query_rows("SELECT status FROM runs WHERE run_id = ?", [build.run_id])
    assert run == [("ok",)]


def test_bought_items_of_excluded_categories_never_come_back(ws) -> None:
    build = get_build(ws.store)
    rates = ws.store.query_df("SELECT * FROM recommend_repeat_rates WHERE run_id = ?", [build.run_id])
    excluded = set(rates.loc[~rates["allowed"] & rates["category"].notna(), "category"])
    back = ws.store.query_df(
        "SELECT count(*) AS n FROM recommendations r JOIN items i ON i.item_id = r.item_id JOIN (SELECT DISTINCT "
        "user_id, item_id FROM events WHERE event_type = 'purchase' AND ts < ?) b ON b.user_id = r.user_id AND "
        "b.item_id = r.item_id WHERE list_contains(?, i.category)", [build.as_of, sorted(excluded)])
    assert excluded and int(back["n"][0]) == 0


def test_top_items_answers_cold_users_with_their_segments_list(ws) -> None:
    build = get_build(ws.store)
    cold = ws.store.query_df(
        "SELECT m.user_id, s.key FROM segment_members m JOIN segments s ON s.segmentation_id = m.segmentation_id AND "
        "s.segment_id = m.segment_id WHERE m.segmentation_id = ? AND m.user_id NOT IN (SELECT user_id FROM "
        "recommendations) LIMIT 3", [build.segmentation_id])
    assert len(cold) == 3  # newcomers after 2025-09-01 are in the segmentation, not in the build
    warm = ws.store.scalar("SELECT min(user_id) FROM recommendations")
    out = top_items(ws.store, [cold["user_id"][0], warm, "never-seen"], 5)
    assert out["user_id"].drop_duplicates().tolist() == [cold["user_id"][0], warm, "never-seen"]
    lists = ws.store.query_df("SELECT segment_key, item_id, rank FROM recommendation_fallbacks WHERE rank <= 5")
    segment_list = lists[lists["segment_key"] == cold["key"][0]].sort_values("rank")["item_id"].tolist()
    shop_list = lists[lists["segment_key"].isna()].sort_values("rank")["item_id"].tolist()
    assert out[out["user_id"] == cold["user_id"][0]]["item_id"].tolist() == segment_list
    assert out[out["user_id"] == "never-seen"]["item_id"].tolist() == shop_list
    stored = ws.store.query_df("SELECT item_id FROM recommendations WHERE user_id = ? AND rank <= 5 ORDER BY rank",
                               [warm])
    assert out[out["user_id"] == warm]["item_id"].tolist() == stored["item_id"].tolist()
    with pytest.raises(ConfigError, match="list_length"):
        top_items(ws.store, [warm], 50)


def test_export_writes_the_same_lists(ws, tmp_path: Path) -> None:
    result = export_recommendations(ws, tmp_path / "recs.csv", k=3)
    df = pd.read_csv(tmp_path / "recs.csv", dtype={"user_id": str, "item_id": str})
    assert list(df.columns) == ["user_id", "item_id", "rank", "score"] and len(df) == result["rows"]
    expected = top_items(ws.store, None, 3)
    pd.testing.assert_frame_equal(df.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)


def test_export_for_an_audience_covers_its_treatment_arm(ws, tmp_path: Path) -> None:
    from segmark.pipeline.audience import create_audience

    create_audience(ws, "buyers", "frequency >= 1", holdout=0.2, seed=1)
    members = ws.store.query_df("SELECT m.user_id, m.arm FROM audience_members m JOIN audiences a ON "
                                "a.audience_id = m.audience_id WHERE a.name = 'buyers'")
    treated = set(members.loc[members["arm"] == "treatment", "user_id"])
    assert treated and len(treated) < len(members)
    result = export_recommendations(ws, tmp_path / "aud.csv", k=2, audience="buyers")
    df = pd.read_csv(tmp_path / "aud.csv", dtype={"user_id": str, "item_id": str})
    assert set(df["user_id"]) == treated and result["users"] == len(treated)  # cold members get fallbacks
    assert (df.groupby("user_id")["rank"].max() <= 2).all()
    with pytest.raises(NotFoundError):
        export_recommendations(ws, tmp_path / "x.csv", audience="nobody")


def test_a_changed_model_is_refused(ws) -> None:
    build = get_build(ws.store)
    ws.store.execute("UPDATE recommend_models SET model = model || '\\x00'::BLOB WHERE run_id = ?", [build.run_id])
    with pytest.raises(StoreError, match="not loaded"):
        load_build_model(ws, build.run_id)


def test_library_errors_name_the_parameters(ws) -> None:
    """A notebook's bad argument is named as passed (holdout_days=, ks=), with the flag beside it where
    the command line spells it differently; nothing is written."""
    before = ws.store.scalar("SELECT count(*) FROM runs")
    with pytest.raises(ConfigError, match=r"^ks takes positive numbers, e\.g\. \(10, 20\)$"):
        evaluate_recommendations(ws, ks=[0, 10])
    with pytest.raises(ConfigError) as info:
        evaluate_recommendations(ws, holdout="first-order")
    assert str(info.value) == ("holdout must be 'last-order', not 'first-order' "
                               "(or give holdout_days=N, or --holdout-days N)")
    with pytest.raises(ConfigError, match=r"^give holdout_days or holdout='last-order' \(--holdout-days"):
        evaluate_recommendations(ws, holdout_days=7, holdout="last-order")
    with pytest.raises(ConfigError, match=r"^holdout_days must be at least 1$"):
        evaluate_recommendations(ws, holdout_days=-1)
    with pytest.raises(ConfigError, match=r"^repurchase must be auto, allow or exclude, not 'never'$"):
        build_recommendations(ws, repurchase="never")
    assert ws.store.scalar("SELECT count(*) FROM runs") == before


def test_bad_options_write_nothing(ws) -> None:
    before = ws.store.scalar("SELECT count(*) FROM recommend_builds")
    with pytest.raises(ConfigError, match="repurchase='exclude'"):
        build_recommendations(ws, method="repeat", repurchase="exclude")
    with pytest.raises(ConfigError, match="unknown method"):
        build_recommendations(ws, method="magic")
    assert ws.store.scalar("SELECT count(*) FROM recommend_builds") == before


def test_cli_evaluate_user_similar_export(ws, tmp_path: Path) -> None:
    runner = CliRunner()
    root = str(ws.root)
    ws.close()
    res = runner.invoke(app, ["recommend", "evaluate", "--holdout-days", "14", "--json", "-w", root])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for name in ("popularity", "repeat", "item-knn", "als", "auto"):
        assert set(REQUIRED) <= set(out["methods"][name]), name
    assert out["auto"]["picked"] in out["methods"]
    assert out["methods"]["auto"] == out["methods"][out["auto"]["picked"]]
    segment = next(iter(out["by_segment"]))
    assert set(REQUIRED) <= set(out["by_segment"][segment]["item-knn"])
    users = sum(f["item-knn"]["users"] for f in out["by_segment"].values())
    assert users == out["methods"]["item-knn"]["users"] == out["users"]
    with open_workspace(root) as w:
        stored = w.store.query_df("SELECT DISTINCT build_run_id, kind FROM recommend_evaluations WHERE run_id = ?",
                                  [out["run_id"]])
        assert stored.to_dict("records") == [{"build_run_id": out["build_run_id"], "kind": "test"}]
        warm = w.store.scalar("SELECT min(user_id) FROM recommendations")
        item = w.store.scalar("SELECT item_id FROM recommendations WHERE user_id = ? AND rank = 1", [warm])
    res = runner.invoke(app, ["recommend", "user", warm, "--k", "4", "--json", "-w", root])
    assert res.exit_code == 0, res.output
    user = json.loads(res.stdout)
    assert [i["rank"] for i in user["items"]] == [1, 2, 3, 4] and user["items"][0]["item_id"] == item
    res = runner.invoke(app, ["recommend", "similar", item, "--k", "3", "--json", "-w", root])
    assert res.exit_code == 0, res.output
    similar = json.loads(res.stdout)
    assert 0 < len(similar["items"]) <= 3 and item not in [i["item_id"] for i in similar["items"]]
    res = runner.invoke(app, ["recommend", "similar", "no-such-item", "-w", root])
    assert res.exit_code == 1 and "no-such-item" in res.output
    res = runner.invoke(app, ["recommend", "export", "--out", str(tmp_path / "r.parquet"), "--k", "2", "-w", root])
    assert res.exit_code == 0, res.output
    assert pd.read_parquet(tmp_path / "r.parquet")["rank"].max() == 2
    res = runner.invoke(app, ["recommend", "user", warm, "--lang", "zh", "-w", root])
    assert res.exit_code == 0 and "推荐" in res.output


def test_report_section_shows_the_build_and_the_evaluation(ws) -> None:
    from segmark.pipeline.recommend import evaluate_recommendations
    from segmark.report.model import ReportData
    from segmark.report.sections import REGISTRY, CollectOptions
    from segmark.report.sections.recommend import RecommendSection

    assert any(isinstance(s, RecommendSection) for s in REGISTRY)
    section = RecommendSection()
    data = ReportData.__new__(ReportData)
    data.parts = {}
    section.collect(ws.store, data, CollectOptions())
    built = section.build(data, "en")
    assert [b.kind for b in built.blocks] == ["note", "missing"]  # a build, no evaluation yet
    result = evaluate_recommendations(ws, holdout_days=14)
    section.collect(ws.store, data, CollectOptions())
    for lang in ("en", "zh"):
        built = section.build(data, lang)
        charts = [b.chart for b in built.blocks if b.kind == "chart"]
        assert [c.key for c in charts] == ["recommend_methods", "recommend_segments"]
        assert all(c.reading for c in charts)
        table = next(b for b in built.blocks if b.kind == "table")
        assert len(table.rows) == len(result["methods"])
    recall = result["methods"]["auto"]["recall@20"]
    assert f"{recall:.1%}" in charts[0].reading  # the reading quotes the figure it shows
