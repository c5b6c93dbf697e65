"""Audiences and campaigns, pure. One module per concern, imported where used (the statistical and
learning modules load SciPy and scikit-learn, which the expression commands do not need):

- ``expression``: the language's Lark grammar and syntax tree; ``plan``: binding it to a catalogue
  of names into SQL condition text with bound parameters;
- ``holdout``: the reproducible control group, stratified by segment;
- ``playbook``: default actions per segment;
- ``lift``: campaign readout (intervals, permutation p-value, bootstrap); ``power``: sample sizes;
- ``uplift``: two-model and X-learner uplift, Qini and uplift curves, AUUC.
"""

from segmark.core.audience.expression import ExpressionError, parse
from segmark.core.audience.plan import Catalog, Field, Plan, bind, compile_expression

__all__ = ["Catalog", "ExpressionError", "Field", "Plan", "bind", "compile_expression", "parse"]
