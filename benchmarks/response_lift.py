"""Lift at the top decile of predicted campaign response on the iFood customers
(customer-personality-analysis), an audience against random targeting.

    python -m benchmarks.response_lift [--cv 5]

Two ways, side by side:

- ``held out``: the predictions step's response model (``segmark predict train response``) trained on
  half the customers (labels in a file; the Response column removed from the users file, so it is
  not an input) scores everyone; the audience is ``response_decile = 10`` among the other half (an
  id-list tag), whose responses the model never saw. Random targeting of that half converts at its
  base rate.
- ``in sample``: the model trained on every customer (``--label-column Response``) and the audience
  ``response_decile = 10`` of everyone — what a user running the commands on all data sees, optimistic
  because the model has seen those very responses.

Each row: the audience's size, responders, response rate, the base rate of random targeting, the
lift (rate / base rate) with a 95% interval (log risk ratio), and the model's out-of-fold ROC-AUC.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import tempfile
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from segmark.cli import app
from segmark.workspace import open_workspace

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "customer-personality-analysis"
TAGS = ("version: 1\ngroups:\n  - group: evaluation\n    tags:\n      - tag: evaluation_half\n        kind: list\n"
        "        file: eval_ids.csv\n")


def _run(ws: Path, *args: str) -> str:
    r = CliRunner().invoke(app, [*args, "-w", str(ws)])
    if r.exit_code:
        raise SystemExit(f"segmark {' '.join(args)} failed:\n{r.output}")
    return r.stdout


def _members(ws: Path, name: str) -> list[str]:
    with open_workspace(ws, read_only=True) as w:
        return [r[0] for r in w.store.query_rows("SELECT user_id FROM audience_members m JOIN audiences a "
                                                 "USING (audience_id) WHERE a.name = ?", [name])]


def _row(name: str, top: pd.Series, base: pd.Series, auc: float) -> list[str]:
    x1, n1, x0, n0 = int(top.sum()), len(top), int(base.sum()), len(base)
    lift = (x1 / n1) / (x0 / n0)
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x0 - 1 / n0)
    lo, hi = lift * math.exp(-1.96 * se), lift * math.exp(1.96 * se)
    return [name, f"{n1:,}", f"{x1:,}", f"{x1 / n1:.1%}", f"{x0 / n0:.1%} ({x0:,}/{n0:,})", f"{lift:.2f}x",
            f"[{lo:.2f}, {hi:.2f}]", f"{auc:.3f}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cv", type=int, default=5)
    args = ap.parse_args()
    raw = pd.read_csv(DATA / "marketing_campaign.csv", sep="\t", dtype=str, keep_default_na=False)
    response = raw.set_index("ID")["Response"].astype(int)
    half = raw["ID"].map(lambda u: int(hashlib.sha256(u.encode()).hexdigest(), 16) % 2)
    table = Table(title="iFood customers: top decile of predicted response against random targeting")
    for col in ("model", "audience", "responders", "rate", "random targeting", "lift", "95% interval",
                "ROC-AUC (out of fold)"):
        table.add_column(col, justify="left" if col == "model" else "right")
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        raw.drop(columns=["Response"]).to_csv(t / "customers.tsv", sep="\t", index=False)
        raw[half == 0][["ID", "Response"]].set_axis(["user_id", "label"], axis=1).to_csv(t / "labels.csv",
                                                                                          index=False)
        raw[half == 1][["ID"]].set_axis(["user_id"], axis=1).to_csv(t / "eval_ids.csv", index=False)
        (t / "tags.yaml").write_text(TAGS, encoding="utf-8")
        ws = t / "held-out"
        CliRunner().invoke(app, ["init", str(ws)])
        _run(ws, "ingest", "users", str(t / "customers.tsv"), "--mapping", "ifood-crm")
        _run(ws, "features", "build", "--as-of", "2014-06-30")
        trained = json.loads(_run(ws, "predict", "train", "response", "--label-file", str(t / "labels.csv"),
                                  "--cv", str(args.cv), "--json"))
        _run(ws, "tags", "apply", "--rules", str(t / "tags.yaml"))
        _run(ws, "audience", "create", "top", "--where", "response_decile = 10 AND has_tag('evaluation_half')")
        _run(ws, "audience", "create", "half", "--where", "has_tag('evaluation_half')")
        table.add_row(*_row(f"held out ({trained['model']}, trained on {int((half == 0).sum()):,})",
                            response.loc[_members(ws, "top")], response.loc[_members(ws, "half")],
                            trained["roc_auc"]))
        ws = t / "in-sample"
        CliRunner().invoke(app, ["init", str(ws)])
        _run(ws, "ingest", "users", str(DATA / "marketing_campaign.csv"), "--mapping", "ifood-crm")
        _run(ws, "features", "build", "--as-of", "2014-06-30")
        trained = json.loads(_run(ws, "predict", "train", "response", "--label-column", "Response", "--cv",
                                  str(args.cv), "--json"))
        _run(ws, "audience", "create", "top", "--where", "response_decile = 10")
        table.add_row(*_row(f"in sample ({trained['model']}, trained on all {len(raw):,})",
                            response.loc[_members(ws, "top")], response, trained["roc_auc"]))
    Console(width=170).print(table)


if __name__ == "__main__":
    main()
