"""One rule for dates that users read: instants are stored as naive UTC, and shown on the shop's
clock (``time.timezone``): a date as the shop's local date, a date-time in JSON as ISO 8601 with the
shop's offset (``2026-01-01T00:00:00+08:00``). So ``--as-of 2011-09-01`` reads back as 2011-09-01
everywhere, never as the UTC date before it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd


def to_local(value: datetime, timezone: str) -> datetime:
    """A stored instant (naive means UTC) as an aware date-time on the shop's clock."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(timezone))


def from_text(value: datetime | date | str) -> datetime | date:
    """An instant or date as a snapshot writes it (ISO text), or the value itself: ``YYYY-MM-DD``
    is a date, anything longer an instant."""
    if not isinstance(value, str):
        return value
    return date.fromisoformat(value) if len(value) <= 10 else datetime.fromisoformat(value)


def local_day(value: datetime | date | str | None, timezone: str) -> str:
    """The shop's local date of a stored instant (or its snapshot text), ``YYYY-MM-DD`` ("-" when
    there is none); a plain date is already a local date."""
    if value is None or value is pd.NaT:
        return "-"
    value = from_text(value)
    if not isinstance(value, datetime):
        return value.isoformat()
    return to_local(value, timezone).date().isoformat()


def local_time(value: datetime | str | None, timezone: str, *, seconds: bool = False) -> str:
    """A stored instant (naive means UTC; text as a snapshot holds it) on the shop's clock with its
    offset, ``YYYY-MM-DD HH:MM+08:00`` ("-" when there is none)."""
    if value is None or value is pd.NaT:
        return "-"
    value = from_text(value)
    if not isinstance(value, datetime):
        return value.isoformat()
    return to_local(value, timezone).isoformat(sep=" ", timespec="seconds" if seconds else "minutes")


def json_value(value: Any, timezone: str) -> Any:
    """``json.dumps``'s ``default``: date-times as ISO 8601 with the shop's offset (naive ones are
    UTC), dates as ISO dates, anything else as its text."""
    if isinstance(value, datetime):
        return to_local(value, timezone).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
