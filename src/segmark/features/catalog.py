"""The feature catalog, read from the definition files' headers.

Each family is one SQL file in this package (``rfm.sql``, ``activity.sql``, ...). Its header says
what the family is for and declares every column it produces, one line each::

    -- family: rfm
    -- purpose: Recency, frequency and monetary value ...
    -- grain: one row per user (user_id)
    -- note: An order is a distinct order_id ...
    -- column: recency_days | number | days | 最近购买距今天数 | Days from the user's last purchase ...

A column line is ``name | kind | unit | English label | Chinese label | description`` (a line
without the English label, ``name | kind | unit | Chinese label | description``, is read too: people
then see the name). Names may hold ``{W}`` (one
column per activity window) or ``{category}`` (one per top category). Kinds:

- ``count``: a whole number, 0 for a user without the thing counted (BIGINT);
- ``sum``: an amount, 0 for a user without the thing summed (DOUBLE); empty for every user when the
  shop's purchases carry no amounts (relation ``shop_amounts``): spend is then unknown, not 0;
- ``number``: a measurement, empty (NULL/NaN) when undefined for the user (DOUBLE);
- ``text``: a label, empty when unknown (VARCHAR).

The same header feeds ``segmark features describe``, ``docs/features.md`` and the composer's check
that the SQL below it produces exactly the declared columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Literal

Kind = Literal["count", "sum", "number", "text"]
KINDS: tuple[Kind, ...] = ("count", "sum", "number", "text")

FAMILY_FILES: tuple[str, ...] = ("rfm", "activity", "funnel", "preference", "time", "attributes")
"""The built-in families, in the order their columns appear in the feature table."""

_HEADER = re.compile(r"^--\s*(family|purpose|grain|note|column):\s*(.*?)\s*$")


@dataclass(frozen=True)
class FeatureColumn:
    """One column of the feature table, or a template for several (``views_{W}d``)."""

    name: str
    family: str
    kind: Kind
    unit: str
    label_zh: str
    description: str
    template: str = ""
    """The header name this column was expanded from (``views_{W}d``); empty when not expanded."""
    label_en: str = ""
    """What English output calls the column ("days since last visit"); empty: its name."""

    @property
    def numeric(self) -> bool:
        return self.kind != "text"

    def expand(self, **values: object) -> FeatureColumn:
        """This template with ``{W}`` / ``{category}`` filled in."""

        def fill(text: str) -> str:
            for key, value in values.items():
                text = text.replace("{" + key + "}", str(value))
            return text

        return replace(self, name=fill(self.name), label_zh=fill(self.label_zh), label_en=fill(self.label_en),
                       description=fill(self.description), template=self.name)

    def label(self, lang: str) -> str:
        """The column's label in ``lang``, else its name."""
        return (self.label_zh if lang == "zh" else self.label_en) or self.name


@dataclass(frozen=True)
class Family:
    """One definition file: its documentation, its declared columns and its SQL template."""

    name: str
    purpose: str
    grain: str
    notes: tuple[str, ...]
    columns: tuple[FeatureColumn, ...]
    template: str
    """The file's text: a Jinja template whose body is a series of ``-- section: NAME`` SELECTs."""


def parse_family(text: str, source: str) -> Family:
    """Read a definition file's header; raises ``ValueError`` naming ``source`` when malformed."""
    fields: dict[str, str] = {}
    notes: list[str] = []
    columns: list[FeatureColumn] = []
    family = ""
    for number, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if not m:
            continue
        key, value = m.groups()
        if key == "family":
            family = value
        elif key == "note":
            notes.append(value)
        elif key == "column":
            parts = [p.strip() for p in value.split("|")]
            if len(parts) not in (5, 6) or parts[1] not in KINDS or not parts[0]:
                raise ValueError(f"{source}:{number}: a column line is 'name | kind | unit | English | 中文 | "
                                 f"description' with kind one of {', '.join(KINDS)}")
            if len(parts) == 5:
                parts.insert(3, "")
            name, kind, unit, label_en, label_zh, description = parts
            columns.append(FeatureColumn(name, family, kind, unit, label_zh, description,  # type: ignore[arg-type]
                                         label_en=label_en))
        else:
            fields[key] = value
    missing = [k for k in ("purpose", "grain") if not fields.get(k)]
    if not family or missing or not columns:
        raise ValueError(f"{source}: the header needs family, purpose, grain and at least one column")
    return Family(family, fields["purpose"], fields["grain"], tuple(notes), tuple(columns), text)


def _read(name: str) -> str:
    return (resources.files("segmark.features") / f"{name}.sql").read_text(encoding="utf-8")


@cache
def families() -> tuple[Family, ...]:
    """The built-in feature families, in table order."""
    return tuple(parse_family(_read(name), f"{name}.sql") for name in FAMILY_FILES)


@cache
def base_template() -> str:
    """``base.sql``: the shared relations every family reads."""
    return _read("base")


def relation_docs() -> list[tuple[str, str]]:
    """(name, description) of each shared relation in ``base.sql``: the comment lines under its name."""
    docs: list[tuple[str, list[str]]] = []
    in_header = False
    for line in base_template().splitlines():
        m = re.match(r"^--\s*relation:\s*(\w+)\s*$", line)
        if m:
            docs.append((m.group(1), []))
            in_header = True
        elif in_header and line.startswith("--"):
            docs[-1][1].append(line[2:].strip())
        else:
            in_header = False
    return [(name, " ".join(text)) for name, text in docs]
