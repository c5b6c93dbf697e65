"""The report's words, read from the message catalogue (areas ``report`` and ``data`` of
:mod:`segmark.text`), and the number formats of each language.

Text is kept as data (one ``(en, zh)`` pair per key, side by side) so a missing translation is a
``KeyError`` in the tests rather than a half-English page, and so readings generated from the data
use the same templates in both languages.
"""

from __future__ import annotations

import math
import numbers
from datetime import date, datetime
from typing import Any

from segmark.core.segment.reasons import TEMPLATES as REASON_TEMPLATES
from segmark.core.segment.reasons import reason_text
from segmark.numbers import significant
from segmark.text import Lang, catalogue, msg, template

TEXT: dict[str, tuple[str, str]] = {key.removeprefix("report."): pair for key, pair in catalogue().items()
                                    if key.startswith("report.")}
"""The report's own messages (area ``report`` of :mod:`segmark.text`) without their prefix."""


def tr(key: str, lang: Lang, **values: Any) -> str:
    """The report text ``key`` (``report.<key>`` in the catalogue) in ``lang`` with ``values`` filled in."""
    text = template(f"report.{key}", lang)
    return text.format(**values) if values else text


def event_label(event_type: str, lang: Lang) -> str:
    key = f"data.event.{event_type}"
    if key in catalogue():
        return msg(key, lang)
    return event_type if lang == "zh" else event_type.replace("_", " ")


def reason_label(reason: str, lang: Lang) -> str:
    key = f"data.reason.{reason}"
    return msg(key, lang) if key in catalogue() else reason


def selection_reason(code: Any, params: Any, fallback: Any, lang: Lang, *, short: bool = False) -> str:
    """A model-selection reason in ``lang`` from its code and parameters; the stored (English) text
    ``fallback`` for records made before reasons had codes."""
    if isinstance(code, str) and code in REASON_TEMPLATES:
        return reason_text(code, params if isinstance(params, dict) else {}, lang, short=short)
    return "" if fallback is None or (isinstance(fallback, float) and math.isnan(fallback)) else str(fallback)


def status_label(status: str, lang: Lang) -> str:
    """A candidate's status: the winner reads "chosen"."""
    key = f"report.status.{status}"
    return msg(key, lang) if key in catalogue() else status


def table_label(table: str, lang: Lang) -> str:
    key = f"data.table.{table}"
    return msg(key, lang) if key in catalogue() else table


def _finite(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def fmt_int(n: Any) -> str:
    """``12,345``: grouped digits read the same in both languages."""
    return f"{int(n):,}" if _finite(n) else "–"


def fmt_pct(x: Any) -> str:
    """A share as a percentage: whole percents, one decimal below 10%, '<0.1%' for tiny non-zero shares."""
    if not _finite(x):
        return "–"
    if x == 0:
        return "0%"
    if abs(x) < 0.001:
        return "<0.1%"
    return f"{x:.1%}" if abs(x) < 0.1 else f"{x:.0%}"


def fmt_num(x: Any, digits: int = 2) -> str:
    return f"{x:,.{digits}f}" if _finite(x) else "–"


def fmt_compact(x: Any, lang: Lang) -> str:
    """Large amounts the way each language reads them: 1.2M in English, 120万 in Chinese."""
    if not _finite(x):
        return "–"
    sign, v = ("-" if x < 0 else ""), abs(float(x))
    units = (("亿", 1e8), ("万", 1e4)) if lang == "zh" else (("B", 1e9), ("M", 1e6), ("K", 1e3))
    for unit, size in units:
        if v >= size * 0.9995:  # 999,999 reads as 1M, not 1,000K
            return f"{sign}{_three_digits(v / size)}{unit}"
    return f"{sign}{_three_digits(v)}"


def _three_digits(v: float) -> str:
    """About three significant digits, never in exponent form: 1,075 / 10.7 / 1.07 / 0.107."""
    return significant(v)


def fmt_lift(x: Any) -> str:
    if not _finite(x):
        return ""
    return f"×{x:.1f}" if x >= 0.95 or x == 0 else f"×{x:.2f}"


def fmt_date(d: date | datetime | None) -> str:
    return d.strftime("%Y-%m-%d") if d is not None else "–"
