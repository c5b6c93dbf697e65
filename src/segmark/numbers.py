"""Numbers as people read them: about three significant digits, never in exponent form (a reader of
"sessions mean 9.87e-05" is left to decode it; "0.0000987" says how small it is)."""

from __future__ import annotations

import math

MAX_DECIMALS = 8
"""Beyond this a value is shown as 0 (it is one to any reader)."""


def significant(v: float, digits: int = 3, *, grouping: bool = True) -> str:
    """``v`` to ``digits`` significant digits in plain notation: 1,075 / 10.7 / 1.07 / 0.107 /
    0.0000987; whole hundreds and more with no decimals, and thousands separators unless not
    ``grouping`` (a rule's threshold reads like the expression it is: ``aov <= 1075``)."""
    if not math.isfinite(v):
        return str(v)
    if abs(v) >= 10 ** (digits - 1):
        return f"{v:,.0f}" if grouping else f"{v:.0f}"
    if v == 0:
        return "0"
    decimals = min(MAX_DECIMALS, digits - 1 - math.floor(math.log10(abs(v))))
    text = f"{v:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
