"""``segmark campaign readout|plan|uplift``: measure a campaign on its audience's groups, plan its
size, and learn whom it moved."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from segmark.cli import app
from segmark.cli._common import (
    JsonOpt,
    Lang,
    LangOpt,
    WorkspaceOpt,
    console,
    language,
    local_time,
    plain,
    print_json,
    workspace,
)
from segmark.text import msg

campaign_app = typer.Typer(help="Campaigns: readout of treatment against control, sample-size plan, uplift models.",
                           no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")

SinceOpt = Annotated[str, typer.Option("--since", help="The send: the window starts here (a date, or a local "
                                       "date-time, on the shop's clock).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="The window ends here, exclusive (default: after the "
                                              "last event).", show_default=False)]



def _relative(value: float | None, lang: str) -> str:
    return msg("campaign.relative_none", lang) if value is None else msg("campaign.relative", lang, value=value)


def _nan(v: float | None) -> float:
    return float("nan") if v is None else v


def lift_line(r: dict[str, Any], lang: str) -> str:
    lift = r["lift"]
    if lift["absolute"] is None:
        return "-"
    return msg("campaign.lift", lang, absolute=lift["absolute"], relative=_relative(lift["relative"], lang),
               confidence=r["confidence"], ci_low=lift["ci_low"], ci_high=lift["ci_high"], p_value=lift["p_value"],
               b_low=_nan(lift["bootstrap_ci_low"]), b_high=_nan(lift["bootstrap_ci_high"]))


@campaign_app.command("readout")
def readout_cmd(
    audience: Annotated[str, typer.Argument(help="The audience the campaign was sent to.")],
    since: SinceOpt,
    until: UntilOpt = None,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Conversion and revenue per user in treatment against control after the send, with absolute
    and relative lift, confidence intervals, an exact permutation p-value and a bootstrap check,
    overall and per segment.

    Examples:

      segmark campaign readout winback --since 2025-11-11

      segmark campaign readout winback --since 2025-11-11 --until 2025-11-25 --json
    """
    from segmark.pipeline.campaign import campaign_readout

    with workspace(ws_dir) as ws:
        r = campaign_readout(ws, audience, since, until)
        if as_json:
            print_json(r)
            return
        lg = language(lang, ws)
        console.print(msg("campaign.title", lg, audience=audience, since=local_time(r["since"]),
                          until=local_time(r["until"])))
        t = Table()
        for key in ("group", "users", "conversions", "rate", "rpu"):
            t.add_column(msg(f"campaign.col.{key}", lg), justify="left" if key == "group" else "right")
        for arm in ("treatment", "control"):
            g = r[arm]
            t.add_row(msg(f"audience.col.{arm}", lg), f"{g['users']:,}", f"{g['conversions']:,}",
                      f"{g['conversion_rate']:.2%}", f"{g['revenue_per_user']:,.2f}")
        console.print(t)
        console.print(lift_line(r, lg), soft_wrap=True)
        rl = r["revenue_lift"]
        if rl["absolute"] is not None:
            console.print(msg("campaign.revenue_lift", lg, absolute=rl["absolute"],
                              relative=_relative(rl["relative"], lg), ci_low=_nan(rl["ci_low"]),
                              ci_high=_nan(rl["ci_high"])), soft_wrap=True)
        t = Table(title=msg("campaign.by_segment", lg), title_justify="left")
        for key, text in (("segment", msg("audience.col.segment", lg)),
                          ("treatment", msg("audience.col.treatment", lg)),
                          ("control", msg("audience.col.control", lg)), ("lift", msg("campaign.col.lift", lg)),
                          ("interval", msg("campaign.col.interval", lg))):
            t.add_column(text, justify="left" if key == "segment" else "right")
        for s in r["by_segment"]:
            lift = s["lift"]
            t.add_row(plain(s["name_zh"] if lg == "zh" else s["name"]),
                      f"{s['treatment']['conversions']}/{s['treatment']['users']}",
                      f"{s['control']['conversions']}/{s['control']['users']}",
                      "-" if lift["absolute"] is None else f"{lift['absolute']:+.2%}",
                      "-" if lift["ci_low"] is None else f"[{lift['ci_low']:+.2%}, {lift['ci_high']:+.2%}]")
        console.print(t)
        if r.get("warning"):
            console.print(plain(msg("campaign.warning", lg, text=r["warning"])), style="yellow", soft_wrap=True)


@campaign_app.command("plan")
def plan_cmd(
    baseline: Annotated[float, typer.Option("--baseline", help="Conversion rate without the campaign, e.g. 0.05.")],
    lift: Annotated[float, typer.Option("--lift", help="The smallest lift worth detecting: absolute (0.01 = one "
                                        "point) unless --relative.")],
    power: Annotated[float, typer.Option("--power", help="Chance of detecting the lift when it is real.")] = 0.8,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level (two-sided).")] = 0.05,
    relative: Annotated[bool, typer.Option("--relative", help="--lift is relative (0.1 = +10%).")] = False,
    holdout: Annotated[float, typer.Option("--holdout", help="Share of the audience in control (0.5 = equal "
                                           "groups).")] = 0.5,
    as_json: JsonOpt = False,
    lang: Annotated[Lang, typer.Option("--lang", help="Text in en or zh.")] = Lang.en,
) -> None:
    """Users needed in control and treatment to detect a lift in conversion.

    Examples:

      segmark campaign plan --baseline 0.05 --lift 0.01

      segmark campaign plan --baseline 0.05 --lift 0.2 --relative --holdout 0.1 --json
    """
    from segmark.cli._common import guarded
    from segmark.pipeline.campaign import campaign_plan

    with guarded():
        r = campaign_plan(baseline, lift, power=power, alpha=alpha, relative=relative, holdout=holdout)
    if as_json:
        print_json(r)
        return
    console.print(msg("campaign.plan", lang.value, **r), soft_wrap=True)


@campaign_app.command("uplift")
def uplift_cmd(
    audience: Annotated[str, typer.Argument(help="The audience the campaign was sent to.")],
    since: SinceOpt,
    until: UntilOpt = None,
    method: Annotated[str, typer.Option("--method", help="two-model or x-learner.")] = "x-learner",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the train/test split.")] = 0,
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    ws_dir: WorkspaceOpt = None,
) -> None:
    """Learn whom the campaign moved: an uplift model on the members' features, judged on held-out
    members by its Qini curve and AUUC against random targeting; each member's uplift is stored.

    Examples:

      segmark campaign uplift winback --since 2025-11-11 --method two-model
    """
    from segmark.pipeline.campaign import fit_uplift

    with workspace(ws_dir) as ws:
        r = fit_uplift(ws, audience, since, until, method=method, seed=seed)
        if as_json:
            print_json(r)
            return
        console.print(msg("campaign.uplift", language(lang, ws), **r), soft_wrap=True)
