"""Features of the real public data sets, against totals and per-user values computed here
independently (pandas over the source files, and the published CDNOW summary), not with segmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmark.pipeline.features import build_features, load_features
from segmark.pipeline.ingest import ingest_file
from segmark.workspace import Workspace

DAY = pd.Timedelta(days=1)


def _customer_ids(values: pd.Series) -> pd.Series:
    """Online Retail's CustomerID is a float column (17850.0); segmark stores '17850'."""
    return values.astype("Int64").astype(str)


def test_online_retail_rfm_matches_the_invoice_lines(ws: Workspace, shared_data: Path, with_settings) -> None:
    path = shared_data / "uci-online-retail" / "online_retail_full_no_invoice_stockcode.parquet"
    lines = pq.read_table(path, columns=["Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]).to_pandas()
    ingest_file(ws, "events", path, mapping="online-retail")
    london = with_settings(ws, time={"timezone": "Europe/London"})
    run, df = load_features(ws.store, build_features(london).run_id)

    known = lines[lines["CustomerID"].notna() & (lines["UnitPrice"] >= 0)].copy()
    known["user"] = _customer_ids(known["CustomerID"])
    known["value"] = known["Quantity"] * known["UnitPrice"]
    buys = known[known["Quantity"] >= 0]

    # the last invoice is on 2011-12-09 (London): as_of is the next day's start, in winter = UTC
    assert run.as_of == pd.Timestamp("2011-12-10").to_pydatetime()
    assert run.n_users == 4_372 == known["user"].nunique()  # documented customer count
    # summed monetary value = the table's net sales for identified customers (cancellations subtract)
    assert df["monetary"].sum() == pytest.approx(known["value"].sum(), rel=1e-9)
    net = known.groupby("user")["value"].sum()
    assert np.allclose(df.loc[net.index, "monetary"], net, rtol=1e-9, atol=1e-6)
    # no invoice numbers in this file: an order is one customer's lines at one timestamp
    orders = buys.groupby("user")["InvoiceDate"].nunique()
    assert df["frequency"].sum() == orders.sum()
    assert (df.loc[orders.index, "frequency"] == orders).all()
    # recency from the last purchase: invoice times are London wall-clock (UTC+1 in summer)
    utc = buys["InvoiceDate"].dt.tz_localize("Europe/London").dt.tz_convert("UTC").dt.tz_localize(None)
    recency = (pd.Timestamp("2011-12-10") - utc.groupby(buys["user"]).max()) / DAY
    assert np.allclose(df.loc[recency.index, "recency_days"], recency, atol=1e-6)
    # customers whose every line is a cancellation have no recency and negative spend
    only_refunds = sorted(set(known["user"]) - set(buys["user"]))
    assert only_refunds and df.loc[only_refunds, "recency_days"].isna().all()
    assert (df.loc[only_refunds, "monetary"] < 0).all()
    # the famous 12346: 74,215 mugs bought and returned the same day
    assert df.at["12346", "frequency"] == 1
    assert df.at["12346", "monetary"] == pytest.approx(0.0, abs=1e-6)
    assert df.at["12346", "refund_rate"] == pytest.approx(1.0)


def test_online_retail_invoices_are_orders(ws: Workspace, shared_data: Path) -> None:
    path = shared_data / "uci-online-retail" / "online_retail_first240007rows_allcols.parquet"
    lines = pq.read_table(path).to_pandas()
    ingest_file(ws, "events", path, mapping="online-retail")
    df = load_features(ws.store, build_features(ws).run_id)[1]

    known = lines[lines["CustomerID"].notna() & (lines["UnitPrice"] >= 0)].copy()
    known["user"] = _customer_ids(known["CustomerID"])
    cancelled = known["InvoiceNo"].astype(str).str.startswith("C") | (known["Quantity"] < 0)
    invoices = known[~cancelled].groupby("user")["InvoiceNo"].nunique()
    assert df["frequency"].sum() == invoices.sum()
    assert (df.loc[invoices.index, "frequency"] == invoices).all()
    # average order value = invoice value before cancellations / invoices
    gross = (known[~cancelled]["Quantity"] * known[~cancelled]["UnitPrice"]).groupby(known["user"]).sum()
    assert np.allclose(df.loc[gross.index, "aov"], gross / invoices, rtol=1e-9)


def test_cdnow_master_totals(ws: Workspace, shared_data: Path) -> None:
    path = shared_data / "cdnow-lifetimes" / "CDNOW_master.txt"
    rows = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
    ingest_file(ws, "events", path, mapping="cdnow")
    run, df = load_features(ws.store, build_features(ws).run_id)

    assert run.n_users == 23_570  # documented
    assert df["monetary"].sum() == pytest.approx(rows["dollar_value"].sum(), rel=1e-12)
    # several lines of one customer on one day are one order (no order ids, dates only)
    assert df["frequency"].sum() == len(rows[["customer_id", "date"]].drop_duplicates())
    # as_of is 1998-07-01 (the day after the last purchase): its 365 days start 1997-07-01
    assert df["purchases_365d"].sum() == (rows["date"] >= "19970701").sum()


SAMPLE_MAPPING = """
[read]
format = "csv"
delimiter = "whitespace"
header = false
names = ["customer_id", "sample_id", "date", "number_of_cds", "dollar_value"]

[columns]
user_id = "sample_id"
ts = "date"
quantity = "number_of_cds"
amount = "dollar_value"

[constants]
event_type = "purchase"

[ts]
format = "%Y%m%d"
timezone = "UTC"

[rules]
identity = "line"
"""


def test_cdnow_sample_matches_the_published_rfm_summary(ws: Workspace, shared_data: Path, tmp_path: Path) -> None:
    # cdnow_customers_summary.csv (Fader, Hardie & Lee's calibration period, ending 1997-09-30):
    # frequency = repeat purchase days, recency = weeks from first to last purchase, T = weeks from
    # first purchase to 1997-09-30, all purchases on or before that day.
    mapping = tmp_path / "cdnow_sample.toml"
    mapping.write_text(SAMPLE_MAPPING, encoding="utf-8")
    ingest_file(ws, "events", shared_data / "cdnow-lifetimes" / "CDNOW_sample.txt", mapping=str(mapping))
    df = load_features(ws.store, build_features(ws, as_of="1997-10-01").run_id)[1]
    summary = pd.read_csv(shared_data / "cdnow-lifetimes" / "cdnow_customers_summary.csv")
    summary.index = summary["ID"].map(lambda i: f"{i:04d}")

    assert sorted(df.index) == sorted(summary.index)  # 2,357 customers of the first-quarter cohort
    got = df.loc[summary.index]
    assert (got["frequency"] - 1 == summary["frequency"]).all()
    weeks_first_to_last = (got["tenure_days"] - got["recency_days"]) / 7
    assert np.allclose(weeks_first_to_last, summary["recency"], atol=0.005 + 1e-9)
    assert np.allclose((got["tenure_days"] - 1) / 7, summary["T"], atol=0.005 + 1e-9)
    # and the mean inter-purchase interval is the first-to-last span over the repeat purchases
    repeat = summary["frequency"] > 0
    assert np.allclose(got.loc[repeat, "ipi_mean_days"] / 7,
                       summary.loc[repeat, "recency"] / summary.loc[repeat, "frequency"], atol=0.005)


def test_taobao_local_hours_and_funnel_counts(ws: Workspace, shared_data: Path, with_settings) -> None:
    path = shared_data / "taobao-userbehavior-sample" / "UserBehavior_first814users.csv"
    raw = pd.read_csv(path, header=None, names=["user", "item", "category", "behavior", "ts"],
                      dtype={"user": str, "item": str, "category": str})
    ingest_file(ws, "events", path, mapping="taobao")
    shanghai = with_settings(ws, time={"timezone": "Asia/Shanghai"})
    run, df = load_features(ws.store, build_features(shanghai).run_id)

    assert run.n_users == 814
    # every event is within a year of as_of: the 365-day counts are the behaviour totals
    totals = raw["behavior"].value_counts()
    assert df["views_365d"].sum() == totals["pv"]
    assert df["carts_365d"].sum() == totals["cart"]
    assert df["favs_365d"].sum() == totals["fav"]
    assert df["purchases_365d"].sum() == totals["buy"]
    # preferred hour on the Beijing clock (UTC+8): the most frequent local hour, earliest on ties
    raw["hour"] = (raw["ts"] // 3600 + 8) % 24
    counts = raw.groupby(["user", "hour"]).size().rename("n").reset_index()
    counts = counts.sort_values(["user", "n", "hour"], ascending=[True, False, True])
    preferred = counts.drop_duplicates("user").set_index("user")["hour"]
    assert (df.loc[preferred.index, "preferred_hour"] == preferred.astype(float)).all()
    # the top category, by interest events, alphabetically first on ties
    cats = raw.groupby(["user", "category"]).size().rename("n").reset_index()
    cats = cats.sort_values(["user", "n", "category"], ascending=[True, False, True])
    top = cats.drop_duplicates("user").set_index("user")["category"]
    assert (df.loc[top.index, "top_category"] == top).all()
