"""The predictions section: every chart drawn in Chromium in both languages, with readings worked out
from the figures it shows."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.report.test_browser import assert_rendered

from segmark.core.predict.evaluation import evaluate
from segmark.report import ReportData, render_report
from segmark.report.sections.predictions import PredictionsSection

pytestmark = pytest.mark.browser


def _part() -> dict:
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.2).astype(int)
    p = np.clip(0.2 + 0.3 * (y - 0.2) + rng.normal(0, 0.15, 2000), 0.01, 0.99)
    recency = np.clip(0.2 + 0.1 * (y - 0.2) + rng.normal(0, 0.15, 2000), 0.01, 0.99)
    model = {"name": "churn", "target": "churn", "algorithm": "hgb",
             "evaluation": {"cv": evaluate(y, p), "baselines": {"recency": evaluate(y, recency)}}}
    clv = pd.DataFrame({"name": ["Champions", "Lost"], "name_zh": ["冠军用户", "已流失用户"], "users": [100, 300],
                        "mean_clv": [60.0, 10.0], "total_clv": [6000.0, 3000.0]})
    weeks = [date(2024, 1, 1) + timedelta(days=7 * i) for i in range(12)]
    fc = pd.DataFrame({"week_start": weeks, "series": ["actual"] * 8 + ["forecast"] * 4,
                       "revenue": [100.0] * 8 + [110.0] * 4})
    metrics = {"backtest": {"model": {"wape": 0.1}, "seasonal_naive": {"wape": 0.2}}}
    return {"models": [model], "clv": clv, "forecast": fc, "forecast_metrics": metrics}


def test_predictions_section_draws_every_chart(report_data: ReportData, tmp_path: Path, open_in_browser) -> None:
    data = copy.copy(report_data)
    data.parts = {**report_data.parts, "predictions": _part()}
    section = PredictionsSection().build(data, "en")
    charts = {b.chart.key: b.chart for b in section.blocks if b.kind == "chart"}
    assert set(charts) == {"pred-roc-churn", "pred-pr-churn", "pred-lift-churn", "pred-cal-churn", "pred-clv",
                           "pred-forecast"}
    # Champions: 6,000 of 9,000 expected value with 100 of 400 customers
    assert charts["pred-clv"].reading == "Champions holds 67% of the expected value with 25% of the customers."
    assert "10%, against 20%" in charts["pred-forecast"].reading
    zh = {b.chart.key: b.chart for b in PredictionsSection().build(data, "zh").blocks if b.kind == "chart"}
    assert zh["pred-clv"].reading == "冠军用户 以 25% 的客户贡献了 67% 的预期价值。"
    expected = {"events_by_type", "quarantine", "sizes_rfm", "sizes_cluster", "rfm_grid", "map", "profile",
                "selection", "migration_rfm", *charts}
    for lang in ("en", "zh"):
        path = tmp_path / f"pred-{lang}.html"
        path.write_text(render_report(data, lang), encoding="utf-8")
        assert_rendered(open_in_browser(path), expected)


def test_without_predictions_the_section_says_what_to_run(report_data: ReportData) -> None:
    section = PredictionsSection().build(report_data, "en")
    texts = [b.text for b in section.blocks if b.kind == "missing"]
    assert any("segmark predict train" in t for t in texts) and any("segmark forecast revenue" in t for t in texts)
