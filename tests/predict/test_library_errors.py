"""A library caller's bad argument is named as the parameter it passed (``horizon_days``), not as
the command line's flag (``--horizon``); nothing is written."""

from __future__ import annotations

import pytest

import segmark as sm
from segmark.errors import ConfigError, InputError
from segmark.workspace import Workspace


def runs(ws: Workspace) -> int:
    return int(ws.store.scalar("SELECT count(*) FROM runs"))


def test_predictions_name_their_parameters(ws: Workspace) -> None:
    before = runs(ws)
    with pytest.raises(ConfigError, match=r"^horizon_days must be a positive number of days$"):
        sm.train_model(ws, "churn", horizon_days=0)
    with pytest.raises(ConfigError, match=r"^cv must be at least 2 folds$"):
        sm.train_model(ws, "churn", cv=1)
    with pytest.raises(ConfigError) as info:
        sm.train_model(ws, "response", label_column="bought", label_file="labels.csv")
    assert str(info.value) == "give label_column or label_file (--label-column or --label-file), not both"
    assert runs(ws) == before


def test_lifetime_value_and_forecasts_name_their_parameters(ws: Workspace) -> None:
    before = runs(ws)
    with pytest.raises(InputError, match=r"^horizon_days must be a positive number of days$"):
        sm.predict_clv(ws, horizon_days=0)
    with pytest.raises(InputError, match=r"^discount must be 0 or more"):
        sm.predict_clv(ws, discount=-0.1)
    with pytest.raises(ConfigError, match=r"^weeks must be between 1 and 104$"):
        sm.forecast_revenue(ws, weeks=0)
    with pytest.raises(ConfigError, match=r"^by must be one of total, segment, category, not 'city'$"):
        sm.forecast_revenue(ws, by="city")
    assert runs(ws) == before
