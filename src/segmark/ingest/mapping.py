"""Mapping files: how a source's columns, event names and time formats land on the canonical schema.

A mapping is a small TOML file (or a built-in preset, ``--mapping taobao``)::

    [read]                        # how to read the file; every key optional (sniffed)
    format = "csv"                # csv | parquet | jsonl
    delimiter = ","               # any single character, "\\t", or "whitespace" (runs of blanks)
    header = false
    names = ["user_id", "item_id", "category_id", "behavior_type", "timestamp"]
    encoding = "auto"             # auto (UTF-8, UTF-16 with BOM, else GB18030), utf-8, gbk, latin-1 ...
    decimal = "."                 # "," for European exports: 1.299,00 is 1299 and 12,50 is 12.5

    [columns]                     # canonical = source column, or a list: the first one present
    category = "category_id"
    event_type = "behavior_type"
    item_id = ["StockCode", "Description"]

    [expressions]                 # canonical = SQL over the source columns (wins over [columns]);
    price = "try_cast(dollar_value AS DOUBLE) / nullif(try_cast(number_of_cds AS DOUBLE), 0)"
                                  # only scalar functions and operators over the file's columns
                                  # (segmark.ingest.expressions), never subqueries or statements

    [constants]                   # canonical = a fixed value, for columns the source lacks
    event_type = "purchase"

    [ts]
    unit = "s"                    # s | ms | us for unix times; omit for date-time strings
    format = "%Y%m%d"             # strptime format(s) for strings; omit for ISO-like strings
    timezone = "Asia/Shanghai"    # zone of naive local times (default: the workspace's)

    [event_types]                 # source value = canonical type (case-insensitive)
    pv = "view"

    [values.gender]               # per-column value translation (users and items)
    "M" = "male"

    [rules]
    refund_if_negative = true     # negative quantity/amount: a refund of the absolute value
    refund_if_order_prefix = "C"  # order ids starting with this: refunds (Online Retail "C...")
    guest_if_missing_user = true  # empty user id: a guest event instead of a rejected row
    identity = "content"          # content: identical events are duplicates; line: every
                                  # source line is its own event (ledgers with repeated lines)

Columns with their canonical name need no entry; for users and items every other column is kept in
``attributes``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import tomllib
from collections import Counter
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlglot import exp

from segmark.config import known_zone, read_toml_text, validation_problems
from segmark.errors import ConfigError
from segmark.ingest.expressions import parse_expression
from segmark.schema import EVENT_TYPES, TableSpec

Format = Literal["csv", "parquet", "jsonl"]

_DIRECTIVES = set("aAbBcdfgGHIjmMnpSuUVwWxXyYzZ%") | {"-d", "-m", "-y", "-H", "-I", "-M", "-S", "-j"}
"""strptime directives DuckDB understands (https://duckdb.org/docs/sql/functions/dateformat)."""


def check_time_format(fmt: str) -> None:
    """A ValueError naming the directive when ``fmt`` holds one that strptime does not know."""
    if not isinstance(fmt, str) or not fmt:
        raise ValueError("a time format must be non-empty text such as '%Y-%m-%d %H:%M'")
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            code = fmt[i + 1:i + 3] if fmt[i + 1:i + 2] == "-" else fmt[i + 1:i + 2]
            if code not in _DIRECTIVES:
                raise ValueError(f"format {fmt!r}: unknown directive %{code or ''} (use %Y %m %d %H %M %S ...)")
            i += 1 + len(code)
        else:
            i += 1


def absolute_format(fmt: str) -> bool:
    """Whether times read with ``fmt`` carry their own offset or zone (%z, %Z)."""
    return "%z" in fmt or "%Z" in fmt



def nearest_event_type(value: str) -> str | None:
    """The canonical event type a misspelt or inflected one most likely means: one that starts
    the other ('favorite' -> 'fav', 'purchased' -> 'purchase'), else the closest spelling."""
    v = str(value).strip().lower()
    prefix = [t for t in EVENT_TYPES if v.startswith(t) or (len(v) >= 3 and t.startswith(v))]
    if prefix:
        return max(prefix, key=len)
    close = difflib.get_close_matches(v, list(EVENT_TYPES), n=1, cutoff=0.6)
    return close[0] if close else None

class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadOptions(_Part):
    format: Format | None = None
    delimiter: str | None = None
    header: bool | None = None
    names: list[str] | None = None
    encoding: str = "auto"
    decimal: Literal[".", ","] = "."
    """The decimal separator of numbers written as text; the other one may group thousands."""

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, v: str | None) -> str | None:
        if v is None or v == "whitespace":
            return v
        v = {"\\t": "\t", "tab": "\t"}.get(v, v)
        if len(v) != 1:
            raise ValueError('delimiter must be one character, "\\t" or "whitespace"')
        return v


class TimeOptions(_Part):
    unit: Literal["s", "ms", "us"] | None = None
    format: str | list[str] | None = None
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        return None if v is None else known_zone(v)

    @field_validator("format")
    @classmethod
    def _known_directives(cls, v: str | list[str] | None) -> str | list[str] | None:
        for fmt in [v] if isinstance(v, str) else v or []:
            check_time_format(fmt)
        return v

    def formats(self) -> list[str]:
        """The strptime formats, as a list."""
        if self.format is None:
            return []
        return [self.format] if isinstance(self.format, str) else list(self.format)


class Rules(_Part):
    refund_if_negative: bool = False
    refund_if_order_prefix: str | None = None
    guest_if_missing_user: bool = False
    identity: Literal["content", "line"] = "content"


class Mapping(_Part):
    """A validated mapping; ``Mapping()`` is the identity mapping for canonical files."""

    name: str = "identity"
    description: str = ""
    read: ReadOptions = Field(default_factory=ReadOptions)
    columns: dict[str, str | list[str]] = Field(default_factory=dict)
    expressions: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str | float | int] = Field(default_factory=dict)
    ts: TimeOptions = Field(default_factory=TimeOptions)
    event_types: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    rules: Rules = Field(default_factory=Rules)

    @field_validator("constants")
    @classmethod
    def _finite(cls, v: dict[str, str | float | int]) -> dict[str, str | float | int]:
        bad = [k for k, x in v.items() if isinstance(x, bool) or (isinstance(x, float) and not math.isfinite(x))]
        if bad:
            raise ValueError(f"{', '.join(bad)}: a constant must be text or a finite number")
        return v

    @field_validator("expressions")
    @classmethod
    def _checked(cls, v: dict[str, str]) -> dict[str, str]:
        for name, text in v.items():
            try:
                parse_expression(text, f"[expressions] {name}")
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return v

    def expression(self, canonical: str) -> exp.Expression:
        """The checked tree of the expression for ``canonical``."""
        return parse_expression(self.expressions[canonical], f"mapping {self.name}: [expressions] {canonical}")

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, v: dict[str, str]) -> dict[str, str]:
        bad = sorted({t for t in v.values() if t not in EVENT_TYPES})
        if bad:
            hints = [f"{t!r} -> {near!r}" for t in bad if (near := nearest_event_type(t))]
            hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
            raise ValueError(f"maps onto unknown event types {bad}{hint}; canonical: {list(EVENT_TYPES)}")
        return {str(k).strip().lower(): t for k, t in v.items()}

    def candidates(self, canonical: str) -> list[str]:
        """Source column names that may hold ``canonical``, in order of preference."""
        given = self.columns.get(canonical)
        if given is None:
            return [canonical]
        return [given] if isinstance(given, str) else list(given)

    def fingerprint(self) -> str:
        """A stable hash of the mapping's content, recorded with each ingested file."""
        blob = json.dumps(self.model_dump(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


DEFAULT_EVENT_TYPES: dict[str, str] = {
    **{t: t for t in EVENT_TYPES},
    "pv": "view", "page_view": "view", "pageview": "view", "click": "view", "detail": "view",
    "browse": "view", "浏览": "view", "点击": "view",
    "query": "search", "搜索": "search",
    "add_to_cart": "cart", "addtocart": "cart", "add_cart": "cart", "加购": "cart", "加入购物车": "cart",
    "remove_from_cart": "remove_cart", "removefromcart": "remove_cart", "移出购物车": "remove_cart",
    "favorite": "fav", "favourite": "fav", "collect": "fav", "wishlist": "fav", "收藏": "fav",
    "buy": "purchase", "order": "purchase", "transaction": "purchase", "pay": "purchase",
    "购买": "purchase", "下单": "purchase", "支付": "purchase",
    "return": "refund", "cancel": "refund", "退款": "refund", "退货": "refund",
}
"""Names understood without a mapping; a mapping's [event_types] adds to and overrides them."""


def repeated_names(names: Iterable[str]) -> list[str]:
    """Column names given to more than one column, sorted: no mapping can tell such columns apart."""
    return sorted(name for name, n in Counter(names).items() if n > 1)


def check_mapping(spec: TableSpec, mapping: Mapping) -> None:
    """Every column the mapping names must be a canonical column of the table it feeds."""
    allowed = set(spec.names)
    for section in ("columns", "expressions", "constants", "values"):
        unknown = sorted(set(getattr(mapping, section)) - allowed)
        if unknown:
            raise ConfigError(
                f"mapping {mapping.name}: [{section}] names {', '.join(unknown)}, which are not columns of "
                f"{spec.name} ({', '.join(spec.names)})"
            )


def preset_names() -> list[str]:
    folder = resources.files("segmark.ingest") / "presets"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def parse_mapping(data: dict[str, Any], source: str) -> Mapping:
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"mapping {source}: {validation_problems(exc, Mapping)}") from None


def load_mapping(spec: str | Path | None) -> Mapping:
    """A mapping from a preset name, a TOML file path, or None for the identity mapping."""
    if spec is None:
        return Mapping()
    text: str
    name = str(spec)
    if name in preset_names():
        text = (resources.files("segmark.ingest") / "presets" / f"{name}.toml").read_text(encoding="utf-8")
    else:
        path = Path(spec)
        if not path.exists():
            raise ConfigError(
                f"mapping {name!r} is neither a file nor a preset (presets: {', '.join(preset_names())})"
            )
        text = read_toml_text(path, "mapping")
        name = path.stem
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"mapping {spec}: not valid TOML ({exc})") from None
    data.setdefault("name", name)
    return parse_mapping(data, str(spec))
