"""The catalog as a whole: headers against SQL, Spark transpilation, the generated docs, describe,
export and the command line."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlglot
from typer.testing import CliRunner

from segmark.cli import app
from segmark.config import CustomFeature
from segmark.errors import NotFoundError
from segmark.features import BuildParams, category_columns, compose, families
from segmark.features.catalog import parse_family
from segmark.features.docs import render_markdown
from segmark.pipeline.features import (
    build_features,
    describe_features,
    export_features,
    load_features,
    user_features,
)
from segmark.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]

PARAMS = BuildParams(
    as_of=datetime(2024, 3, 1), timezone="Asia/Shanghai", windows=(7, 30), top_categories=("女装", "Home & Garden"),
    custom={"big_share": CustomFeature(sql="avg(CASE WHEN amount > 100 THEN 1 ELSE 0 END) "
                                           "FILTER (WHERE event_type = 'purchase')")},
)


def test_the_composed_query_transpiles_to_spark_sql() -> None:
    query = compose(PARAMS)
    spark = query.to_dialect("spark")  # raises on anything SQLGlot cannot express in Spark
    # DuckDB-only spellings are gone, Spark's are there, and the result parses as Spark SQL
    assert "EPOCH(" not in spark.upper()
    assert "UNIX_TIMESTAMP(" in spark.upper()
    assert "+ 28800" in spark                       # the shop's zone: Shanghai is UTC+8 all year
    assert "MATERIALIZED" not in spark.upper()      # DuckDB's planning hint is DuckDB's only
    assert "MIN_BY(" in spark.upper()               # DuckDB arg_min
    assert "`cat_share__女装`" in spark
    assert "`spend_share__女装`" in spark and "`spend_share__home_garden`" in spark
    assert "`preferred_weekday`" in spark and "`preferred_weekday_band`" in spark
    parsed = sqlglot.parse_one(spark, read="spark")
    assert [s.alias_or_name for s in parsed.selects][:3] == ["user_id", "recency_days", "recency_visit_days"]


def test_every_declared_column_is_produced_once_in_catalog_order() -> None:
    query = compose(PARAMS)
    tree = sqlglot.parse_one(query.sql, read="duckdb")
    names = [s.alias_or_name for s in tree.selects]
    assert names == ["user_id", *(c.name for c in query.columns)]
    assert len(set(names)) == len(names)
    # templates expand per window and per top category
    assert [c.name for c in query.columns if c.template == "views_{W}d"] == ["views_7d", "views_30d"]
    assert [c.name for c in query.columns if c.template == "cat_share__{category}"] == [
        "cat_share__女装", "cat_share__home_garden"]
    assert [c.name for c in query.columns if c.template == "spend_share__{category}"] == [
        "spend_share__女装", "spend_share__home_garden"]


def test_the_families_and_their_headers() -> None:
    assert [f.name for f in families()] == ["rfm", "activity", "funnel", "preference", "time", "attributes"]
    for f in families():
        assert f.purpose and f.grain
        for c in f.columns:
            assert c.unit or c.kind == "text", c.name
            assert c.label_zh and c.description, c.name


def test_a_malformed_header_is_reported_with_its_file() -> None:
    with pytest.raises(ValueError, match=r"x\.sql:3: a column line"):
        parse_family("-- family: x\n-- purpose: p\n-- column: a | weird | u | 中 | d\n", "x.sql")
    with pytest.raises(ValueError, match=r"x\.sql: the header needs"):
        parse_family("-- family: x\nSELECT 1", "x.sql")


def test_category_column_names_are_identifiers_and_unique() -> None:
    assert category_columns(["Home & Garden", "home-garden", "女装/童装", "  "]) == [
        ("cat_share__home_garden", "Home & Garden"),
        ("cat_share__home_garden_2", "home-garden"),
        ("cat_share__女装_童装", "女装/童装"),
        ("cat_share__blank", "  "),
    ]
    assert category_columns(["Home & Garden", "home-garden"], prefix="spend_share__") == [
        ("spend_share__home_garden", "Home & Garden"),
        ("spend_share__home_garden_2", "home-garden"),
    ]


def test_docs_features_md_is_generated_from_the_definitions() -> None:
    on_disk = (REPO / "docs" / "features.md").read_text(encoding="utf-8")
    assert on_disk == render_markdown(), "run: python -m segmark.features.docs > docs/features.md"
    for f in families():
        for c in f.columns:
            assert f"`{c.name}`" in on_disk


@pytest.fixture
def small_shop(ws: Workspace, add_events, add_users) -> Workspace:
    add_events(ws, [
        ("u1", "purchase", "2024-02-01 10:00", "i1", "女装", 100, 1, 100, "o1"),
        ("u1", "purchase", "2024-02-10 10:00", "i2", "女装", 40, 1, 40, "o2"),
        ("u2", "purchase", "2024-02-05 10:00", "i1", "鞋", 60, 1, 60, "o3"),
        ("u2", "view", "2024-02-06 10:00", "i1", "鞋"),
        ("u3", "view", "2024-02-07 10:00", "i1", "鞋"),
    ])
    add_users(ws, [dict(user_id="u1", gender="female", age=30, city="杭州"),
                   dict(user_id="u4", gender="female", age=70)])
    return ws


def test_describe_gives_meaning_unit_and_distribution(small_shop: Workspace) -> None:
    build_features(small_shop, as_of="2024-03-01")
    run, table = describe_features(small_shop.store)
    by_name = table.set_index("name")
    assert list(by_name.index) == [c.name for c in run.columns]
    monetary = by_name.loc["monetary"]
    # monetary of u1..u4: 140, 60, 0, 0
    assert (monetary["unit"], monetary["label_zh"]) == ("currency", "净消费金额")
    assert monetary["count"] == 4 and monetary["missing_share"] == 0
    assert monetary["mean"] == pytest.approx(50.0)
    assert (monetary["min"], monetary["median"], monetary["max"]) == (0.0, 30.0, 140.0)
    # recency: u1 bought 2024-02-10 10:00 (20 days before 03-01, less 10 h), u2 2024-02-05 10:00
    # (25 days less 10 h); u3, u4 never bought
    recency = by_name.loc["recency_days"]
    assert recency["count"] == 2 and recency["missing_share"] == 0.5
    assert recency["mean"] == pytest.approx((20 - 10 / 24 + 25 - 10 / 24) / 2)
    gender = by_name.loc["gender"]
    assert (gender["top"], gender["top_share"], gender["count"]) == ("female", 1.0, 2)
    assert math.isnan(gender["mean"]) if isinstance(gender["mean"], float) else gender["mean"] is None


def test_export_round_trips_csv_and_parquet(small_shop: Workspace, tmp_path: Path) -> None:
    build_features(small_shop, as_of="2024-03-01")
    _, df = load_features(small_shop.store)
    export_features(small_shop.store, tmp_path / "f.parquet")
    export_features(small_shop.store, tmp_path / "f.csv")
    from_parquet = pd.read_parquet(tmp_path / "f.parquet").set_index("user_id")
    from_csv = pd.read_csv(tmp_path / "f.csv", encoding="utf-8").set_index("user_id")
    assert list(from_parquet.index) == list(df.index) == ["u1", "u2", "u3", "u4"]
    assert from_parquet["monetary"].tolist() == df["monetary"].tolist() == [140.0, 60.0, 0.0, 0.0]
    assert from_csv["frequency"].tolist() == [2, 1, 0, 0]
    assert from_csv.at["u1", "city"] == "杭州"
    assert from_csv.at["u4", "age_band"] == "senior"


def test_age_band_labels_follow_the_workspace_language(small_shop: Workspace, with_settings) -> None:
    zh = with_settings(small_shop, lang="zh")
    df = load_features(zh.store, build_features(zh, as_of="2024-03-01").run_id)[1]
    assert df.at["u1", "age_band"] == "青年"
    assert df.at["u4", "age_band"] == "老年"
    bands = with_settings(small_shop, features={"age_bands": [
        {"min": 0, "en": "young", "zh": "年轻"}, {"min": 65, "en": "old", "zh": "年长"}]})
    df = load_features(bands.store, build_features(bands, as_of="2024-03-01").run_id)[1]
    assert (df.at["u1", "age_band"], df.at["u4", "age_band"]) == ("young", "old")


def test_an_unknown_user_is_not_found(small_shop: Workspace) -> None:
    run = build_features(small_shop, as_of="2024-03-01")
    with pytest.raises(NotFoundError, match=r"user 'u9' is not in feature build \d+"):
        user_features(small_shop.store, "u9", run.run_id)
    assert user_features(small_shop.store, "u1", run.run_id)[1]["frequency"] == 2


def test_the_command_line(small_shop: Workspace, tmp_path: Path) -> None:
    root = str(small_shop.root)
    small_shop.close()  # the commands open the workspace themselves
    runner = CliRunner()

    built = runner.invoke(app, ["features", "build", "--as-of", "2024-03-01", "--json", "-w", root])
    assert built.exit_code == 0, built.output
    info = json.loads(built.stdout)
    assert (info["users"], info["as_of"]) == (4, "2024-03-01T00:00:00+00:00")  # ISO 8601, offset

    shown = runner.invoke(app, ["features", "show", "u1", "--json", "-w", root])
    assert shown.exit_code == 0, shown.output
    values = json.loads(shown.stdout)["features"]
    assert (values["frequency"], values["monetary"], values["city"]) == (2, 140.0, "杭州")
    assert values["recency_days"] == pytest.approx(20 - 10 / 24)

    table = runner.invoke(app, ["features", "show", "u1", "-w", root], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "monetary net spend" in table.stdout  # the name, then its label
    assert "recency_visit_days days since last visit" in table.stdout
    zh = runner.invoke(app, ["features", "show", "u1", "--lang", "zh", "-w", root], env={"COLUMNS": "200"})
    assert "monetary 净消费金额" in zh.stdout
    described = runner.invoke(app, ["features", "describe", "-w", root], env={"COLUMNS": "250"})
    assert described.exit_code == 0 and "net spend" in described.stdout

    missing = runner.invoke(app, ["features", "show", "nobody", "-w", root])
    assert missing.exit_code == 1
    assert missing.stdout == ""
    # one line on stderr, naming the user and the build; no traceback
    assert missing.stderr == "error: user 'nobody' is not in feature build 1 (as of 2024-03-01 00:00:00)\n"

    out = tmp_path / "out.csv"
    exported = runner.invoke(app, ["features", "export", "--out", str(out), "-w", root])
    assert exported.exit_code == 0, exported.output
    assert len(pd.read_csv(out)) == 4

    described = runner.invoke(app, ["features", "describe", "--family", "rfm", "--json", "-w", root])
    assert described.exit_code == 0, described.output
    names = [f["name"] for f in json.loads(described.stdout)["features"]]
    assert names[:3] == ["recency_days", "recency_visit_days", "frequency"]

    runs = runner.invoke(app, ["features", "runs", "--json", "-w", root])
    assert [r["users"] for r in json.loads(runs.stdout)] == [4]

    bad = runner.invoke(app, ["features", "build", "--windows", "7,x", "-w", root])
    assert bad.exit_code != 0 and "--windows" in bad.output
