"""Time-based splits count the shop's calendar days (``time.timezone``), not UTC's.

The shop is in New York (UTC-5 in January). Worked out by hand:

- the last event is on local day 2024-01-10, so ``--holdout-days 1`` holds out local day 2024-01-10
  (the test window) and validates ``auto`` on local day 2024-01-09;
- u3's purchase at 2024-01-09 23:30 local is 2024-01-10 04:30 UTC: on the shop's calendar it is on the
  boundary day 2024-01-09 (the validation window, and training for the test window); counted in UTC
  days it would fall in the test window and leave the validation window without any purchase.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.recommend import evaluate_recommendations, read_rows, windows
from segmark.workspace import init_workspace, open_workspace

EVENTS = """user_id,item_id,event_type,ts
u1,i1,purchase,2024-01-06 12:00:00
u2,i2,purchase,2024-01-06 12:00:00
u3,i1,view,2024-01-06 12:00:00
u2,i1,purchase,2024-01-08 12:00:00
u3,i2,purchase,2024-01-09 23:30:00
u1,i2,purchase,2024-01-10 12:00:00
"""
"""Local wall-clock times of the shop (read in the workspace's time zone)."""

@pytest.fixture
def ws(tmp_path: Path):
    root = init_workspace(tmp_path / "ws")
    toml = root / "segmark.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('timezone = "UTC"', 'timezone = "America/New_York"', 1)
    text = text.replace("[recommend]\n", '[recommend]\nmethods = ["item-knn"]\n', 1)
    toml.write_text(text, encoding="utf-8")
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    with open_workspace(root) as w:
        assert w.settings.time.timezone == "America/New_York"
        ingest_file(w, "events", tmp_path / "events.csv")
        yield w


def _late_purchase_day(rows: pd.DataFrame) -> pd.Timestamp:
    late = rows[(rows["user_id"] == "u3") & (rows["event_type"] == "purchase")]
    assert len(late) == 1
    return late["day"].iloc[0]


def test_days_are_the_shops_calendar_days(ws) -> None:
    stored = ws.store.scalar("SELECT ts FROM events WHERE user_id = 'u3' AND event_type = 'purchase'")
    assert stored == datetime(2024, 1, 10, 4, 30)  # stored in UTC
    local = read_rows(ws.store, datetime(9999, 1, 1), "America/New_York")
    assert _late_purchase_day(local) == pd.Timestamp("2024-01-09")
    assert sorted(local["day"].dt.strftime("%Y-%m-%d").unique()) == ["2024-01-06", "2024-01-08", "2024-01-09",
                                                                       "2024-01-10"]
    # the same rows on UTC's calendar: the 23:30 purchase moves to the next day
    assert _late_purchase_day(read_rows(ws.store, datetime(9999, 1, 1), "UTC")) == pd.Timestamp("2024-01-10")


def test_the_last_day_held_out_is_the_local_one(ws) -> None:
    rows = read_rows(ws.store, datetime(9999, 1, 1), "America/New_York")
    validation, test = windows(rows, 1)
    assert test.label == "last 1 days from 2024-01-10"
    assert test.test.to_dict("records") == [{"user_id": "u1", "item_id": "i2"}]
    trained = test.train[test.train["event_type"] == "purchase"][["user_id", "item_id"]]
    assert ("u3", "i2") in set(map(tuple, trained.to_numpy()))
    assert validation.test.to_dict("records") == [{"user_id": "u3", "item_id": "i2"}]


def test_evaluate_holds_out_the_shops_last_day(ws) -> None:
    out = evaluate_recommendations(ws, holdout_days=1, ks=(1, 2))
    assert out["holdout"] == "last 1 days from 2024-01-10"
    assert out["validation"] == "1 days before 2024-01-10"
    assert out["users"] == 1  # u1 alone: u3's 23:30 purchase is the day before


def test_the_report_dates_the_build_by_the_shops_calendar(tmp_path: Path) -> None:
    """A shop east of UTC: the build's as_of is local midnight 2024-01-11, which is 16:00 UTC on
    2024-01-10; the report's Recommendations section says 2024-01-11, as the CLI does."""
    from segmark.pipeline.recommend import build_recommendations
    from segmark.pipeline.report import write_report

    root = init_workspace(tmp_path / "ws", timezone="Asia/Shanghai")
    toml = root / "segmark.toml"
    text = toml.read_text(encoding="utf-8").replace("[recommend]\n", '[recommend]\nmethods = ["item-knn"]\n', 1)
    toml.write_text(text, encoding="utf-8")
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    with open_workspace(root) as w:
        ingest_file(w, "events", tmp_path / "events.csv")
        result = build_recommendations(w, as_of="2024-01-11")
        assert result["as_of"] == datetime(2024, 1, 10, 16, 0)  # stored in UTC
        page = write_report(w, tmp_path / "report.html", lang="en").read_text(encoding="utf-8")
    assert "on events before 2024-01-11 for" in page
    assert "events before 2024-01-10" not in page
