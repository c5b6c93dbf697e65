"""Spend is unknown, not 0, when the shop's purchases carry no amounts (a behaviour log such as
Taobao's), and 0 for a user who bought nothing in a shop whose purchases do carry them.

as_of is 2024-03-01 00:00 UTC. The shop without prices: u1 buys twice and u2 once, with no price or
amount on any line; u3 only views; u4 is on file without events. The shop with prices is the same
but with amounts: u1 100 + 40, u2 60.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from segmark.cli import app
from segmark.pipeline.features import (
    build_features,
    describe_features,
    export_features,
    load_features,
    user_features,
)
from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace

AS_OF = "2024-03-01"
WINDOWS = (7, 30, 90, 365)
SPEND = ["monetary", *(f"spend_{w}d" for w in WINDOWS)]
USERS = [dict(user_id="u1", city="杭州"), dict(user_id="u4", age=70)]


def _events(priced: bool) -> list[tuple]:
    def line(user: str, ts: str, item: str, amount: float, order: str) -> tuple:
        return (user, "purchase", ts, item, "女装", amount if priced else None, 1 if priced else None,
                amount if priced else None, order)

    return [line("u1", "2024-02-01 10:00", "i1", 100, "o1"),     # 28.58 days before as_of
            line("u1", "2024-02-27 10:00", "i2", 40, "o2"),      # 2.58 days
            line("u2", "2024-02-05 10:00", "i1", 60, "o3"),      # 24.58 days
            ("u2", "view", "2024-02-06 10:00", "i1", "女装"),
            ("u3", "view", "2024-02-07 10:00", "i1", "女装")]


@pytest.fixture
def no_prices(ws: Workspace, add_events, add_users) -> Workspace:
    add_events(ws, _events(priced=False))
    add_users(ws, USERS)
    return ws


@pytest.fixture
def with_prices(ws: Workspace, add_events, add_users) -> Workspace:
    add_events(ws, _events(priced=True))
    add_users(ws, USERS)
    return ws


def test_without_prices_every_spend_is_unknown_and_the_counts_stay(no_prices: Workspace) -> None:
    _, df = load_features(no_prices.store, build_features(no_prices, as_of=AS_OF).run_id)
    assert sorted(df.index) == ["u1", "u2", "u3", "u4"]
    assert df[SPEND].isna().all().all()  # the buyers' spend too: nothing says what they paid
    assert df["aov"].isna().all()
    # what is known stays: orders and purchase lines are counted, non-buyers have 0 of them
    assert df["frequency"].to_dict() == {"u1": 2, "u2": 1, "u3": 0, "u4": 0}
    assert df["purchases_7d"].to_dict() == {"u1": 1, "u2": 0, "u3": 0, "u4": 0}
    assert df["orders_30d"].to_dict() == {"u1": 2, "u2": 1, "u3": 0, "u4": 0}


def test_with_prices_a_non_buyer_spent_0(with_prices: Workspace) -> None:
    _, df = load_features(with_prices.store, build_features(with_prices, as_of=AS_OF).run_id)
    assert df["monetary"].to_dict() == {"u1": 140.0, "u2": 60.0, "u3": 0.0, "u4": 0.0}
    assert df["spend_7d"].to_dict() == {"u1": 40.0, "u2": 0.0, "u3": 0.0, "u4": 0.0}
    assert df["spend_30d"].to_dict() == {"u1": 140.0, "u2": 60.0, "u3": 0.0, "u4": 0.0}


def test_a_shop_with_no_purchase_yet_has_spent_0(ws: Workspace, add_events) -> None:
    """No purchase at all says nothing against prices: nobody spent anything."""
    add_events(ws, [("u1", "view", "2024-02-06 10:00", "i1", "女装"), ("u2", "cart", "2024-02-07 10:00", "i1")])
    _, df = load_features(ws.store, build_features(ws, as_of=AS_OF).run_id)
    assert df[SPEND].to_dict(orient="list") == {c: [0.0, 0.0] for c in SPEND}


def test_one_purchase_with_an_amount_makes_the_others_spend_known(ws: Workspace, add_events) -> None:
    """Prices are the shop's, not the user's: a buyer whose lines lack amounts beside one whose line
    has one is counted as 0 (the catalogue's sum), not unknown."""
    add_events(ws, [("u1", "purchase", "2024-02-01 10:00", "i1", "女装", 50, 1, 50, "o1"),
                    ("u2", "purchase", "2024-02-02 10:00", "i1", "女装", None, None, None, "o2")])
    _, df = load_features(ws.store, build_features(ws, as_of=AS_OF).run_id)
    assert df["monetary"].to_dict() == {"u1": 50.0, "u2": 0.0}


def test_show_describe_and_export_say_unknown(no_prices: Workspace, tmp_path: Path) -> None:
    run = build_features(no_prices, as_of=AS_OF)
    _, values = user_features(no_prices.store, "u1", run.run_id)
    assert all(values[c] is None for c in SPEND) and values["frequency"] == 2

    _, table = describe_features(no_prices.store, run.run_id)
    monetary = table.set_index("name").loc["monetary"]
    assert monetary["count"] == 0 and monetary["missing_share"] == 1.0
    assert monetary["mean"] is None or math.isnan(monetary["mean"])

    export_features(no_prices.store, tmp_path / "f.csv", run.run_id)
    export_features(no_prices.store, tmp_path / "f.parquet", run.run_id)
    for frame in (pd.read_csv(tmp_path / "f.csv"), pd.read_parquet(tmp_path / "f.parquet")):
        assert frame[SPEND].isna().all().all() and frame["frequency"].tolist() == [2, 1, 0, 0]


def _cli(ws: Workspace, *args: str) -> str:
    root = str(ws.root)
    result = CliRunner().invoke(app, [*args, "-w", root])
    assert result.exit_code == 0, result.output
    return result.stdout


def _row(table: str, name: str) -> list[str]:
    """The cells of the table row that starts with ``name``."""
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if cells and cells[0].split(" ")[0] == name:
            return cells
    raise AssertionError(f"no row {name!r} in\n{table}")


def test_the_command_line_shows_unknown_spend(no_prices: Workspace) -> None:
    build_features(no_prices, as_of=AS_OF)
    no_prices.close()
    shown = json.loads(_cli(no_prices, "features", "show", "u1", "--json"))["features"]
    assert shown["monetary"] is None and shown["spend_30d"] is None and shown["frequency"] == 2
    table = _cli(no_prices, "features", "show", "u1")
    assert _row(table, "monetary")[1] == "unknown" and _row(table, "spend_365d")[1] == "unknown"
    assert _row(table, "frequency")[1] == "2" and _row(table, "aov")[1] == "-"
    zh = _cli(no_prices, "features", "show", "u3", "--lang", "zh")
    assert _row(zh, "monetary")[1] == "未知" and _row(zh, "frequency")[1] == "0"
    described = json.loads(_cli(no_prices, "features", "describe", "--family", "rfm", "--json"))["features"]
    monetary = next(f for f in described if f["name"] == "monetary")
    assert (monetary["count"], monetary["mean"], monetary["max"]) == (0, None, None)
    note = "spend is unknown, not 0: this shop's purchases carry no amounts"
    assert note in " ".join(table.split()) and note in " ".join(_cli(no_prices, "features", "describe").split())


def test_the_command_line_shows_0_for_a_non_buyer_with_prices(with_prices: Workspace) -> None:
    build_features(with_prices, as_of=AS_OF)
    with_prices.close()
    table = _cli(with_prices, "features", "show", "u3")
    assert _row(table, "monetary")[1] == "0" and _row(table, "spend_7d")[1] == "0"
    assert _row(_cli(with_prices, "features", "show", "u1"), "monetary")[1] == "140"
    assert "spend is unknown" not in table and "spend is unknown" not in _cli(with_prices, "features", "describe")


def test_taobao_spend_is_unknown_for_everyone(ws: Workspace, shared_data: Path) -> None:
    """Taobao's behaviour log has no price column (its PROVENANCE.txt): 814 users, purchases counted, no
    spend."""
    path = shared_data / "taobao-userbehavior-sample" / "UserBehavior_first814users.csv"
    raw = pd.read_csv(path, header=None, names=["user", "item", "category", "behavior", "ts"], dtype=str)
    ingest_file(ws, "events", path, mapping="taobao")
    _, df = load_features(ws.store, build_features(ws).run_id)
    assert len(df) == 814
    assert df[SPEND].isna().all().all()
    assert df["purchases_365d"].sum() == (raw["behavior"] == "buy").sum()  # every event within a year
