"""The audience expression language: what parses, what binds to which SQL and parameters, and every
refusal with its position — injection attempts, malformed and ambiguous input — leaving the store
as it was."""

from __future__ import annotations

import hashlib

import pytest

from segmark.core.audience.expression import ExpressionError, parse
from segmark.core.audience.plan import Catalog, Field, compile_expression
from segmark.pipeline.audience import AudienceError, create_audience, preview_audience

SEGMENTS = {"at_risk": "at_risk", "At Risk": "at_risk", "流失风险用户": "at_risk",
            "champions": "champions", "Champions": "champions", "冠军用户": "champions"}
CATALOG = Catalog.of([
    Field("age", "feature", "number", 'f."age"', "features"),
    Field("city", "feature", "text", 'f."city"', "features"),
    Field("cat_share__美妆", "feature", "number", 'f."cat_share__美妆"', "features"),
    Field("age_band", "feature", "text", 'f."age_band"', "features"),
    Field("segment", "segment", "text", 'seg."key"', "segment", values=SEGMENTS),
    Field("age_band", "tag", "text", 't0."value"', "tag:age_band"),
    Field("value_tier", "tag", "text", 't1."value"', "tag:value_tier",
          values={"高价值": "高价值", "high value": "高价值", "低价值": "低价值"}),
], unscored={"churn_probability": "the churn model has not been scored"})


def err(expression: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        compile_expression(expression, CATALOG)
    return info.value


def test_binds_values_as_parameters_and_names_from_the_catalogue() -> None:
    p = compile_expression("age >= 18 AND (city IN ('上海', '北京') OR NOT segment = '冠军用户')", CATALOG)
    assert p.where == '((f."age" >= ?) AND ((f."city" IN (?, ?)) OR (NOT (seg."key" = ?))))'
    assert p.params == (18, "上海", "北京", "champions")  # a segment's Chinese name binds as its key
    assert p.sources == ("features", "segment")


def test_every_form_of_condition() -> None:
    p = compile_expression("age BETWEEN 18 AND 34 AND city IS NOT NULL AND segment NOT IN ('At Risk') AND "
                           "has_tag('value_tier', 'high value') AND tag.age_band = '青年' AND age <> 40 AND "
                           "feature.age_band != 'senior' and -1 < age", CATALOG)
    assert p.params == (18, 34, "at_risk", "高价值", "青年", 40, "senior", -1)
    assert "NOT IN" in p.where and "BETWEEN ? AND ?" in p.where and "IS NOT NULL" in p.where
    assert set(p.sources) == {"features", "segment", "tag:value_tier", "tag:age_band"}


def test_keywords_are_case_insensitive_and_names_may_be_unicode() -> None:
    p = compile_expression("cat_share__美妆 > 0.3 and not (city = '上海')", CATALOG)
    assert p.params == (0.3, "上海")
    assert compile_expression("`age` > 3", CATALOG).where == '(f."age" > ?)'


def test_quotes_inside_text_are_data() -> None:
    p = compile_expression("city = 'x'' OR ''1''=''1'", CATALOG)
    assert p.params == ("x' OR '1'='1",)
    assert p.where == '(f."city" = ?)'


@pytest.mark.parametrize(("expression", "position", "words"), [
    ("1=1; DROP TABLE events", 4, "unexpected character ';'"),
    ("age > 3; DELETE FROM users", 8, "';'"),
    ("age > 3 -- comment", 9, "unexpected '-'"),
    ("age > 3 /* comment */", 9, "unexpected character '/'"),
    ("city = \"上海\"", 8, "single quotes"),
    ("city = 'unterminated", 8, "unexpected character"),
    ("age > 3) OR (1 = 1", 8, "unexpected ')'"),
    ("(age > 3", 9, "ends too early"),
    ("age >", 6, "ends too early"),
    ("", None, "empty"),
    ("age ＞ 30", 5, "full-width"),
    ("age > 30 AND", 13, "ends too early"),
    ("1 < age < 5", 9, "compare one pair at a time"),
    ("SELECT * FROM events", 8, "unexpected character '*'"),
    ("age > 1 UNION SELECT 1", 9, "not SQL"),
    ("age > 1 AND age < 5 OR city = 'x'", 21, "AND and OR are mixed without parentheses"),
    ("city = 'x' OR age > 1 AND age < 5", 12, "AND and OR are mixed without parentheses"),
    ("age", 4, "ends too early"),
])
def test_malformed_and_ambiguous_syntax_is_refused_with_the_position(expression: str, position: int | None,
                                                                      words: str) -> None:
    e = err(expression)
    assert e.position == position
    assert words in str(e)
    if position is not None:  # the caret points at the position
        lines = str(e).splitlines()
        assert lines[-1].index("^") - 2 == position - 1


@pytest.mark.parametrize(("expression", "position", "words"), [
    ("agee > 3", 1, "did you mean age"),
    ("age > 'thirty'", 7, "age is a number, not text"),
    ("city > 'a'", 8, "only =, != and IN"),
    ("city = 3", 8, "city is text, not a number"),
    ("age_band = '青年'", 1, "(write feature.age_band or tag.age_band)"),
    ("age = city", 5, "cannot be compared"),
    ("segment = 'Champion'", 11, "not a value of segment"),
    ("has_tag('value_teir')", 9, "unknown tag 'value_teir'"),
    ("has_tag('value_tier', '中价值')", 23, "not a value of value_tier"),
    ("has_tag(3)", 1, "both in quotes"),
    ("drop_table('events')", 1, "unknown function"),
    ("churn_probability > 0.7", 1, "has not been scored"),
    ("age = NULL", 7, "IS NULL"),
    ("model.age > 3", 1, "unknown namespace 'model'"),
    ("3 = 3", 1, "needs a name"),
])
def test_unknown_names_and_type_errors_are_refused_with_the_position(expression: str, position: int,
                                                                      words: str) -> None:
    e = err(expression)
    assert e.position == position
    assert words in str(e)


def test_multi_line_expressions_report_line_and_column() -> None:
    e = err("age > 3\n  AND agee < 5")
    assert e.position == 15 and e.line_col == (2, 7)
    assert "line 2 column 7" in str(e)


def test_very_deep_or_long_input_is_refused() -> None:
    assert "nested deeper" in str(err("(" * 100 + "age > 1" + ")" * 100))
    assert "longer than" in str(err("age > 1 AND " * 2000 + "age > 2"))


def test_deep_nots_are_refused_at_the_first_level_too_deep_not_by_a_stack_overflow() -> None:
    # 2,400 NOTs fit in the length limit; each is a level of the tree (a RecursionError once)
    e = err("NOT " * 2400 + "age > 1")
    assert "nested deeper than 64" in e.message and e.position == 64 * 4 + 1  # the 65th NOT
    e = err("NOT (" * 40 + "age > 1" + ")" * 40)  # NOTs and parentheses count together
    assert e.position == 32 * 5 + 1  # the 33rd NOT is level 65
    assert compile_expression("NOT " * 64 + "age > 1", CATALOG).where.count("NOT") == 64
    assert compile_expression("(" * 64 + "age > 1" + ")" * 64, CATALOG).params == (1,)


def test_parentheses_inside_text_and_names_are_not_nesting() -> None:
    p = compile_expression("city = '" + "(" * 80 + "' OR city IN ('" + ")" * 80 + "')", CATALOG)
    assert p.params == ("(" * 80, ")" * 80)


def test_the_tree_keeps_positions() -> None:
    tree = parse("age > 3 AND city = 'x'")
    assert [i.pos for i in tree.items] == [1, 13]


def _fingerprint(ws) -> str:  # every table's name, row count and content
    h = hashlib.sha256()
    for (name,) in ws.store.query_rows("SELECT table_name FROM information_schema.tables ORDER BY table_name"):
        h.update(name.encode())
        for row in ws.store.query_rows(f'SELECT * FROM "{name}" ORDER BY ALL'):
            h.update(repr(row).encode())
    return h.hexdigest()


@pytest.mark.parametrize("attack", [
    "1=1; DROP TABLE events",
    "city = '上海'; DROP TABLE events; --'",
    "city = '' OR 1=1 --",
    "city = ''); DROP TABLE events; --",
    "city = '上海' /* */ OR '1'='1'",
    "\"city\" = 'x'",
    "city = 'x'\x00; DROP TABLE users",
    "age > 1 UNION SELECT user_id FROM users",
    "city IN (SELECT city FROM users)",
    "has_tag('x'); DELETE FROM events; --')",
])
def test_injection_attempts_fail_and_leave_the_store_untouched(hand_ws, attack: str) -> None:
    before = _fingerprint(hand_ws)
    with pytest.raises(AudienceError) as info:
        preview_audience(hand_ws, attack)
    assert info.value.error.position is not None
    with pytest.raises(AudienceError):
        create_audience(hand_ws, "attack", attack, holdout=0.1)
    assert _fingerprint(hand_ws) == before


def test_text_that_looks_like_sql_is_only_a_value(hand_ws) -> None:
    before = _fingerprint(hand_ws)
    out = preview_audience(hand_ws, "city = '上海''; DROP TABLE events; --'")
    assert out["size"] == 0  # no city has that name
    assert out["plan"]["params"] == ["上海'; DROP TABLE events; --"]
    assert _fingerprint(hand_ws) == before
