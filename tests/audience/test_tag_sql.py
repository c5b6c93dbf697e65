"""SQL tags are untrusted text: every way out of the workspace's data (files, the environment,
settings, the catalogue, other databases, other statements) is refused with what was refused and
its line and column in the tag file, the store untouched; legitimate queries (joins, CTEs, windows,
aggregates over events, users, features and scores) give the values worked out by hand on the
hand-made shop (see conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.audience.conftest import write_scores

from segmark.core.tags import TagSqlError, check_tag_sql, parse_tag_file
from segmark.core.tags.spec import locate
from segmark.errors import ConfigError
from segmark.pipeline.tags import apply_tags
from segmark.store.dialect import portability_problems

SECRET_ENV = "SEGMARK_TAG_SQL_TEST_SECRET"
HEAD = "version: 1\ngroups:\n  - group: g\n    tags:\n      - tag: t\n        kind: sql\n        sql: |\n"
"""A tag file whose SQL starts on line 8, column 11 (a literal block indented by 10)."""


def _tag_file(tmp_path: Path, sql: str) -> Path:
    path = tmp_path / "tags.yaml"
    path.write_text(HEAD + "".join(f"          {line}\n" for line in sql.split("\n")), encoding="utf-8")
    return path


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What an attack would reach: a CSV file in the working folder (DuckDB reads ``FROM 'x.csv'`` as
    that file) holding a real user id, so an attack that got through would tag u1; and an environment
    variable (``getenv`` is DuckDB's shell's, not this client's, but the check does not depend on that)."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    (folder / "secret.csv").write_text("user_id,password\nu1,hunter2\n", encoding="utf-8")
    monkeypatch.chdir(folder)
    monkeypatch.setenv(SECRET_ENV, "u1")
    return folder


ATTACKS = [
    # (sql, words in the error, the text the reported position must point at)
    ("SELECT user_id, password AS value FROM read_csv('secret.csv')", "refused function read_csv() as a table",
     "read_csv("),
    ("SELECT user_id, password AS value FROM 'secret.csv'", "refused the table 'secret.csv'", "'secret.csv'"),
    ('SELECT user_id FROM "secret.csv"', "refused the table 'secret.csv'", '"secret.csv"'),
    ("SELECT user_id FROM users\nWHERE user_id IN (SELECT user_id FROM 'secret.csv')", "refused the table 'secret.csv'",
     "'secret.csv')"),
    ("SELECT * FROM (WITH \"secret.csv\" AS (SELECT 'u9' AS user_id) SELECT 1) a,\n  \"secret.csv\" b",
     "refused the table 'secret.csv'", '"secret.csv" b'),
    (f"SELECT getenv('{SECRET_ENV}') AS user_id", "refused function getenv()", "getenv("),
    (f"SELECT '{SECRET_ENV}'.getenv() AS user_id", "refused function getenv() (called as a method)",
     f"'{SECRET_ENV}'"),
    ("SELECT user_id, current_setting('home_directory') AS value FROM users", "refused function current_setting()",
     "current_setting("),
    ("SELECT 'u1' AS user_id, value FROM duckdb_settings()", "refused function duckdb_settings() as a table",
     "duckdb_settings()"),
    ("SELECT 'u1' AS user_id, table_name AS value\nFROM information_schema.tables",
     "refused the table information_schema.tables", "information_schema"),
    ("SELECT 'u1' AS user_id FROM other.main.events", "refused the table other.main.events", "other.main"),
    ("SELECT user_id FROM runs", "refused the table 'runs': a tag's SQL may read clv_scores, events, features",
     "runs"),
    ("ATTACH 'other.duckdb' AS other", "one SELECT expected, not ATTACH", "ATTACH"),
    ("SELECT user_id FROM users; DROP TABLE events", "one SELECT expected, found 2 statements", "; DROP"),
    ("SELECT user_id FROM users;\nCOPY events TO 'out.csv'", "found 2 statements", ";\n"),
    ("SELECT user_id FROM users WHERE signup_date < now()", "refused function now()", "now()"),
    ("SELECT user_id FROM users WHERE random() < 0.5", "refused function random()", "random()"),
    ('SELECT user_id FROM users WHERE signup_date < "current_date"', "refused current_date without a table",
     '"current_date"'),
    ('SELECT user_id, "current_catalog" AS value FROM users', "refused current_catalog without a table",
     '"current_catalog"'),
    ("SELECT user_id, user AS value FROM users", "refused user without a table", "user AS"),
    ("SELECT user_id FROM events TABLESAMPLE 50%", "refused TABLESAMPLE", "50"),
    ("SELECT user_id FROM users WHERE user_id = ?", "refused a parameter", "?"),
    ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT 'u1' AS user_id FROM n",
     "refused WITH RECURSIVE", "n(i)"),
    ("SELECT user_id FROM events WHERE ts < '{as_of}'", "write {as_of} without quotes", "'{as_of}'"),
    ("SELECT user_id FROM users WHERE", "not valid SQL", None),
]


@pytest.mark.parametrize(("sql", "words", "at"), ATTACKS, ids=[a[1][:40] for a in ATTACKS])
def test_attacks_are_refused_with_what_and_where(hand_ws, tmp_path: Path, secrets: Path, sql: str, words: str,
                                                 at: str | None) -> None:
    path = _tag_file(tmp_path, sql)
    events = hand_ws.store.scalar("SELECT count(*) FROM events")
    ok_runs = hand_ws.store.scalar("SELECT count(*) FROM runs WHERE status = 'ok'")
    with pytest.raises(ConfigError) as info:
        apply_tags(hand_ws, path)
    message = str(info.value)
    assert words in message
    assert "tag 't'" in message
    if at is not None:  # the line and column of the refused text in the tag file
        offset = sql.index(at)
        line = 8 + sql[:offset].count("\n")
        column = 11 + offset - (sql.rfind("\n", 0, offset) + 1)
        assert f"{path}, line {line}, column {column}:" in message, message
    else:
        assert f"{path}, line 8" in message
    # nothing was written, nothing was dropped or copied, the secrets were not read
    assert hand_ws.store.scalar("SELECT count(*) FROM user_tags") == 0
    assert hand_ws.store.scalar("SELECT count(*) FROM events") == events
    assert hand_ws.store.scalar("SELECT count(*) FROM runs WHERE status = 'ok'") == ok_runs
    assert not (secrets / "out.csv").exists()
    assert [p.name for p in secrets.iterdir()] == ["secret.csv"]


def test_the_attack_files_are_really_there(hand_ws, secrets: Path) -> None:
    """The attacks above are not refused because their targets are missing: unchecked, the engine
    reads the CSV by its bare name, the settings and the catalogue."""
    assert hand_ws.store.query_rows("SELECT user_id, password FROM 'secret.csv'") == [("u1", "hunter2")]
    assert hand_ws.store.query_rows("SELECT * FROM read_csv('secret.csv')") == [("u1", "hunter2")]
    assert hand_ws.store.scalar("SELECT current_setting('threads')") >= 1
    assert hand_ws.store.scalar('SELECT "current_catalog" FROM users LIMIT 1') == "segmark"  # the file's name
    assert hand_ws.store.scalar("SELECT count(*) FROM duckdb_settings()") > 10
    assert hand_ws.store.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'runs'") == 1


def _tagged(ws, run_id: int, tag: str) -> dict[str, str]:
    return dict(ws.store.query_rows("SELECT user_id, value FROM user_tags WHERE run_id = ? AND tag = ? "
                                    "ORDER BY user_id", [run_id, tag]))


LEGIT = """\
version: 1
groups:
  - group: g
    tags:
      - tag: big_city_spender       # a CTE joined to users; the reason built from the aggregate
        kind: sql
        sql: >
          WITH spend AS (
            SELECT user_id, sum(amount) AS total FROM events
            WHERE event_type = 'purchase' AND ts < {as_of} GROUP BY user_id)
          SELECT s.user_id, u.city AS value, 'spent ' || CAST(CAST(s.total AS INTEGER) AS VARCHAR) AS reason
          FROM spend s JOIN users u USING (user_id) WHERE s.total >= 100;
      - tag: last_category_7d      # a window: each user's latest category in the 7 days before as_of
        kind: sql
        sql: |
          SELECT user_id, category AS value FROM (
            SELECT user_id, category,
                   row_number() OVER (PARTITION BY user_id ORDER BY ts DESC) AS rn
            FROM events
            WHERE ts < {as_of} AND ts >= {as_of} - INTERVAL 7 DAY) t
          WHERE rn = 1
      - tag: repeat_buyer          # the build's features
        kind: sql
        sql: "SELECT user_id, CASE WHEN frequency >= 2 THEN 'repeat' ELSE 'once' END AS value
          FROM features WHERE frequency >= 1"
      - tag: many_categories       # HAVING count(DISTINCT ...) and a UNION; a comment is dropped, not run
        kind: sql
        sql: |
          SELECT user_id, 'multi' AS value FROM events WHERE ts < {as_of}
          GROUP BY user_id HAVING count(DISTINCT category) >= 2
          UNION SELECT user_id, 'multi' FROM users WHERE city = '深圳' -- */ ; DROP TABLE events; /*
      - tag: churn_top             # the latest scoring run, joined to the build's features
        kind: sql
        sql: >
          SELECT p.user_id, 'top' AS value FROM prediction_scores p JOIN features f ON f.user_id = p.user_id
          WHERE p.model_name = 'churn' AND p.decile >= 8 AND f.frequency >= 1
          AND p.run_id = (SELECT max(run_id) FROM prediction_scores WHERE model_name = 'churn')
      - tag: rfm_key               # segments, as the model tag reads them
        kind: sql
        sql: >
          SELECT m.user_id, s.key AS value FROM segment_members m
          JOIN segments s ON s.segmentation_id = m.segmentation_id AND s.segment_id = m.segment_id
"""


def test_legitimate_queries_give_the_values_worked_out_by_hand(hand_ws, tmp_path: Path) -> None:
    write_scores(hand_ws, "churn", [("u1", 0.9, 10), ("u2", 0.2, 1), ("u6", 0.7, 8)], run_id=500)
    write_scores(hand_ws, "churn", [("u1", 0.1, 1), ("u2", 0.8, 9), ("u6", 0.75, 9), ("u3", 0.95, 10)], run_id=600)
    path = tmp_path / "tags.yaml"
    path.write_text(LEGIT, encoding="utf-8")
    events = hand_ws.store.scalar("SELECT count(*) FROM events")
    run = apply_tags(hand_ws, path)
    r = run.run_id
    # purchases before 2025-03-01: u1 120, u2 80, u5 30, u6 200 + 150
    assert _tagged(hand_ws, r, "big_city_spender") == {"u1": "上海", "u6": "北京"}
    assert dict(hand_ws.store.query_rows("SELECT user_id, evidence FROM user_tags WHERE run_id = ? AND tag = ?",
                                         [r, "big_city_spender"])) == {"u1": "spent 120", "u6": "spent 350"}
    # events from 02-22 00:00 to before 03-01: u2's last is 食品 on 02-25, u5's 图书 on 02-28; u4 (01-15)
    # and u6 (02-01) have none
    assert _tagged(hand_ws, r, "last_category_7d") == {"u1": "美妆", "u2": "食品", "u3": "家居", "u5": "图书",
                                                       "u7": "美妆", "u8": "美妆"}
    # orders: u1 o1, u2 o2, u5 o3, u6 o4 and o5
    assert _tagged(hand_ws, r, "repeat_buyer") == {"u1": "once", "u2": "once", "u5": "once", "u6": "repeat"}
    # two categories: u2 (服装, 食品), u5 (数码, 图书); u5 is also the one user in 深圳
    assert _tagged(hand_ws, r, "many_categories") == {"u2": "multi", "u5": "multi"}
    # run 600 is the latest: deciles >= 8 for u2, u6 and u3, but u3 never bought
    assert _tagged(hand_ws, r, "churn_top") == {"u2": "top", "u6": "top"}
    keys = dict(hand_ws.store.query_rows(
        "SELECT m.user_id, s.key FROM segment_members m JOIN segments s USING (segmentation_id, segment_id)"))
    assert _tagged(hand_ws, r, "rfm_key") == keys and len(keys) == 8
    assert hand_ws.store.scalar("SELECT count(*) FROM events") == events


TABLES = {"events": "events", "users": "users", "prediction_scores": "prediction_scores",
          "segments": "segments", "segment_members": "segment_members", "features": "features_run_3"}


def test_the_sql_that_runs_is_regenerated_and_portable() -> None:
    for tag in parse_tag_file(LEGIT).tags:
        checked = check_tag_sql(tag.settings["sql"], TABLES)
        assert "--" not in checked.sql and "DROP" not in checked.sql
        assert checked.n_params == tag.settings["sql"].count("{as_of}")
        assert checked.sql.count("CAST(? AS TIMESTAMP)") == checked.n_params
        assert portability_problems(checked.sql) == [], checked.sql
    checked = check_tag_sql("SELECT f.user_id FROM features f JOIN features g USING (user_id), features", TABLES)
    assert checked.sql == ("SELECT f.user_id FROM features_run_3 AS f JOIN features_run_3 AS g USING (user_id), "
                           "features_run_3 AS features")


@pytest.mark.parametrize(("sql", "ok"), [
    ("WITH a AS (SELECT user_id FROM events), b AS (SELECT user_id FROM a) SELECT user_id FROM b", True),
    ("WITH a AS (SELECT 1 AS user_id) SELECT user_id FROM a UNION SELECT user_id FROM a", True),
    ("SELECT user_id FROM (WITH a AS (SELECT user_id FROM users) SELECT user_id FROM a) x", True),
    # a CTE is not visible before it is defined, nor outside the query that defines it
    ("WITH b AS (SELECT user_id FROM a), a AS (SELECT user_id FROM events) SELECT user_id FROM b", False),
    ("SELECT x.user_id FROM (WITH a AS (SELECT user_id FROM users) SELECT user_id FROM a) x, a", False),
    ("WITH a AS (SELECT user_id FROM a) SELECT user_id FROM a", False),
])
def test_cte_names_count_only_where_they_are_in_scope(sql: str, ok: bool) -> None:
    if ok:
        assert check_tag_sql(sql, TABLES).sql
    else:
        with pytest.raises(TagSqlError, match="refused the table 'a'"):
            check_tag_sql(sql, TABLES)


def test_positions_map_back_to_the_tag_file_in_every_scalar_style() -> None:
    text = ("version: 1\ngroups:\n  - group: g\n    tags:\n"
            "      - {tag: a, kind: sql, sql: \"SELECT {as_of}, getenv('x') AS user_id\"}\n"
            "      - tag: b\n        kind: sql\n        sql: >\n          SELECT user_id\n"
            "            FROM events, read_csv('x')\n")
    lines = text.split("\n")
    for tag, needle in (("a", "getenv"), ("b", "read_csv")):
        spec = parse_tag_file(text).by_name()[tag]
        with pytest.raises(TagSqlError) as info:
            check_tag_sql(spec.settings["sql"], TABLES)
        where = locate(spec.settings["sql_source"], spec.settings["sql"], info.value.offset)
        assert lines[where.line - 1][where.column - 1:].startswith(needle), (tag, where)
