"""The canonical data model: the tables every step reads, their columns and the event vocabulary.

Input files are mapped onto these columns at ingestion (see ``segmark.ingest.mapping``); nothing
downstream knows about a source's own column names. The physical tables are created by the
numbered migrations in ``segmark/store/migrations``; this module is the contract they implement.

Conventions:
- ``ts`` is stored in UTC as a naive TIMESTAMP; local wall-clock time is derived with the
  workspace's ``time.timezone`` when a feature needs it (hour of day, weekday).
- Money is DOUBLE everywhere. ``amount`` is the line value (``price * quantity`` unless the source
  gives a line total), always positive; a refund is an event of type ``refund`` whose amount is
  subtracted from net spend.
- A NULL ``user_id`` marks a guest event (e.g. a purchase without a customer id): kept for
  totals and item statistics, never counted towards any user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EVENT_TYPES: tuple[str, ...] = (
    "view",
    "search",
    "cart",
    "remove_cart",
    "fav",
    "purchase",
    "refund",
)
"""The canonical event vocabulary; a mapping file translates a source's own names onto it."""

ColumnKind = Literal["id", "text", "timestamp", "date", "number", "integer", "event_type"]


@dataclass(frozen=True)
class Column:
    """One canonical input column: how it is parsed and what it means."""

    name: str
    kind: ColumnKind
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """A canonical table as seen by ingestion: its key and its input columns."""

    name: str
    key: str
    columns: tuple[Column, ...]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


EVENTS = TableSpec(
    name="events",
    key="event_key",
    columns=(
        Column("user_id", "id", True, "Who acted; empty for a guest line when the mapping allows"),
        Column("event_type", "event_type", True, "One of " + ", ".join(EVENT_TYPES)),
        Column("ts", "timestamp", True, "When, stored in UTC"),
        Column("item_id", "id", description="The item acted on"),
        Column("category", "text", description="The item's category at the time"),
        Column("price", "number", description="Unit price, >= 0"),
        Column("quantity", "number", description="Units; default 1 for purchases and refunds"),
        Column("amount", "number", description="Line value; default price * quantity"),
        Column("order_id", "id", description="Order (invoice) the line belongs to"),
        Column("session_id", "id", description="Visit; when absent, features use a gap rule"),
        Column("channel", "text", description="app, web, mini-program, store..."),
        Column("event_id", "id", description="The source's own unique id, used for de-duplication"),
    ),
)

USERS = TableSpec(
    name="users",
    key="user_id",
    columns=(
        Column("user_id", "id", True, "The user"),
        Column("signup_date", "date", description="Registration date"),
        Column("gender", "text", description="Normalised to female / male where recognised"),
        Column("birth_date", "date", description="Date of birth"),
        Column("age", "integer", description="Age in years, 0-120"),
        Column("city", "text", description="City"),
        Column("member_level", "text", description="Loyalty tier as the shop names it"),
    ),
)

ITEMS = TableSpec(
    name="items",
    key="item_id",
    columns=(
        Column("item_id", "id", True, "The item"),
        Column("category", "text", description="Category"),
        Column("brand", "text", description="Brand"),
        Column("price", "number", description="List price, >= 0"),
    ),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (EVENTS, USERS, ITEMS)}
"""Canonical input tables by name, as used by ``segmark ingest events|users|items``."""
