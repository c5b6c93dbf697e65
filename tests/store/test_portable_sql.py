"""Every statement the steps pass to the store is shared SQL: it transpiles to Spark SQL with SQLGlot
and uses nothing only DuckDB has. The statements are the ones a real run issued (``tracing``), so
a step that starts sending DuckDB-only SQL fails here, whichever module it comes from."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Literal

import pandas as pd
import pytest

from segmark.demo import generate_shop, write_shop
from segmark.pipeline.audience import (
    audience_overlap,
    create_audience,
    export_audience,
    get_audience,
    list_audiences,
    preview_audience,
)
from segmark.pipeline.campaign import campaign_readout, fit_uplift
from segmark.pipeline.clv import fit_clv, predict_clv
from segmark.pipeline.features import (
    build_features,
    describe_features,
    export_features,
    get_feature_run,
    list_feature_runs,
    user_features,
)
from segmark.pipeline.forecast import forecast_revenue
from segmark.pipeline.ingest import ingest_file, ingest_frame
from segmark.pipeline.predict import explain_user as explain_prediction
from segmark.pipeline.predict import export_scores, latest_scores, score_model, train_model
from segmark.pipeline.recommend import (
    build_recommendations,
    evaluate_recommendations,
    export_recommendations,
    recommend_user,
    similar_items,
    top_items,
)
from segmark.pipeline.report import write_report
from segmark.pipeline.run import FlowInputs, run_flow
from segmark.pipeline.segments import (
    assign_users,
    candidates_table,
    explain_user,
    export_segments,
    get_segmentation,
    last_refused_clustering,
    list_segmentations,
    members,
    profile_table,
    run_rfm,
    segment_migration,
    segments_table,
)
from segmark.pipeline.status import quarantine_rows, workspace_status
from segmark.pipeline.tags import list_tags, user_tags_of
from segmark.store.dialect import java_datetime_pattern, portability_problems, transpile
from segmark.store.duckdb import DuckDBFunctions
from segmark.workspace import Workspace, init_workspace, open_workspace


class SharedSpelling(DuckDBFunctions):
    """The engine functions spelled in shared SQL: the key hash as the md5's hex text cast in two
    halves. DuckDB's own spelling (``md5_number``, bytes reversed) is engine SQL, as a Spark engine's
    would be; the traced runs use this one, so that what is checked is the SQL the steps write
    around it. Both give the same numbers (``test_the_shared_spelling_gives_the_engines_keys``)."""

    def hash_sql(self, text_sql: str, bits: Literal[64, 128]) -> str:
        if bits == 128:
            half = "CAST(CAST('0x' || substr(md5({}), {}, 16) AS UBIGINT) AS UHUGEINT)"
            return f"(({half.format(text_sql, 1)} << 64) | {half.format(text_sql, 17)})"
        return f"CAST('0x' || substr(md5({text_sql}), 1, 16) AS UBIGINT)"


def shared_spelling(ws: Workspace) -> Workspace:
    ws.store.functions = SharedSpelling()  # type: ignore[misc]
    return ws


STEPS = ["ingest users", "ingest items", "ingest events", "features", "segments rfm", "segments cluster",
         "tags", "report", "ingest with [ts] format", "ingest a frame", "reading and using"]
LATER_STEPS = ["predict", "recommend", "tags and audiences", "report of everything"]


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The statements of a full run on a small sample shop, by step, then those of every command
    that reads or uses what the run made."""
    tmp = tmp_path_factory.mktemp("portable")
    paths = write_shop(generate_shop(n_users=600, seed=2), tmp / "shop")
    by_step: dict[str, list[str]] = {}
    with open_workspace(init_workspace(tmp / "ws")) as ws, shared_spelling(ws).store.tracing() as statements:
        marks: list[tuple[str, int]] = []
        inputs = FlowInputs(events=paths["events"], users=paths["users"], items=paths["items"],
                            report=tmp / "report.html")
        _, state = run_flow(ws, inputs, on_step=lambda r: marks.append((r.name, len(statements)))
                            if r.status == "running" else None)
        assert "cluster" in state, "the sample shop must have segments, or the clustering's SQL is not traced"
        marks.append(("", len(statements)))
        for (name, start), (_, end) in pairwise(marks):
            by_step[name] = statements[start:end]

        # a mapping with strptime formats: the engine's own parse function, translated for Spark
        start = len(statements)
        formats = tmp / "formats.toml"
        formats.write_text('[ts]\nformat = ["%d/%m/%Y %H:%M", "%Y年%m月%d日 %I:%M %p"]\ntimezone = "Asia/Shanghai"\n',
                           encoding="utf-8")
        late = tmp / "late.csv"
        late.write_text("user_id,event_type,ts\nlate1,view,01/03/2024 10:00\nlate2,view,2024年03月02日 11:30 PM\n"
                        "late3,view,soon\n", encoding="utf-8")
        report = ingest_file(ws, "events", late, mapping=formats)
        assert (report.accepted, report.by_reason) == (2, {"unparseable_ts": 1})
        by_step["ingest with [ts] format"] = statements[start:]

        start = len(statements)
        ingest_frame(ws, "events", pd.DataFrame({"user_id": ["late4", "late5"], "event_type": ["view", "fly"],
                                                 "ts": ["2024-03-01 10:00", "2024-03-01 11:00"]}))
        by_step["ingest a frame"] = statements[start:]

        store = ws.store
        latest = get_feature_run(store)
        start = len(statements)
        describe_features(store)
        export_features(store, tmp / "f.parquet")
        list_feature_runs(store)
        user = str(members(store, state["rfm"].segmentation.segmentation_id).index[0])
        user_features(store, user)
        cluster = get_segmentation(store, kind="cluster")
        for seg in list_segmentations(store):
            segments_table(store, seg.segmentation_id)
            profile_table(store, seg.segmentation_id)
            candidates_table(store, seg.segmentation_id)
            explain_user(ws, user, seg.segmentation_id)
            export_segments(store, tmp / f"s{seg.segmentation_id}.csv", seg.segmentation_id)
        last_refused_clustering(store)
        earlier = build_features(ws, as_of=latest.as_of_local - timedelta(days=60))
        run_rfm(ws, feature_run_id=earlier.run_id)
        segment_migration(store)
        assign_users(ws, cluster.segmentation_id, only_new=True)
        workspace_status(store)
        quarantine_rows(store)
        write_report(ws, tmp / "again.html", "zh")
        by_step["reading and using"] = statements[start:]
    return by_step


@pytest.fixture(scope="module")
def traced_later(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The statements of the steps that run after the main job (predictions, recommendations, tags,
    audiences, campaigns) and of the report that then shows them all, on a smaller shop: the SQL is
    the same at any size, the model fits are not."""
    tmp = tmp_path_factory.mktemp("portable-later")
    paths = write_shop(generate_shop(n_users=250, seed=3), tmp / "shop")
    by_step: dict[str, list[str]] = {}
    with open_workspace(init_workspace(tmp / "ws")) as ws:
        shared_spelling(ws)
        run_flow(ws, FlowInputs(events=paths["events"], users=paths["users"], items=paths["items"],
                                report=tmp / "report.html"))
        store = ws.store
        as_of = get_feature_run(store).as_of_local
        with store.tracing() as statements:
            start = len(statements)
            train_model(ws, "churn", horizon_days=30, cv=2, candidates=["logistic"], n_origins=1)
            score_model(ws, "churn")
            explain_prediction(ws, "churn", str(latest_scores(store).index[0]))
            export_scores(ws, "churn", tmp / "churn.parquet")
            fit_clv(ws)
            predict_clv(ws, horizon_days=90)
            forecast_revenue(ws, weeks=4)
            by_step["predict"] = statements[start:]
            start = len(statements)
            evaluate_recommendations(ws, holdout_days=14, ks=(10,))
            build_recommendations(ws, method="item-knn")
            buyer = str(store.scalar("SELECT min(user_id) FROM events WHERE event_type = 'purchase'"))
            recommend_user(ws, buyer)
            similar_items(ws, str(store.scalar("SELECT min(item_id) FROM events WHERE item_id IS NOT NULL")))
            top_items(store, [buyer, "never-seen"], 5)
            export_recommendations(ws, tmp / "recs.csv", k=5)
            by_step["recommend"] = statements[start:]
            start = len(statements)
            list_tags(store)
            user_tags_of(ws, buyer)
            where = "churn_probability > 0.5 OR clv_decile >= 9 OR frequency >= 2"
            preview_audience(ws, where, holdout=0.5)
            create_audience(ws, "mixed", where, holdout=0.5, seed=1)
            create_audience(ws, "buyers", "frequency >= 1", holdout=0.5)
            get_audience(store, "mixed")
            list_audiences(store)
            audience_overlap(store)
            export_audience(ws, "mixed", tmp / "mixed.csv", min_size=1)
            since = as_of - timedelta(days=60)
            campaign_readout(ws, "buyers", since, as_of)
            fit_uplift(ws, "buyers", since, as_of, method="two-model")
            by_step["tags and audiences"] = statements[start:]
            start = len(statements)
            write_report(ws, tmp / "later.html", "en")
            by_step["report of everything"] = statements[start:]
    return by_step


@pytest.mark.parametrize("step", STEPS)
def test_every_statement_of_a_full_run_is_shared_sql(traced: dict[str, list[str]], step: str) -> None:
    _check_shared(traced[step], step)


@pytest.mark.parametrize("step", LATER_STEPS)
def test_every_statement_of_the_later_steps_is_shared_sql(traced_later: dict[str, list[str]], step: str) -> None:
    _check_shared(traced_later[step], step)


def _check_shared(statements: list[str], step: str) -> None:
    assert statements, f"{step} issued no statement through the store"
    problems = {sql: found for sql in dict.fromkeys(statements) if (found := portability_problems(sql))}
    assert not problems, "\n\n".join(f"{sql[:400]}\n  -> {'; '.join(p)}" for sql, p in problems.items())


def test_the_trace_holds_the_steps_real_statements(traced: dict[str, list[str]]) -> None:
    assert any("recency_days" in s and "monetary" in s for s in traced["features"])  # the composed query
    segments = traced["segments rfm"] + traced["segments cluster"]
    assert any(s.startswith("INSERT INTO segmentations") for s in segments)
    assert any("segment_members" in s for s in traced["reading and using"])
    assert any("try_strptime" in s for s in traced["ingest with [ts] format"])
    assert any(s.startswith("INSERT INTO") and "events" in s for s in traced["ingest a frame"])


def test_the_later_trace_holds_each_steps_statements(traced_later: dict[str, list[str]]) -> None:
    # frames go in through the engine's own insert (not shared SQL, not traced); what the steps read
    # and publish by query is traced
    def mentions(step: str, table: str) -> bool:
        return any(table in s for s in traced_later[step])
    assert mentions("predict", "prediction_scores") and mentions("predict", "clv_scores")
    assert mentions("recommend", "recommendations") and mentions("recommend", "recommend_builds")
    for table in ("audience_members", "campaign_readouts", "uplift_models", "user_tags"):
        assert mentions("tags and audiences", table), table
    for table in ("prediction_scores", "clv_scores", "forecasts", "recommend_evaluations", "audience_members",
                  "campaign_readouts", "uplift_models"):
        assert mentions("report of everything", table), table


def test_the_shared_spelling_gives_the_engines_keys(tmp_path: Path) -> None:
    texts = ["x", "id:1", "高价值用户", "表情 🛒", "", "u1\x1fview\x1f2024-01-01 10:00:00"]
    with open_workspace(init_workspace(tmp_path / "ws")) as ws:
        engine, shared = ws.store.functions, SharedSpelling()
        assert shared.hash_sql("t", 128) != engine.hash_sql("t", 128)
        for bits in (64, 128):
            both = f"{engine.hash_sql('t', bits)}, {shared.hash_sql('t', bits)}"
            sql = f"SELECT {both} FROM (SELECT CAST(? AS VARCHAR) AS t) f"
            for text in texts:
                a, b = ws.store.query_rows(sql, [text])[0]
                assert int(a) == int(b), (bits, text)


def test_strptime_formats_become_spark_patterns() -> None:
    """The patterns below were checked on Spark 4.3 (local, ANSI mode, session zone UTC): each parses
    the same texts to the same instants as DuckDB's strptime, 1-digit days and months included
    (``1/3/2024 9:05``), two-digit years by strptime's pivot (``85`` is 1985, ``68`` is 2068)."""
    sql = "SELECT try_strptime(c0, ['%d/%m/%Y %H:%M', '%Y年%m月%d日 %I:%M %p', '%Y-%m-%dT%H:%M:%S.%f%z'])"
    assert transpile(sql) == ["SELECT COALESCE(TRY_TO_TIMESTAMP(c0, 'd/M/yyyy H:m'), "
                              "TRY_TO_TIMESTAMP(c0, 'yyyy\\'年\\'M\\'月\\'d\\'日 \\'h:m a'), "
                              "TRY_TO_TIMESTAMP(c0, 'yyyy-M-d\\'T\\'H:m:s.SSSSSS[xxx][xx]'))"]
    # digit fields side by side keep their widths: the parser cannot tell where one ends
    assert java_datetime_pattern("%Y%m%d%H%M%S") == "yyyyMMddHHmmss"
    assert java_datetime_pattern("%-d %b %Y") == "d MMM yyyy"
    assert java_datetime_pattern("100%% %Y") == "100% yyyy"
    assert transpile("SELECT try_strptime(c0, '%m/%d/%y')") == [
        "SELECT CASE WHEN YEAR(TRY_TO_TIMESTAMP(c0, 'M/d/yy')) >= 2069 THEN TRY_TO_TIMESTAMP(c0, 'M/d/yy') "
        "- INTERVAL '100' YEAR ELSE TRY_TO_TIMESTAMP(c0, 'M/d/yy') END"]
    assert portability_problems("SELECT try_strptime(c0, '%U/%Y')") == [
        "not translatable to spark: strptime directive %U in '%U/%Y' has no Java date-time pattern"]
    # Spark refuses day names in parsing patterns
    assert portability_problems("SELECT try_strptime(c0, '%a %d/%m/%Y')") == [
        "not translatable to spark: strptime directive %a in '%a %d/%m/%Y' has no Java date-time pattern"]


def test_local_date_times_become_utc_on_spark() -> None:
    """``local AT TIME ZONE zone`` reads a local date-time as the zone's wall clock: Spark's
    to_utc_timestamp (SQLGlot alone writes from_utc_timestamp, which moves 10:00 in Shanghai to 18:00
    instead of 02:00); an instant's ``AT TIME ZONE 'UTC'`` stays from_utc_timestamp."""
    local = "SELECT (CAST((c0) AS TIMESTAMP) AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'UTC'"
    assert transpile(local) == [
        "SELECT FROM_UTC_TIMESTAMP((TO_UTC_TIMESTAMP(CAST((c0) AS TIMESTAMP_NTZ), 'Asia/Shanghai')), 'UTC')"]
    zoned = "SELECT (try_strptime(c0, '%Y-%m-%d %H:%M%z')) AT TIME ZONE 'UTC'"
    assert transpile(zoned) == ["SELECT FROM_UTC_TIMESTAMP((TRY_TO_TIMESTAMP(c0, 'yyyy-M-d H:m[xxx][xx]')), 'UTC')"]


@pytest.mark.parametrize(("sql", "problem"), [
    ("SELECT a, count(*) FROM t GROUP BY ALL", "GROUP BY ALL"),
    ("SELECT a FROM t ORDER BY ALL", "ORDER BY ALL"),
    ("SELECT * FROM t ORDER BY rowid", "rowid"),
    ("SELECT hash(user_id, ?) FROM t", "hash() is DuckDB-only"),
    ("SELECT md5_number(a) FROM t", "md5_number() is DuckDB-only"),
    ("SELECT struct_pack(a := 1)", "struct_pack() is DuckDB-only"),
    ("SELECT nextval('run_id_seq')", "nextval() is DuckDB-only"),
    ("SELECT * FROM t QUALIFY row_number() OVER (PARTITION BY a ORDER BY b) = 1", "QUALIFY"),
    ("INSERT OR REPLACE INTO t SELECT 1", "INSERT OR REPLACE"),
    ("SELECT 1 FROM information_schema.columns WHERE table_name = ?", "information_schema"),
    ("SELECT frobnicate(a) FROM t", "frobnicate() is unknown to SQLGlot"),
    ("SELECT FROM WHERE", "cannot parse"),
])
def test_duckdb_only_sql_is_caught(sql: str, problem: str) -> None:
    found = portability_problems(sql)
    assert any(problem in p for p in found), found


@pytest.mark.parametrize("sql", [
    "SELECT user_id, count(*) FILTER (WHERE event_type = 'purchase') AS n FROM events WHERE ts < ? GROUP BY 1",
    "SELECT m.user_id, row_number() OVER (PARTITION BY segment_id ORDER BY md5(user_id || ?)) AS rn "
    "FROM segment_members m",
    "WITH q(segment_id, quota) AS (VALUES (0, 2), (1, 3)) SELECT * FROM q",
    "SELECT arg_min(category, ts), epoch(ts) FROM events GROUP BY user_id",
    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
])
def test_portable_sql_passes(sql: str) -> None:
    assert portability_problems(sql) == []


def test_functions_spark_lacks_are_rewritten() -> None:
    """SQLGlot passes regexp_full_match through and writes json_object in DuckDB's form; Spark has
    neither. With these rewrites the plan's default timestamp reading (ISO, slashed, 年月日, compact,
    offsets, zone names and abbreviations, unix seconds and milliseconds) in an Asia/Shanghai
    workspace gave the same instants on Spark 4.3 as on DuckDB for 15 texts."""
    assert transpile("SELECT regexp_full_match(v, '[0-9]{8}|[0-9]{14}')") == [
        "SELECT v RLIKE '^(?:[0-9]{8}|[0-9]{14})$'"]
    assert transpile("SELECT json_object('用户', c0, 'ts', c1)") == [
        "SELECT TO_JSON(NAMED_STRUCT('用户', c0, 'ts', c1))"]
