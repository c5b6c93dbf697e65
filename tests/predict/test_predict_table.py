"""Models from a plain user table (no event log): the two public benchmarks, the CLI contract, the
signed model, explanations and label files. Published figures: online shoppers ROC-AUC 0.93 (random
forest) to 0.937 (XGBoost); iFood campaign response 0.891 (logistic) to 0.895 (random forest)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from segmark.cli import app
from segmark.errors import InputError, StoreError
from segmark.pipeline.ingest import ingest_file
from segmark.pipeline.predict import explain_user, get_model, latest_scores, score_model, train_model
from segmark.workspace import Workspace, open_workspace

runner = CliRunner()
HEADLINE = {"roc_auc", "pr_auc", "precision", "recall", "f1", "brier", "threshold"}


@pytest.fixture
def ifood(ws: Workspace, shared_data: Path) -> Workspace:
    path = shared_data / "customer-personality-analysis" / "marketing_campaign.csv"
    ingest_file(ws, "users", path, mapping="ifood-crm")
    return ws


def test_campaign_response_on_the_ifood_crm_export(ifood: Workspace, shared_data: Path, tmp_path: Path) -> None:
    # the labels come as a file made from the export's Response column, which the users table still holds:
    # that column is the label itself and must not be an input (it gave ROC-AUC 1.000)
    raw = pd.read_csv(shared_data / "customer-personality-analysis" / "marketing_campaign.csv", sep="\t")
    labels = tmp_path / "responses.csv"
    raw[["ID", "Response"]].set_axis(["user_id", "label"], axis=1).to_csv(labels, index=False)
    result = runner.invoke(app, ["predict", "train", "response", "--label-file", str(labels), "--cv", "5",
                                 "--json", "-w", str(ifood.root)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["inputs"]["leaks"] == {"Response": "identical"}
    assert out["warnings"] == ["Response is left out of the inputs: its values are the label itself"]
    assert HEADLINE | {"model", "baseline"} <= set(out)
    assert set(out["baseline"]) >= HEADLINE
    assert 0.89 <= out["roc_auc"] < 0.97
    assert out["roc_auc"] > out["baseline"]["roc_auc"]
    assert out["baseline"]["model"] != "best_single_input:Response" and out["baseline"]["roc_auc"] < 0.8
    ev = out["evaluation"]
    assert ev["cv_scheme"] == "stratified_kfold" and ev["cv_rows"] == 2240
    assert {c["model"] for c in ev["candidates"]} >= {"tree", "logistic", "svm", "mlp", "hgb"}
    # the customer-since date became days as a customer; the label and constant columns are not inputs
    attrs = out["inputs"]["attributes"]
    assert attrs["kinds"]["Dt_Customer"] == "date" and attrs["date_formats"]["Dt_Customer"] == "%d-%m-%Y"
    dropped = attrs["dropped"]
    assert {k: dropped[k] for k in ("Response", "Z_CostContact", "Z_Revenue")} == {
        "Response": "label_leak", "Z_CostContact": "constant", "Z_Revenue": "constant"}
    assert "Response" not in out["inputs"]["numeric"] and "Response" not in out["importance"]
    assert "Income" in out["inputs"]["numeric"]
    # 334 responders of 2,240 (the data set's documented 15%)
    assert ev["cv"]["positives"] == 334
    # the snapshot is the day after the last customer-since date (2014-06-29)
    assert out["as_of"].startswith("2014-06-30")
    ifood.close()  # read-only commands below open the database themselves

    # predict show --json: the same headline keys, read back from the store; the warning in both languages
    shown = json.loads(runner.invoke(app, ["predict", "show", "response", "--json", "-w", str(ifood.root)]).output)
    assert shown["roc_auc"] == out["roc_auc"] and shown["model"] == out["model"]
    zh = runner.invoke(app, ["predict", "show", "response", "--lang", "zh", "-w", str(ifood.root)])
    assert "Response 未作为输入：它的值就是标签本身" in zh.output
    exported = ifood.root / "response.csv"
    r = runner.invoke(app, ["predict", "export", "response", "--out", str(exported), "-w", str(ifood.root)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(exported, dtype={"user_id": str})
    assert list(df.columns) == ["user_id", "probability", "decile"] and len(df) == 2240
    assert df["probability"].is_monotonic_decreasing
    r = runner.invoke(app, ["predict", "why", "response", "5524", "--lang", "zh", "-w", str(ifood.root)])
    assert r.exit_code == 0 and "使概率" in r.output, r.output

    with open_workspace(ifood.root) as again:
        scores = latest_scores(again.store)
        why = explain_user(again, "response", "5524")
    # every user scored, deciles 1..10, the top decile far richer in responders
    assert len(scores) == 2240 and scores["response_decile"].between(1, 10).all()
    by_decile = scores.join(raw.assign(user_id=raw["ID"].astype(str)).set_index("user_id")["Response"])
    rates = by_decile.groupby("response_decile")["Response"].mean()
    assert rates[10] > 3 * raw["Response"].mean()
    assert why["reasons"] and all(r["text"] and r["text_zh"] for r in why["reasons"])
    assert why["decile"] == scores.loc["5524", "response_decile"]


def test_purchase_propensity_on_online_shoppers(ws: Workspace, shared_data: Path) -> None:
    path = shared_data / "online-shoppers-intention" / "online_shoppers_intention.csv"
    ingest_file(ws, "users", path, mapping="online-shoppers")
    # each session is a user named by its line (the header is line 1)
    ids = ws.store.query_df("SELECT user_id FROM users ORDER BY user_id")["user_id"]
    assert len(ids) == 12_330 and ids.iloc[0] == "S00002" and ids.iloc[-1] == "S12331"
    info = train_model(ws, "propensity", label_column="Revenue", cv=5, candidates=["hgb"], score=False)
    assert info.evaluation["cv"]["roc_auc"] >= 0.93
    assert info.evaluation["cv"]["positives"] == 1908  # 15.5% of 12,330 sessions bought
    assert next(iter(info.importance)) == "PageValues"


def test_a_model_from_another_workspace_is_refused(ifood: Workspace) -> None:
    info = train_model(ifood, "response", label_column="Response", cv=3, candidates=["logistic"], score=False)
    # the label column is never an input
    assert info.inputs["attributes"]["dropped"]["Response"] == "label" and not info.inputs["leaks"]
    assert "Response" not in info.inputs["numeric"] + info.inputs["categorical"]
    (ifood.root / ".segmark-key").write_text("ab" * 32 + "\n", encoding="ascii")
    with pytest.raises(StoreError, match="another workspace or changed"):
        score_model(ifood, "response")
    assert get_model(ifood.store, "response").algorithm == "logistic"  # the record itself stays readable


def test_label_files_and_their_errors(ifood: Workspace, tmp_path: Path) -> None:
    ids = ifood.store.query_df("SELECT user_id FROM users ORDER BY user_id")["user_id"].tolist()
    good = tmp_path / "labels.csv"
    pd.DataFrame({"user_id": ids[:400], "label": ["yes", "no"] * 200}).to_csv(good, index=False)
    info = train_model(ifood, "response", name="campaign7", label_file=good, cv=3, candidates=["logistic"])
    assert info.label_source == "file:labels.csv" and info.n_train == 400
    assert "campaign7_probability" in latest_scores(ifood.store).columns
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,label\n5524,1\n2174,0\n4141,maybe\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv, line 4, column label: .*'maybe'"):
        train_model(ifood, "response", label_file=bad)
    with pytest.raises(InputError, match="not a column of the users table"):
        train_model(ifood, "response", label_column="Responded")
