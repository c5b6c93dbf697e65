"""Every statement the prediction, lifetime-value and forecast steps pass to the store is shared SQL
(transpiles to Spark SQL, nothing only DuckDB has), traced from real runs on a planted shop."""

from __future__ import annotations

from segmark.pipeline.clv import fit_clv, predict_clv
from segmark.pipeline.forecast import forecast_revenue
from segmark.pipeline.predict import explain_user, export_scores, latest_scores, score_model, train_model
from segmark.store.dialect import portability_problems


def test_every_prediction_statement_is_shared_sql(planted_shop, tmp_path) -> None:
    ws, _, steady = planted_shop
    with ws.store.tracing() as statements:
        train_model(ws, "churn", horizon_days=30, as_of="2024-07-01", cv=3, candidates=["logistic"])
        score_model(ws, "churn")
        explain_user(ws, "churn", str(steady.index[0]))
        export_scores(ws, "churn", tmp_path / "churn.parquet")
        fit_clv(ws, as_of="2024-07-01")
        predict_clv(ws, horizon_days=90)
        forecast_revenue(ws, weeks=4)
        latest_scores(ws.store)
    assert any("prediction_scores" in s for s in statements) and any("clv_scores" in s for s in statements)
    problems = {sql: found for sql in dict.fromkeys(statements) if (found := portability_problems(sql))}
    assert not problems, "\n\n".join(f"{sql[:400]}\n  -> {'; '.join(p)}" for sql, p in problems.items())
