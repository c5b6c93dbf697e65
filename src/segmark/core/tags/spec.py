"""The tag file (``tags.yaml``): a taxonomy of groups and tags, each of one of five kinds, read
from YAML text into checked ``TagSpec`` objects. Every problem names the file, line and column.

    version: 1
    groups:
      - group: demographics
        label: Demographics
        label_zh: 人口属性
        tags:
          - tag: age_group
            label: Age group
            label_zh: 年龄段
            description: Age band from age or birth date.
            owner: marketing
            kind: rule                    # first matching value wins
            values:
              - {value: 青年, label: young adult, when: "age BETWEEN 18 AND 34"}
              - {value: 中年, label: middle-aged, when: "age BETWEEN 35 AND 59"}

Kinds and their keys:

- ``rule``: ``values`` with ``when`` (an audience expression over features, segments and scores).
- ``behaviour``: events in the ``window_days`` before as_of: ``event`` (view, cart, ...), at least
  ``min_count`` times (per ``category`` or ``item`` with ``per``; the value is then the category or
  item), optionally not followed by ``then_not`` within ``within_days`` (for the ``same`` item,
  category, or any).
- ``sql``: ``sql`` returning ``user_id`` and optionally ``value`` and ``reason``; ``{as_of}`` is
  the build's as_of, bound as a parameter.
- ``list``: user ids uploaded in ``file`` (beside the tag file; a ``user_id`` column or one id per
  line) get ``value``.
- ``model``: ``source`` is ``segment``, ``rfm_segment``, ``clv_decile`` or ``<model>_decile``; the
  value is the user's segment or decile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from segmark.schema import EVENT_TYPES

KINDS = ("rule", "behaviour", "sql", "list", "model")
_TAG_NAME = re.compile(r"^[^\W\d]\w*$")
_COMMON = {"tag", "label", "label_zh", "description", "description_zh", "owner", "kind"}
_KEYS = {
    "rule": _COMMON | {"values"},
    "behaviour": _COMMON | {"event", "window_days", "min_count", "per", "then_not", "within_days", "same",
                            "value", "value_label", "value_label_zh"},
    "sql": _COMMON | {"sql"},
    "list": _COMMON | {"file", "value", "value_label", "value_label_zh"},
    "model": _COMMON | {"source"},
}
_VALUE_KEYS = {"value", "label", "label_zh", "when"}


class TagFileError(ValueError):
    """A tag file that cannot be used, with where (file, line, column)."""

    def __init__(self, message: str, source: str, line: int | None = None, column: int | None = None) -> None:
        self.source, self.line, self.column = source, line, column
        where = source + (f", line {line}" if line else "") + (f", column {column}" if column else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Where:
    """A place in the tag file (1-based)."""

    line: int
    column: int


@dataclass(frozen=True)
class TagValue:
    value: str
    label: str
    label_zh: str
    when: str | None = None
    where: Where | None = None
    """Where ``when`` starts in the file (for expression errors)."""


@dataclass(frozen=True)
class TagSpec:
    """One tag: its place in the taxonomy, its kind and the kind's settings."""

    tag: str
    group: str
    group_label: str
    group_label_zh: str
    kind: str
    label: str
    label_zh: str
    description: str = ""
    description_zh: str = ""
    owner: str = ""
    values: tuple[TagValue, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    where: Where | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"tag": self.tag, "group": self.group, "group_label": self.group_label,
                "group_label_zh": self.group_label_zh, "kind": self.kind, "label": self.label,
                "label_zh": self.label_zh, "description": self.description, "description_zh": self.description_zh,
                "owner": self.owner, "settings": dict(self.settings),
                "values": [{"value": v.value, "label": v.label, "label_zh": v.label_zh, "when": v.when}
                           for v in self.values]}


@dataclass(frozen=True)
class TagFile:
    source: str
    tags: tuple[TagSpec, ...]

    def by_name(self) -> dict[str, TagSpec]:
        return {t.tag: t for t in self.tags}


# -- YAML with positions --------------------------------------------------------------------------------


class _Map(dict):
    """A mapping that remembers where it and each of its keys and values are."""

    where: Where
    keys_at: dict[str, Where]
    values_at: dict[str, Where]
    sources: dict[str, tuple[Where, str]]
    """key -> where its value's source text starts (quote or block indicator included) and that text."""


class _Seq(list):
    where: Where
    items_at: list[Where]


class _Loader(yaml.SafeLoader):
    """Safe YAML whose plain scalars stay text: ``yes``, ``no``, ``10`` and ``1.0`` are tag values as
    written, not booleans or numbers (YAML 1.1 would turn ``value: yes`` into True)."""

    yaml_implicit_resolvers: dict = {}  # noqa: RUF012 - the class attribute PyYAML reads


def _mark(node: yaml.Node) -> Where:
    return Where(node.start_mark.line + 1, node.start_mark.column + 1)


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    out = _Map()
    out.where, out.keys_at, out.values_at, out.sources = _mark(node), {}, {}, {}
    buffer = loader.buffer if isinstance(getattr(loader, "buffer", None), str) else ""
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):  # a list or mapping as a key: never meant, and str() of
            # one built from aliases grows exponentially (a few hundred bytes made gigabytes of text)
            raise TagFileError("a key must be text, not a list or mapping", "", _mark(key_node).line,
                               _mark(key_node).column)
        key = loader.construct_object(key_node, deep=True)
        key = str(key)
        if key in out:
            raise TagFileError(f"the key {key!r} appears twice", "", *(_mark(key_node).line, _mark(key_node).column))
        out[key] = loader.construct_object(value_node, deep=True)
        out.keys_at[key] = _mark(key_node)
        at = _mark(value_node)
        if isinstance(value_node, yaml.ScalarNode) and value_node.style in ("'", '"'):
            at = Where(at.line, at.column + 1)  # where the text itself starts, after the quote
        out.values_at[key] = at
        out.sources[key] = (_mark(value_node), buffer[value_node.start_mark.index:value_node.end_mark.index])
    return out


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    out = _Seq(loader.construct_object(n, deep=True) for n in node.value)
    out.where, out.items_at = _mark(node), [_mark(n) for n in node.value]
    return out


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def locate(source: tuple[Where, str] | None, value: str, offset: int | None) -> Where | None:
    """Where in the file character ``offset`` of a scalar's ``value`` stands, from its source text
    (``_Map.sources``): the value's characters are found in order in the source, a space of the value
    matching any white space there, so plain, quoted, literal (``|``) and folded (``>``) scalars all map
    back to their line and column. None when it cannot be told."""
    if source is None or offset is None or not 0 <= offset < len(value):
        return None
    start, raw = source
    j = 0
    for i, ch in enumerate(value[: offset + 1]):
        if ch.isspace():
            if j < len(raw) and raw[j].isspace():
                j += 1
            at = j - 1
        else:
            while j < len(raw) and raw[j] != ch:
                j += 1
            if j >= len(raw):
                return None
            at = j
            j += 1
        if i == offset:
            break
    before = raw[:at]
    newlines = before.count("\n")
    if not newlines:
        return Where(start.line, start.column + at)
    return Where(start.line + newlines, at - before.rfind("\n"))


def load_yaml(text: str, source: str) -> Any:
    """YAML text as mappings and lists that know their positions."""
    try:
        return yaml.load(text, Loader=_Loader)
    except TagFileError as exc:
        raise TagFileError(str(exc).split(": ", 1)[1], source, exc.line, exc.column) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise TagFileError(f"not valid YAML: {exc.problem}", source, mark.line + 1 if mark else None,
                           mark.column + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise TagFileError(f"not valid YAML: {exc}", source) from None


# -- checking -------------------------------------------------------------------------------------------


class _Check:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, message: str, where: Where | None) -> TagFileError:
        return TagFileError(message, self.source, where.line if where else None, where.column if where else None)

    def mapping(self, value: Any, what: str, where: Where | None) -> _Map:
        if not isinstance(value, _Map):
            raise self.fail(f"{what} must be a mapping (key: value lines)", getattr(value, "where", where))
        return value

    def text(self, m: _Map, key: str, *, required: bool = False, default: str = "") -> str:
        if key not in m:
            if required:
                raise self.fail(f"missing {key!r}", m.where)
            return default
        v = m[key]
        if isinstance(v, _Map | _Seq) or v is None:
            raise self.fail(f"{key!r} must be text", m.values_at[key])
        return str(v)

    def integer(self, m: _Map, key: str, default: int | None, low: int = 1) -> int | None:
        if key not in m:
            return default
        try:
            v = int(str(m[key]))
        except ValueError:
            raise self.fail(f"{key!r} must be a whole number", m.values_at[key]) from None
        if v < low:
            raise self.fail(f"{key!r} must be at least {low}", m.values_at[key])
        return v

    def unknown(self, m: _Map, allowed: set[str], what: str) -> None:
        for key in m:
            if key not in allowed:
                raise self.fail(f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})",
                                m.keys_at[key])


def parse_tag_file(text: str, source: str = "tags.yaml") -> TagFile:
    """Check a tag file's text; ``TagFileError`` names the file, line and column of the first problem."""
    doc = load_yaml(text, source)
    c = _Check(source)
    root = c.mapping(doc, "the tag file", Where(1, 1))
    c.unknown(root, {"version", "groups"}, "the tag file")
    if str(root.get("version", 1)) != "1":
        raise c.fail("only version 1 is known", root.values_at.get("version"))
    groups = root.get("groups")
    if not isinstance(groups, _Seq) or not groups:
        raise c.fail("'groups' must be a non-empty list", root.values_at.get("groups", root.where))
    tags: list[TagSpec] = []
    seen: dict[str, Where] = {}
    for gi, g in enumerate(groups):
        g = c.mapping(g, "a group", groups.items_at[gi])
        c.unknown(g, {"group", "label", "label_zh", "tags"}, "a group")
        group = c.text(g, "group", required=True)
        g_label = c.text(g, "label", default=group)
        g_label_zh = c.text(g, "label_zh", default=g_label)
        items = g.get("tags")
        if not isinstance(items, _Seq) or not items:
            raise c.fail(f"group {group!r} needs a non-empty 'tags' list", g.values_at.get("tags", g.where))
        for ti, t in enumerate(items):
            t = c.mapping(t, "a tag", items.items_at[ti])
            spec = _tag(c, t, group, g_label, g_label_zh)
            if spec.tag in seen:
                raise c.fail(f"the tag {spec.tag!r} is defined twice (first at line {seen[spec.tag].line})",
                             t.values_at["tag"])
            seen[spec.tag] = t.values_at["tag"]
            tags.append(spec)
    return TagFile(source, tuple(tags))


def _tag(c: _Check, t: _Map, group: str, g_label: str, g_label_zh: str) -> TagSpec:
    name = c.text(t, "tag", required=True)
    if not _TAG_NAME.match(name):
        raise c.fail(f"tag name {name!r} must start with a letter and hold only letters, digits and underscores",
                     t.values_at["tag"])
    kind = c.text(t, "kind", required=True)
    if kind not in KINDS:
        raise c.fail(f"unknown kind {kind!r} (one of {', '.join(KINDS)})", t.values_at["kind"])
    c.unknown(t, _KEYS[kind], f"a {kind} tag")
    label = c.text(t, "label", default=name)
    common = {"tag": name, "group": group, "group_label": g_label, "group_label_zh": g_label_zh, "kind": kind,
              "label": label, "label_zh": c.text(t, "label_zh", default=label),
              "description": c.text(t, "description"), "description_zh": c.text(t, "description_zh"),
              "owner": c.text(t, "owner"), "where": t.where}
    settings: dict[str, Any] = {}
    values: tuple[TagValue, ...] = ()
    if kind == "rule":
        values = _rule_values(c, t, name)
    elif kind == "behaviour":
        settings = _behaviour(c, t)
        values = (_single_value(c, t, "yes", "yes", "是"),) if not settings["per"] else ()
    elif kind == "sql":
        settings = {"sql": c.text(t, "sql", required=True), "sql_at": t.values_at["sql"],
                    "sql_source": t.sources.get("sql")}
    elif kind == "list":
        settings = {"file": c.text(t, "file", required=True), "file_at": t.values_at["file"]}
        values = (_single_value(c, t, "yes", "yes", "是"),)
    else:
        source = c.text(t, "source", required=True)
        if not re.match(r"^(segment|rfm_segment|clv_decile|[^\W\d]\w*_decile)$", source):
            raise c.fail(f"unknown model source {source!r} (segment, rfm_segment, clv_decile or <model>_decile)",
                         t.values_at["source"])
        settings = {"source": source}
    return TagSpec(values=values, settings=settings, **common)


def _single_value(c: _Check, t: _Map, default: str, label: str, label_zh: str) -> TagValue:
    value = c.text(t, "value", default=default)
    return TagValue(value, c.text(t, "value_label", default=value if value != default else label),
                    c.text(t, "value_label_zh", default=value if value != default else label_zh))


def _rule_values(c: _Check, t: _Map, name: str) -> tuple[TagValue, ...]:
    items = t.get("values")
    if not isinstance(items, _Seq) or not items:
        raise c.fail(f"rule tag {name!r} needs a non-empty 'values' list", t.values_at.get("values", t.where))
    out = []
    seen = set()
    for i, v in enumerate(items):
        v = c.mapping(v, "a value", items.items_at[i])
        c.unknown(v, _VALUE_KEYS, "a value")
        value = c.text(v, "value", required=True)
        if value in seen:
            raise c.fail(f"the value {value!r} appears twice in tag {name!r}", v.values_at["value"])
        seen.add(value)
        label = c.text(v, "label", default=value)
        out.append(TagValue(value, label, c.text(v, "label_zh", default=value), c.text(v, "when", required=True),
                            v.values_at["when"]))
    return tuple(out)


def _behaviour(c: _Check, t: _Map) -> dict[str, Any]:
    event = c.text(t, "event", required=True)
    if event not in EVENT_TYPES:
        raise c.fail(f"unknown event {event!r} (one of {', '.join(EVENT_TYPES)})", t.values_at["event"])
    then_not = c.text(t, "then_not") or None
    if then_not is not None and then_not not in EVENT_TYPES:
        raise c.fail(f"unknown event {then_not!r} (one of {', '.join(EVENT_TYPES)})", t.values_at["then_not"])
    per = c.text(t, "per") or None
    if per not in (None, "category", "item"):
        raise c.fail("'per' is category or item", t.values_at["per"])
    same = c.text(t, "same", default="item" if then_not else "") or None
    if same not in (None, "item", "category", "any"):
        raise c.fail("'same' is item, category or any", t.values_at["same"])
    within = c.integer(t, "within_days", None)
    if then_not and within is None:
        raise c.fail("'then_not' needs 'within_days'", t.keys_at["then_not"])
    if within is not None and not then_not:
        raise c.fail("'within_days' needs 'then_not'", t.keys_at["within_days"])
    if per and then_not:
        raise c.fail("'per' and 'then_not' cannot be combined in one tag", t.keys_at["per"])
    return {"event": event, "window_days": c.integer(t, "window_days", None) or _required(c, t, "window_days"),
            "min_count": c.integer(t, "min_count", 1), "per": per, "then_not": then_not, "within_days": within,
            "same": same}


def _required(c: _Check, t: _Map, key: str) -> int:
    raise c.fail(f"missing {key!r}", t.where)
