"""Lifetime value on the CDNOW sample against the published values: Fader, Hardie & Lee (2005) for
BG/NBD (r 0.2426, alpha 4.4136, a 0.7929, b 2.4259, LL -9582.4) and for Pareto/NBD in their note on
the model (r 0.553, alpha 10.578, s 0.606, beta 11.669, LL -9595.0), Fader & Hardie's Gamma-Gamma note
(p 6.25, q 3.74, gamma 15.44); the holdout counted here with pandas from the source file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmark.core.predict.btyd import BetaGeoModel, ParetoNBDModel
from segmark.pipeline.clv import fit_clv, predict_clv
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.predict import latest_scores
from segmark.workspace import Workspace


@pytest.fixture
def cdnow(ws: Workspace, shared_data: Path) -> Workspace:
    ingest_file(ws, "events", shared_data / "cdnow-lifetimes" / "CDNOW_sample.txt", mapping="cdnow-sample")
    return ws


def test_bgnbd_and_gamma_gamma_reproduce_the_published_values(cdnow: Workspace, shared_data: Path) -> None:
    fit = fit_clv(cdnow, model="bgnbd", unit="weeks", as_of="1997-10-01")
    p = fit.params
    assert (round(p["r"], 4), round(p["alpha"], 4), round(p["a"], 4), round(p["b"], 4)) == (
        0.2426, 4.4136, 0.7929, 2.4259)
    assert round(fit.log_likelihood, 1) == -9582.4
    s = fit.spend_params
    assert (round(s["p"], 2), round(s["q"], 2), round(s["gamma"], 2)) == (6.25, 3.74, 15.44)
    assert fit.metrics["customers"] == 2357 and fit.metrics["repeat_customers"] == 946
    assert fit.metrics["calibration_end"] == "1997-09-30"

    # the holdout: purchase days after 1997-09-30 through the end of the file, counted here
    lines = pd.read_csv(shared_data / "cdnow-lifetimes" / "CDNOW_sample.txt", sep=r"\s+", header=None,
                        names=["master", "id", "date", "cds", "value"], dtype={"id": str, "date": str})
    days = lines[["id", "date"]].drop_duplicates()
    holdout = days[days["date"] > "19970930"]
    h = fit.metrics["holdout"]
    assert h["days"] == 273 and h["weeks"] == 39.0  # 1997-10-01 .. 1998-06-30: the paper's 39 weeks
    assert h["actual"] == len(holdout)
    assert h["weekly"][-1]["actual_cumulative"] == len(holdout)
    # the model under-forecasts the holdout by about 12% in total, as the paper's tracking plot shows
    assert h["expected"] == pytest.approx(len(holdout), rel=0.15)
    # conditional expectations by calibration frequency: customers with no repeat purchase (1,411)
    by_x = {b["x"]: b for b in h["by_frequency"]}
    assert by_x["0"]["customers"] == 1411
    counts = holdout.groupby("id").size()
    zero = sorted(set(lines["id"]) - set(days[(days["date"] <= "19970930")].groupby("id").filter(
        lambda g: len(g) > 1)["id"]))
    assert by_x["0"]["actual"] == pytest.approx(counts.reindex(zero, fill_value=0).mean())
    assert by_x["0"]["expected"] == pytest.approx(by_x["0"]["actual"], abs=0.03)


def test_the_same_fit_from_the_published_summary_file(shared_data: Path) -> None:
    # cdnow_customers_summary.csv gives x, t_x and T in weeks rounded to 2 decimals
    s = pd.read_csv(shared_data / "cdnow-lifetimes" / "cdnow_customers_summary.csv")
    bg = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    assert [round(bg.params_[k], 3) for k in ("r", "alpha", "a", "b")] == [0.243, 4.414, 0.793, 2.426]
    pareto = ParetoNBDModel().fit(s["frequency"], s["recency"], s["T"])
    assert [round(pareto.params_[k], 2) for k in ("r", "alpha", "s", "beta")] == [0.55, 10.58, 0.61, 11.67]
    assert round(pareto.log_likelihood_, 0) == -9595


def test_units_change_the_rate_not_the_fit(cdnow: Workspace) -> None:
    weeks = fit_clv(cdnow, as_of="1997-10-01", unit="weeks")
    days = fit_clv(cdnow, as_of="1997-10-01", unit="days")
    # alpha is a time scale: 7 times larger in days; r, a, b are unit-free
    assert days.params["alpha"] == pytest.approx(7 * weeks.params["alpha"], rel=1e-3)
    assert days.params["r"] == pytest.approx(weeks.params["r"], rel=1e-3)
    assert days.params["a"] == pytest.approx(weeks.params["a"], rel=1e-3)
    # the log-likelihood of times in days differs by the Jacobian: 2,457 repeat days x log 7
    assert days.log_likelihood == pytest.approx(weeks.log_likelihood - 2457 * np.log(7), abs=0.5)


def test_pareto_nbd_and_scores(cdnow: Workspace) -> None:
    fit = fit_clv(cdnow, model="pareto-nbd", as_of="1997-10-01")
    assert [round(fit.params[k], 3) for k in ("r", "alpha", "s", "beta")] == pytest.approx(
        [0.553, 10.578, 0.606, 11.669], abs=0.002)
    assert round(fit.log_likelihood, 1) == pytest.approx(-9595.0, abs=0.1)
    result = predict_clv(cdnow, horizon_days=273, discount=0.0)
    scores = latest_scores(cdnow.store)
    assert len(scores) == 2357
    assert {"expected_purchases", "p_alive", "expected_spend", "clv", "clv_decile"} <= set(scores.columns)
    assert scores["p_alive"].between(0, 1).all()
    assert sorted(scores["clv_decile"].unique()) == list(range(1, 11))
    # without discounting, CLV is expected purchases times expected spend
    assert np.allclose(scores["clv"], scores["expected_purchases"] * scores["expected_spend"], rtol=1e-9)
    assert result["expected_purchases"] == pytest.approx(scores["expected_purchases"].sum())
    stored = json.loads(cdnow.store.scalar("SELECT params FROM runs WHERE step = 'clv predict'"))
    assert stored["horizon_days"] == 273


def test_clv_fit_json_keys(cdnow: Workspace) -> None:
    from typer.testing import CliRunner

    from segmark.cli import app

    r = CliRunner().invoke(app, ["clv", "fit", "--as-of", "1997-10-01", "--unit", "weeks", "--json",
                                 "-w", str(cdnow.root)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert set(out["params"]) == {"r", "alpha", "a", "b"} and out["unit"] == "weeks"
    assert set(out["spend_params"]) == {"p", "q", "gamma"} and round(out["log_likelihood"], 1) == -9582.4
    r = CliRunner().invoke(app, ["clv", "fit", "--model", "pareto-nbd", "--json", "--as-of", "1997-10-01",
                                 "-w", str(cdnow.root)])
    assert set(json.loads(r.output)["params"]) == {"r", "alpha", "s", "beta"}
