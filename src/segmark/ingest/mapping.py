"""Mapping files: how a source's columns, event names and time formats land on the canonical schema.

A mapping is a small TOML file (or a built-in preset, ``--mapping taobao``)::

    [read]                        # how to read the file; every key optional (sniffed)
    format = "csv"                # csv | parquet | jsonl
    delimiter = ","               # any single character, "\\t", or "whitespace" (runs of blanks)
    header = false
    names = ["user_id", "item_id", "category_id", "behavior_type", "timestamp"]
    encoding = "auto"             # auto (UTF-8, else GB18030), utf-8, gbk, gb18030, latin-1 ...

    [columns]                     # canonical = source column, or a list: the first one present
    category = "category_id"
    event_type = "behavior_type"
    item_id = ["StockCode", "Description"]

    [expressions]                 # canonical = SQL over the source columns (wins over [columns])
    price = "try_cast(dollar_value AS DOUBLE) / nullif(try_cast(number_of_cds AS DOUBLE), 0)"

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

import hashlib
import json
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from segmark.config import known_zone, validation_problems
from segmark.errors import ConfigError
from segmark.schema import EVENT_TYPES, TableSpec

Format = Literal["csv", "parquet", "jsonl"]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReadOptions(_Part):
    format: Format | None = None
    delimiter: str | None = None
    header: bool | None = None
    names: list[str] | None = None
    encoding: str = "auto"

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
        bad = [k for k, x in v.items() if isinstance(x, float) and not math.isfinite(x)]
        if bad:
            raise ValueError(f"{', '.join(bad)}: a constant must be text or a finite number")
        return v

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, v: dict[str, str]) -> dict[str, str]:
        bad = sorted({t for t in v.values() if t not in EVENT_TYPES})
        if bad:
            raise ValueError(f"maps onto unknown event types {bad}; canonical: {list(EVENT_TYPES)}")
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
        raise ConfigError(f"mapping {source}: {validation_problems(exc)}") from None


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
        text = path.read_text(encoding="utf-8")
        name = path.stem
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"mapping {spec}: not valid TOML ({exc})") from None
    data.setdefault("name", name)
    return parse_mapping(data, str(spec))
