"""The users table's own columns as model inputs: each attribute column typed from its values.

Ingestion keeps every non-canonical column of a users file as text (``users.attributes``). Here each
column becomes one of:

- ``flag``: every value is 0/1, true/false, yes/no, y/n or t/f (case-insensitive) -> 0.0 / 1.0;
- ``date``: every value parses with one date layout (ISO, DD-MM-YYYY, MM-DD-YYYY, with - / or .)
  -> its age in days as of ``as_of`` (a customer-since date becomes days as a customer);
- ``number``: every value parses as a number;
- ``category``: anything else with few enough distinct values to learn from (identifiers and free
  text are left out: every value distinct, or more than 20 distinct values covering more than half
  of the rows);

and columns with a single value are left out. "Every" allows 1% of unreadable values, which become
missing. The typing is decided once, at training, and stored with the model (``AttributeTypes``),
so scoring reads the same columns the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

FLAG_VALUES: dict[str, float] = {
    "0": 0.0, "1": 1.0, "false": 0.0, "true": 1.0, "no": 0.0, "yes": 1.0, "n": 0.0, "y": 1.0,
    "f": 0.0, "t": 1.0, "0.0": 0.0, "1.0": 1.0, "否": 0.0, "是": 1.0,
}
"""Values of a yes/no column (labels use the same vocabulary)."""

DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y", "%d/%m/%Y", "%m/%d/%Y",
                                 "%d.%m.%Y", "%Y-%m-%d %H:%M:%S")
"""Date layouts tried in order; the first that reads the whole column wins (day-first before
month-first, so 04-09-2012 in a column that also holds 28-02-2013 is the 4th of September)."""

TOLERANCE = 0.01
"""Share of a column's non-empty values that may fail its type's parse (they become missing)."""

MAX_CATEGORY_SHARE = 0.5
"""A text column with more distinct values than this share of its rows is an identifier or free text."""


@dataclass(frozen=True)
class AttributeTypes:
    """How each attribute column is read: kind per column and the date layout of date columns."""

    kinds: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    """Columns left out, with why (constant, identifier, label)."""

    @property
    def numeric(self) -> list[str]:
        return [c for c, k in self.kinds.items() if k in ("number", "flag", "date")]

    @property
    def categorical(self) -> list[str]:
        return [c for c, k in self.kinds.items() if k == "category"]


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype(str).str.strip() == "")


def parse_flags(values: pd.Series) -> pd.Series:
    """0/1, true/false, yes/no... as 0.0/1.0; anything else NaN."""
    return values.astype(str).str.strip().str.lower().map(FLAG_VALUES).astype(float)


def _date_format(text: pd.Series) -> str | None:
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.notna().mean() >= 1 - TOLERANCE:
            return fmt
    return None


def infer_types(raw: pd.DataFrame, *, exclude: tuple[str, ...] = ()) -> AttributeTypes:
    """Decide each column's kind from its values (text as ingested, or already typed)."""
    kinds: dict[str, str] = {}
    formats: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for col in raw.columns:
        if col in exclude:
            dropped[col] = "label"
            continue
        s = raw[col]
        present = s[~_blank(s)]
        if present.nunique() <= 1:
            dropped[col] = "constant"
            continue
        text = present.astype(str).str.strip()
        lower = text.str.lower()
        if lower.isin(FLAG_VALUES).mean() >= 1 - TOLERANCE and lower[lower.isin(FLAG_VALUES)].map(
                FLAG_VALUES).nunique() <= 2:
            kinds[col] = "flag"
            continue
        if pd.api.types.is_numeric_dtype(s) or pd.to_numeric(text, errors="coerce").notna().mean() >= 1 - TOLERANCE:
            kinds[col] = "number"
            continue
        if text.str.contains(r"\d", regex=True).mean() >= 1 - TOLERANCE:
            fmt = _date_format(text)
            if fmt is not None:
                kinds[col], formats[col] = "date", fmt
                continue
        distinct = present.nunique()
        if (distinct == len(present) and distinct > 3) or (distinct > MAX_CATEGORY_SHARE * len(present)
                                                           and distinct > 20):
            dropped[col] = "identifier"
            continue
        kinds[col] = "category"
    return AttributeTypes(kinds, formats, dropped)


def attribute_frame(raw: pd.DataFrame, types: AttributeTypes, as_of: datetime) -> pd.DataFrame:
    """The columns of ``types`` read as numbers (flags 0/1, dates as days before ``as_of``) or
    categories (text, None when empty); a column absent from ``raw`` is all missing."""
    out = {}
    for col, kind in types.kinds.items():
        s = raw[col] if col in raw.columns else pd.Series(None, index=raw.index, dtype=object)
        if kind == "flag":
            out[col] = parse_flags(s)
        elif kind == "number":
            out[col] = pd.to_numeric(s, errors="coerce").astype(float)
        elif kind == "date":
            when = pd.to_datetime(s.astype(str).str.strip(), format=types.date_formats[col], errors="coerce")
            out[col] = ((pd.Timestamp(as_of) - when) / pd.Timedelta(days=1)).astype(float)
        else:
            text = s.astype(object).where(~_blank(s), None)
            out[col] = text.map(lambda v: None if v is None else str(v).strip())
    frame = pd.DataFrame(out, index=raw.index)
    for col, kind in types.kinds.items():
        if kind != "category":
            frame[col] = frame[col].astype(float)
    return frame


def latest_date(raw: pd.DataFrame, types: AttributeTypes) -> datetime | None:
    """The latest date in the date columns (a plain export's snapshot day), None without any."""
    found = []
    for col, fmt in types.date_formats.items():
        when = pd.to_datetime(raw[col].astype(str).str.strip(), format=fmt, errors="coerce")
        if when.notna().any():
            found.append(when.max())
    return max(found).to_pydatetime() if found else None


