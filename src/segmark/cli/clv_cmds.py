"""``segmark clv fit|predict`` (lifetime value) and ``segmark forecast revenue`` (weekly sales)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from segmark.cli import app
from segmark.cli._common import JsonOpt, Lang, WorkspaceOpt, console, plain, print_json, workspace
from segmark.pipeline.clv import fit_clv, predict_clv
from segmark.pipeline.forecast import forecast_revenue
from segmark.text import msg

clv_app = typer.Typer(help="Customer lifetime value: BG/NBD or Pareto/NBD purchases, Gamma-Gamma spend.",
                      no_args_is_help=True)
forecast_app = typer.Typer(help="Weekly sales forecasts with a backtest against seasonal-naive.",
                           no_args_is_help=True)
app.add_typer(clv_app, name="clv")
app.add_typer(forecast_app, name="forecast")

LangOpt = Annotated[Lang | None, typer.Option("--lang", help="Language of the output: en or zh "
                                              "(default: the workspace's lang).", show_default=False)]


class CountModel(StrEnum):
    bgnbd = "bgnbd"
    pareto_nbd = "pareto-nbd"


class Unit(StrEnum):
    days = "days"
    weeks = "weeks"


class By(StrEnum):
    total = "total"
    segment = "segment"
    category = "category"


def _lang(ws: Any, lang: Lang | None) -> str:
    return str(lang or ws.settings.lang)


@clv_app.command("fit")
def fit(
    model: Annotated[CountModel, typer.Option("--model", help="Purchase-count model.")] = CountModel.bgnbd,
    unit: Annotated[Unit, typer.Option("--unit", help="Time unit of the parameters.")] = Unit.weeks,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Use purchases before this date (whole days: "
                                              "1997-10-01 covers purchases through 1997-09-30).",
                                              show_default=False)] = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Fit the purchase model (and Gamma-Gamma for spend) on every customer's purchase days; when the
    store holds purchases after the cut, compare expected and actual repeat purchases there.

    Examples: [bold]segmark clv fit --as-of 1997-10-01[/], [bold]segmark clv fit --model pareto-nbd --unit days[/]
    """
    with workspace(ws_dir) as ws:
        result = fit_clv(ws, model=model.value, unit=unit.value, as_of=as_of)
        out_lang = _lang(ws, lang)
    if json_out:
        print_json(result.to_dict())
        return
    m = result.metrics
    console.print(msg("clv.fit.title", out_lang, model=result.model, customers=m["customers"],
                      repeat=m["repeat_customers"], end=m["calibration_end"],
                      unit=msg(f"clv.unit.{result.unit}", out_lang)), highlight=False)
    params = ", ".join(f"{k} {v:.4f}" for k, v in result.params.items())
    console.print(msg("clv.fit.params", out_lang, params=params, ll=result.log_likelihood), highlight=False)
    if result.spend_params:
        console.print(msg("clv.fit.spend", out_lang, **result.spend_params), highlight=False)
    h = m.get("holdout")
    if h:
        console.print(msg("clv.fit.holdout", out_lang, weeks=h["weeks"], actual=h["actual"],
                          expected=h["expected"],
                          error=h["error"]), highlight=False)
        t = Table()
        for key in ("clv.col.x", "clv.col.customers", "clv.col.actual",
                    "clv.col.expected"):
            t.add_column(msg(key, out_lang), justify="right")
        for b in h["by_frequency"]:
            t.add_row(b["x"], f"{b['customers']:,}", f"{b['actual']:.3f}", f"{b['expected']:.3f}")
        console.print(t)


@clv_app.command("predict")
def predict(
    horizon: Annotated[int, typer.Option("--horizon", help="Days ahead.", min=1)] = 365,
    discount: Annotated[float, typer.Option("--discount", help="Yearly discount rate (0.1 = 10%).",
                                           min=0.0)] = 0.1,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Every customer's expected purchases, P(alive), spend per purchase and discounted CLV over the
    horizon, from the latest fit; stored for tags and audiences (clv, clv_decile, p_alive...).

    Example: [bold]segmark clv predict --horizon 365 --discount 0.1[/]
    """
    with workspace(ws_dir) as ws:
        result = predict_clv(ws, horizon_days=horizon, discount=discount)
        out_lang = _lang(ws, lang)
    if json_out:
        print_json(result)
        return
    clv = "-" if result["clv"] is None else f"{result['clv']:,.0f}"
    console.print(msg("clv.predict.done", out_lang, customers=result["customers"], horizon=horizon,
                      discount=discount,
                      purchases=result["expected_purchases"], alive=result["mean_p_alive"] or 0, clv=clv),
                  highlight=False)
    t = Table()
    for key in ("clv.col.user", "clv.col.expected_purchases", "clv.col.p_alive",
                "clv.col.expected_spend",
                "clv.col.clv"):
        t.add_column(msg(key, out_lang), justify="right")
    for r in result["top"]:
        t.add_row(plain(r["user_id"]), f"{r['expected_purchases']:.2f}", f"{r['p_alive']:.2f}",
                  "-" if r["expected_spend"] is None else f"{r['expected_spend']:,.2f}",
                  "-" if r["clv"] is None else f"{r['clv']:,.0f}")
    console.print(t)


@forecast_app.command("revenue")
def revenue(
    weeks: Annotated[int, typer.Option("--weeks", help="Weeks ahead (and weeks held out for the backtest).",
                                        min=1, max=104)] = 13,
    by: Annotated[By, typer.Option("--by", help="Groups: total, segment (the latest segmentation) or category.")
                  ] = By.total,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Weekly revenue, orders and units for the next weeks, per group and in total, with a backtest on
    the last weeks against a seasonal-naive forecast.

    Examples: [bold]segmark forecast revenue --weeks 8[/], [bold]segmark forecast revenue --by category[/]
    """
    with workspace(ws_dir) as ws:
        result = forecast_revenue(ws, weeks=weeks, by=by.value)
        out_lang = _lang(ws, lang)
    if json_out:
        print_json(result)
        return
    console.print(msg("forecast.title", out_lang, by=msg(f"forecast.by.{by.value}", out_lang),
                      weeks=weeks,
                      start=result["start"], method=msg("forecast.method", out_lang)), highlight=False)
    t = Table()
    t.add_column(msg("forecast.col.group", out_lang))
    for key in ("forecast.col.revenue", "forecast.col.orders", "forecast.col.units"):
        t.add_column(msg(key, out_lang), justify="right")
    t.add_column(msg("forecast.col.wape", out_lang), justify="right")
    t.add_column(msg("forecast.col.wape_naive", out_lang), justify="right")
    for g in result["groups"]:
        bt = g["revenue"]["backtest"]
        t.add_row(plain(g["name_zh"] if out_lang == "zh" else g["name"]), f"{g['revenue']['forecast_total']:,.0f}",
                  f"{g['orders']['forecast_total']:,.0f}", f"{g['units']['forecast_total']:,.0f}",
                  "-" if not bt or bt["model"]["wape"] is None else f"{bt['model']['wape']:.1%}",
                  "-" if not bt or bt["seasonal_naive"]["wape"] is None else f"{bt['seasonal_naive']['wape']:.1%}")
    console.print(t)
    total = next(g for g in result["groups"] if g["group"] == "all")["revenue"]["backtest"]
    if total and total["model"]["wape"] is not None and total["seasonal_naive"]["wape"] is not None:
        console.print(msg("forecast.backtest", out_lang, weeks=result["holdout_weeks"],
                          wape=total["model"]["wape"],
                          naive_wape=total["seasonal_naive"]["wape"], mape=total["model"]["mape"] or 0,
                          naive_mape=total["seasonal_naive"]["mape"] or 0), highlight=False)
        better = total["model"]["wape"] < total["seasonal_naive"]["wape"]
        console.print(msg("forecast.beats" if better else "forecast.not_beats", out_lang))
