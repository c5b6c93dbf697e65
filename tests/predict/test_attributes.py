"""Typing of users-table attributes and labels."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from segmark.core.predict.attributes import attribute_frame, infer_types
from segmark.core.predict.labels import LabelError, log_labels, parse_labels, rolling_origins


def test_kinds_dates_flags_and_what_is_left_out() -> None:
    raw = pd.DataFrame({
        "since": ["04-09-2012", "28-02-2013", "01-01-2014", ""],  # day-first: 28 cannot be a month
        "income": ["58138", "46344", "", "71613"],
        "vip": ["yes", "no", "YES", "no"],
        "edu": ["PhD", "Master", "PhD", "Basic"],
        "id": ["a1", "a2", "a3", "a4"],
        "const": ["3", "3", "3", "3"],
        "Response": ["1", "0", "0", "1"],
    })
    t = infer_types(raw, exclude=("Response",))
    assert t.kinds == {"since": "date", "income": "number", "vip": "flag", "edu": "category"}
    assert t.date_formats["since"] == "%d-%m-%Y"
    assert t.dropped == {"id": "identifier", "const": "constant", "Response": "label"}
    X = attribute_frame(raw, t, datetime(2014, 1, 2))
    # 2012-09-04 to 2014-01-02: 485 days; 2013-02-28: 308; 2014-01-01: 1
    assert X["since"].tolist()[:3] == [485.0, 308.0, 1.0] and np.isnan(X["since"].iloc[3])
    assert X["vip"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert np.isnan(X["income"].iloc[2])
    assert X["edu"].tolist() == ["PhD", "Master", "PhD", "Basic"]


def test_month_first_dates_when_day_first_cannot_read_them() -> None:
    t = infer_types(pd.DataFrame({"d": ["12/31/2020", "01/15/2021", "02/01/2021"]}))
    assert t.date_formats == {"d": "%m/%d/%Y"}


def test_labels_vocabulary_and_errors() -> None:
    assert parse_labels(pd.Series(["1", "0", "TRUE", "false", "Yes", "no", None])).tolist() == [1, 0, 1, 0, 1, 0]
    with pytest.raises(LabelError, match="'maybe'") as err:
        parse_labels(pd.Series(["1", "0", "maybe"]))
    assert err.value.index == [2]
    with pytest.raises(LabelError, match="both outcomes"):
        parse_labels(pd.Series(["1", "1"]))


def test_log_labels_and_cuts() -> None:
    users = pd.Index(["a", "b", "c"])
    freq = pd.Series([2, 0, 1], index=users)
    assert log_labels("propensity", users, freq, {"a"}).tolist() == [1, 0, 0]
    churn = log_labels("churn", users, freq, {"a"})
    assert churn.to_dict() == {"a": 0, "c": 1}  # b never bought: not a churn candidate
    cuts = rolling_origins(datetime(2024, 7, 1), 30, data_start=datetime(2024, 1, 1), n_origins=3)
    assert cuts == [datetime(2024, 4, 2), datetime(2024, 5, 2), datetime(2024, 6, 1)]
    # every label window [cut, cut + 30 days) ends by as_of; too little history drops the oldest cuts
    assert rolling_origins(datetime(2024, 3, 1), 30, data_start=datetime(2024, 1, 1)) == [datetime(2024, 1, 31)]
