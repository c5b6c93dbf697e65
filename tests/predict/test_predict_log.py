"""Models whose labels come from the event log: a planted rule recovered, no leakage across cuts,
churn and propensity scored for the right users, and the scores contract for tags and audiences."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from tests.predict.conftest import START, planted_events

from segmark.pipeline.audience import preview_audience
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.predict import _feature_frame, latest_scores, train_model, training_data
from segmark.workspace import Workspace, init_workspace, open_workspace

AS_OF = datetime(2024, 7, 1)
HORIZON = 30


def test_a_planted_rule_is_recovered_and_checked_out_of_time(planted_shop) -> None:
    ws, events, steady = planted_shop
    info = train_model(ws, "propensity", horizon_days=HORIZON, as_of="2024-07-01", cv=3,
                       candidates=["logistic", "hgb"])
    ev = info.evaluation
    assert ev["cv_scheme"] == "time_grouped"
    assert [o[:10] for o in info.params["origins"]] == ["2024-04-02", "2024-05-02", "2024-06-01"]
    # who buys after a cut is planted in whether the user is a steady buyer: near-perfect ranking
    assert ev["cv"]["roc_auc"] > 0.95
    assert set(ev["baselines"]) == {"recency", "bgnbd"}
    # the log runs to late August: the scores as of 2024-07-01 are checked against July
    oot = ev["out_of_time"]
    assert oot["window"] == ["2024-07-01", "2024-07-30"]
    bought = set(events.loc[(events["event_type"] == "purchase") & (events["ts"] >= "2024-07-01")
                            & (events["ts"] < "2024-07-31"), "user_id"])
    assert oot["model"]["positives"] == len(bought)
    assert oot["model"]["roc_auc"] > 0.95

    scores = latest_scores(ws.store)
    assert {"propensity_probability", "propensity_decile"} <= set(scores.columns)
    top = scores[scores["propensity_decile"] == 10].index
    assert steady.reindex(top).mean() > 0.9  # the top decile is the steady buyers

    churn = train_model(ws, "churn", horizon_days=HORIZON, as_of="2024-07-01", cv=3, candidates=["logistic"])
    assert churn.evaluation["cv"]["roc_auc"] > 0.95
    both = latest_scores(ws.store)
    # churn is scored for past buyers only, and a churner is not a likely buyer
    assert both["churn_probability"].notna().sum() == int(events.groupby("user_id").size().size)
    assert np.corrcoef(both["churn_probability"].dropna(),
                       both.loc[both["churn_probability"].notna(), "propensity_probability"])[0, 1] < -0.8
    # audiences read the scores by their contract names
    where = "propensity_decile >= 9 AND churn_probability < 0.5"
    expected = ((both["propensity_decile"] >= 9) & (both["churn_probability"] < 0.5)).sum()
    assert preview_audience(ws, where)["size"] == expected > 0


def test_no_feature_or_label_reads_an_event_after_its_cut(tmp_path: Path) -> None:
    """Training data made from the whole log equals training data made from logs cut at each cut
    (features) and at each label window's end (labels): nothing after a cut changes what it sees."""
    events, _ = planted_events(n=120, seed=1)
    full = _workspace(tmp_path / "full", events)
    data = training_data(full, "propensity", as_of=AS_OF, horizon_days=HORIZON)
    assert len(data.origins) == 3
    for cut in data.origins:
        rows = data.origin == np.datetime64(cut, "s")
        end = cut + timedelta(days=HORIZON)
        # features: only events before the cut; here the log has nothing from the cut on
        truncated = _workspace(tmp_path / f"to-{cut:%m%d}", events[events["ts"] < cut])
        before, _ = _feature_frame(truncated, cut)
        mine = data.X.loc[rows, [c for c in before.columns if c in data.X.columns]]
        pd.testing.assert_frame_equal(mine.sort_index(), before.loc[mine.index, mine.columns].sort_index(),
                                      check_dtype=False)
        # labels: only events before the window's end; the same from a log that stops there
        until = _workspace(tmp_path / f"until-{cut:%m%d}", events[events["ts"] < end])
        again = training_data(until, "propensity", as_of=end, horizon_days=HORIZON, n_origins=1)
        assert again.origins == [cut]
        pd.testing.assert_series_equal(pd.Series(data.y[rows], index=data.X.index[rows]).sort_index(),
                                       pd.Series(again.y, index=again.X.index).sort_index())
        truncated.close()
        until.close()
    full.close()


def _workspace(root: Path, events: pd.DataFrame) -> Workspace:
    init_workspace(root)
    ws = open_workspace(root)
    path = root / "events.csv"
    events.assign(ts=events["ts"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(path, index=False)
    ingest_file(ws, "events", path)
    return ws


def test_start_is_the_planted_calendar() -> None:
    events, _ = planted_events(n=10)
    assert events["ts"].min() >= START
