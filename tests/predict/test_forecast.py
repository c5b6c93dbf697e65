"""The weekly forecast and its backtest: known series, then a shop whose weekly sales are planted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from segmark.cli import app
from segmark.core.predict.forecast import SEASON, backtest, errors, level_seasonal, seasonal_naive
from segmark.pipeline.forecast import forecast_revenue
from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace

runner = CliRunner()


def test_methods_on_known_series() -> None:
    flat = np.full(20, 100.0)
    assert level_seasonal(flat, 4).tolist() == [100.0] * 4
    assert seasonal_naive(flat, 3).tolist() == [100.0] * 3
    # two identical years with a December peak: both methods repeat the year exactly
    year = np.where(np.arange(SEASON) >= 48, 300.0, 100.0)
    two = np.concatenate([year, year])
    assert seasonal_naive(two, 52).tolist() == year.tolist()
    fc = level_seasonal(two, 52)
    assert fc[50] > 2 * fc[10]  # the peak comes back where it was
    assert errors(np.array([100.0, 0.0, 50.0]), np.array([90.0, 10.0, 50.0])) == {
        "wape": pytest.approx(20 / 150), "mape": pytest.approx(0.05)}
    bt = backtest(two, 8)
    assert bt["weeks"] == 8 and len(bt["forecast"]) == 8
    assert bt["baseline"]["wape"] == 0.0  # the last 8 weeks are exactly a year earlier's


def test_a_growing_shop_beats_seasonal_naive(ws: Workspace, tmp_path: Path) -> None:
    # 60 weeks of one order a day of 10 units at 1.0 (70 a week), doubling in the last 20 weeks
    days = pd.date_range("2023-01-02", periods=60 * 7, freq="D")
    amount = np.where(np.arange(len(days)) >= 40 * 7, 20.0, 10.0)
    events = pd.DataFrame({"user_id": [f"u{i % 30}" for i in range(len(days))], "event_type": "purchase",
                           "ts": days.strftime("%Y-%m-%d 12:00:00"), "item_id": "i1",
                           "category": np.where(np.arange(len(days)) % 2 == 0, "tea", "cups"),
                           "price": amount / 10, "quantity": 10.0, "amount": amount})
    path = tmp_path / "e.csv"
    events.to_csv(path, index=False)
    ingest_file(ws, "events", path)
    result = forecast_revenue(ws, weeks=4, by="category", as_of="2024-02-26")  # 60 weeks after 2023-01-02
    assert result["history_weeks"] == 60 and result["start"] == "2024-02-26"
    groups = {g["group"]: g for g in result["groups"]}
    assert set(groups) == {"tea", "cups", "all"}
    total = groups["all"]
    # last year the shop sold 70 a week; now 140: seasonal-naive repeats 70, the recent level says 140
    bt = total["revenue"]["backtest"]
    assert bt["seasonal_naive"]["wape"] == pytest.approx(0.5)
    assert bt["model"]["wape"] < 0.05
    assert total["revenue"]["forecast_total"] == pytest.approx(4 * 140.0, rel=0.05)
    assert total["orders"]["forecast_total"] == pytest.approx(4 * 7.0, rel=0.05)
    assert groups["tea"]["revenue"]["forecast_total"] + groups["cups"]["revenue"]["forecast_total"] == \
        pytest.approx(total["revenue"]["forecast_total"], rel=0.05)
    stored = ws.store.query_df("SELECT series, count(*) AS n FROM forecasts WHERE group_key = 'all' GROUP BY series")
    assert dict(zip(stored["series"], stored["n"], strict=True)) == {
        "actual": 52, "forecast": 4, "seasonal_naive": 4, "backtest": 4, "backtest_naive": 4}
    ws.close()
    r = runner.invoke(app, ["forecast", "revenue", "--weeks", "4", "--json", "-w", str(ws.root)])
    assert r.exit_code == 0, r.output
