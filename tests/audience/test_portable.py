"""Every statement the tags, audience and campaign steps pass to the store is shared SQL that
SQLGlot transpiles to Spark SQL (the statements are the ones real calls issued)."""

from __future__ import annotations

from pathlib import Path

from tests.audience.conftest import write_clv, write_scores
from tests.audience.test_tags import TAGS

from segmark.pipeline.audience import audience_overlap, create_audience, export_audience, preview_audience
from segmark.pipeline.campaign import campaign_readout
from segmark.pipeline.recommend import build_recommendations
from segmark.pipeline.tags import apply_tags, list_tags, user_tags_of
from segmark.store.dialect import portability_problems


def test_every_statement_is_shared_sql(hand_ws, tmp_path: Path) -> None:
    (tmp_path / "vip.csv").write_text("u1\nu3\n", encoding="utf-8")
    (tmp_path / "tags.yaml").write_text(TAGS, encoding="utf-8")
    write_scores(hand_ws, "churn", [("u1", 0.9, 10), ("u2", 0.2, 2)])
    write_clv(hand_ws, [("u1", 300.0, 10)])
    build_recommendations(hand_ws, method="popularity")  # so that the export reads top items
    with hand_ws.store.tracing() as statements:
        apply_tags(hand_ws, tmp_path / "tags.yaml")
        apply_tags(hand_ws)
        list_tags(hand_ws.store)
        user_tags_of(hand_ws, "u1")
        where = ("has_tag('age_group', '青年') OR (churn_probability > 0.5 AND clv_decile >= 9) OR "
                 "(rfm_segment IN ('no_purchase') AND segment NOT IN ('champions') AND m_score BETWEEN 1 AND 5)")
        preview_audience(hand_ws, where, holdout=0.5)
        create_audience(hand_ws, "a", where, holdout=0.5, seed=1)
        create_audience(hand_ws, "b", "frequency >= 1", holdout=0.5)
        audience_overlap(hand_ws.store)
        export_audience(hand_ws, "a", tmp_path / "a.csv", columns=["age", "churn_probability", "age_group"],
                        min_size=1)
        campaign_readout(hand_ws, "a", "2025-01-01", "2025-03-01")
    assert len(statements) > 30
    problems = {sql: found for sql in dict.fromkeys(statements) if (found := portability_problems(sql))}
    assert not problems, "\n\n".join(f"{sql[:400]}\n  -> {'; '.join(p)}" for sql, p in problems.items())
