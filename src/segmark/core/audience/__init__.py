"""Audiences and campaigns, pure: the expression language (``expression``), binding it into a plan
with bound parameters (``plan``), the stratified holdout (``holdout``), campaign readout
(``lift``), sample sizes (``power``) and uplift models with Qini curves (``uplift``)."""

from segmark.core.audience.expression import ExpressionError, parse
from segmark.core.audience.holdout import stratified_holdout
from segmark.core.audience.lift import readout, readout_by
from segmark.core.audience.plan import Catalog, Field, Plan, bind, compile_expression
from segmark.core.audience.power import sample_size
from segmark.core.audience.uplift import (
           METHODS,
           TwoModelUplift,
           XLearnerUplift,
           qini_curve,
           uplift_curve,
           uplift_scores,
)

__all__ = ["METHODS", "Catalog", "ExpressionError", "Field", "Plan", "TwoModelUplift", "XLearnerUplift", "bind",
           "compile_expression", "parse", "qini_curve", "readout", "readout_by", "sample_size", "stratified_holdout",
           "uplift_curve", "uplift_scores"]
