"""Binding: an expression's syntax tree checked against a catalogue of names into a ``Plan`` — SQL
condition text whose every value is a ``?`` parameter.

The SQL text holds only what the catalogue supplies (quoted column references such as
``f."age"``) and the language's own keywords; nothing the user typed is pasted in. Names are looked
up by namespace (feature, segment, tag, score); a bare name found in several is refused as
ambiguous, one found nowhere is an unknown name with close matches, and a score of a model that has
not been scored says so. Types are checked: text is compared with text, numbers with numbers, and
``<``/``>`` need numbers. Segment values may be written as the segment's key or either of its names
(``'at_risk'``, ``'At Risk'``, ``'流失风险用户'``); they bind as the key.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from segmark.core.audience.expression import (
    Between,
    BoolOp,
    Call,
    Compare,
    Condition,
    ExpressionError,
    Group,
    InList,
    IsNull,
    Literal,
    Name,
    Node,
    Not,
    parse,
)

NAMESPACES = ("feature", "segment", "tag", "score")
NUMBER = "number"
TEXT = "text"


@dataclass(frozen=True)
class Field:
    """One name an expression may use."""

    name: str
    namespace: str
    """feature, segment, tag or score."""
    type: str
    """number or text."""
    sql: str
    """The quoted SQL reference to the value, e.g. ``f."age"`` (from the catalogue, never from user text)."""
    source: str
    """The relation that must be joined for it: ``features``, ``segment``, ``tag:<name>``, ``score:<model>``..."""
    values: Mapping[str, str] | None = None
    """For text with a closed vocabulary: every accepted spelling -> the stored value."""
    label: str = ""
    label_zh: str = ""


@dataclass(frozen=True)
class Catalog:
    """What an expression can name, by namespace, and the names that would exist once a model is scored."""

    fields: Mapping[str, Mapping[str, Field]]
    """namespace -> name -> Field."""
    unscored: Mapping[str, str] = field(default_factory=dict)
    """name -> hint, for score names whose model has no scores yet (``churn_probability``)."""
    tags: Mapping[str, Field] = field(default_factory=dict)
    """Tags ``has_tag`` may name (usually the same Fields as the ``tag`` namespace)."""

    @classmethod
    def of(cls, fields: Iterable[Field], *, unscored: Mapping[str, str] | None = None) -> Catalog:
        by_ns: dict[str, dict[str, Field]] = {ns: {} for ns in NAMESPACES}
        for f in fields:
            by_ns.setdefault(f.namespace, {})[f.name] = f
        return cls(by_ns, dict(unscored or {}), dict(by_ns.get("tag", {})))

    def lookup(self, name: str) -> list[Field]:
        return [ns[name] for ns in self.fields.values() if name in ns]

    def all_names(self) -> list[str]:
        return sorted({n for ns in self.fields.values() for n in ns})


@dataclass(frozen=True)
class Plan:
    """A bound expression: SQL condition text, its parameters in order, and what it reads."""

    expression: str
    where: str
    params: tuple[Any, ...]
    sources: tuple[str, ...]
    """The relations to join, in a stable order (``features`` first)."""
    fields: tuple[Field, ...]
    """Every field the expression reads, once each, in order of appearance."""

    def to_dict(self) -> dict[str, Any]:
        return {"expression": self.expression, "where": self.where, "params": list(self.params),
                "sources": list(self.sources), "names": [f"{f.namespace}.{f.name}" for f in self.fields]}


_HAS_TAG = "has_tag"


class _Binder:
    def __init__(self, expression: str, catalog: Catalog) -> None:
        self.expression = expression
        self.catalog = catalog
        self.params: list[Any] = []
        self.fields: dict[tuple[str, str], Field] = {}

    def error(self, message: str, pos: int | None, hint: str | None = None) -> ExpressionError:
        return ExpressionError(message, self.expression, pos, hint=hint)

    # -- names ----------------------------------------------------------------------------------------

    def resolve(self, name: Name) -> Field:
        parts = name.parts
        if len(parts) > 2:
            raise self.error(f"{name.text!r} has too many parts", name.pos,
                             hint="a name is either bare (age) or namespace.name (feature.age)")
        if len(parts) == 2:
            ns, bare = parts
            if ns not in self.catalog.fields:
                raise self.error(f"unknown namespace {ns!r}", name.pos, hint=f"use one of {', '.join(NAMESPACES)}")
            found = [self.catalog.fields[ns][bare]] if bare in self.catalog.fields[ns] else []
        else:
            bare = parts[0]
            found = self.catalog.lookup(bare)
        if not found:
            if bare in self.catalog.unscored:
                raise self.error(f"unknown name {bare!r}", name.pos, hint=self.catalog.unscored[bare])
            close = difflib.get_close_matches(bare, self.catalog.all_names(), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}?" if close else "see `segmark audience preview --help` for names"
            raise self.error(f"unknown name {name.text!r}", name.pos, hint=hint)
        if len(found) > 1:
            options = " or ".join(f"{f.namespace}.{f.name}" for f in found)
            raise self.error(f"the name {bare!r} is ambiguous", name.pos, hint=f"write {options}")
        f = found[0]
        self.fields.setdefault((f.namespace, f.name), f)
        return f

    # -- values ---------------------------------------------------------------------------------------

    def value(self, lit: Literal, f: Field | None, op: str = "=") -> str:
        """Bind one literal for comparison with ``f``; returns the placeholder."""
        if lit.kind == "null":
            raise self.error("NULL cannot be compared", lit.pos, hint="use IS NULL or IS NOT NULL")
        if lit.kind == "boolean":
            raise self.error("true/false are not values of any name here", lit.pos)
        if f is not None:
            if f.type == NUMBER and lit.kind != "number":
                raise self.error(f"{f.name} is a number, not text", lit.pos,
                                 hint=f"write a number without quotes, e.g. {f.name} > 3")
            if f.type == TEXT and lit.kind != "text":
                raise self.error(f"{f.name} is text, not a number", lit.pos,
                                 hint=f"put the value in single quotes, e.g. {f.name} = '{lit.value}'")
            if f.type == TEXT and op not in ("=", "!="):
                raise self.error(f"{f.name} is text: only =, != and IN compare it", lit.pos)
            value: Any = lit.value
            if f.values is not None and f.type == TEXT:
                if value not in f.values:
                    choices = sorted(set(f.values))
                    close = difflib.get_close_matches(str(value), choices, n=3, cutoff=0.5)
                    hint = (f"did you mean {', '.join(repr(c) for c in close)}?" if close
                            else f"known values: {', '.join(repr(c) for c in choices[:12])}")
                    raise self.error(f"{value!r} is not a value of {f.name}", lit.pos, hint=hint)
                value = f.values[value]
        else:
            value = lit.value
        self.params.append(value)
        return "?"

    # -- conditions -----------------------------------------------------------------------------------

    def bind(self, node: Node) -> str:
        if isinstance(node, BoolOp):
            return "(" + f" {node.op} ".join(self.bind(i) for i in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.bind(node.item)})"
        if isinstance(node, Group):
            return self.bind(node.item)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, InList):
            f = self.need_name(node.operand, "IN")
            holes = ", ".join(self.value(v, f) for v in node.values)
            return f"({f.sql} {'NOT IN' if node.negated else 'IN'} ({holes}))"
        if isinstance(node, Between):
            f = self.need_name(node.operand, "BETWEEN")
            if f.type != NUMBER:
                raise self.error(f"{f.name} is text: BETWEEN needs a number", node.pos)
            low, high = self.value(node.low, f), self.value(node.high, f)
            return f"({f.sql} {'NOT BETWEEN' if node.negated else 'BETWEEN'} {low} AND {high})"
        if isinstance(node, IsNull):
            f = self.need_name(node.operand, "IS NULL")
            return f"({f.sql} IS {'NOT ' if node.negated else ''}NULL)"
        if isinstance(node, Call):
            return self.call(node)
        raise self.error("not a condition", node.pos)

    def need_name(self, node: Name | Literal, what: str) -> Field:
        if not isinstance(node, Name):
            raise self.error(f"{what} needs a name on its left", node.pos)
        return self.resolve(node)

    def compare(self, node: Compare) -> str:
        left, right = node.left, node.right
        if isinstance(left, Literal) and isinstance(right, Literal):
            raise self.error("a comparison needs a name on one side", node.pos)
        if isinstance(left, Name) and isinstance(right, Name):
            a, b = self.resolve(left), self.resolve(right)
            if a.type != b.type:
                raise self.error(f"{a.name} ({a.type}) and {b.name} ({b.type}) cannot be compared", node.op_pos)
            if a.type == TEXT and node.op not in ("=", "!="):
                raise self.error("text is compared only with = and !=", node.op_pos)
            return f"({a.sql} {_op(node.op)} {b.sql})"
        if isinstance(left, Name):
            f = self.resolve(left)
            return f"({f.sql} {_op(node.op)} {self.value(right, f, node.op)})"  # type: ignore[arg-type]
        f = self.resolve(right)  # type: ignore[arg-type]
        hole = self.value(left, f, node.op)  # type: ignore[arg-type]
        return f"({hole} {_op(node.op)} {f.sql})"

    def call(self, node: Call) -> str:
        if node.name.lower() != _HAS_TAG:
            raise self.error(f"unknown function {node.name!r}", node.pos, hint="the function is has_tag(tag[, value])")
        if not 1 <= len(node.args) <= 2 or any(a.kind != "text" for a in node.args):
            raise self.error("has_tag takes a tag name and optionally a value, both in quotes", node.pos,
                             hint="e.g. has_tag('value_tier', '高价值')")
        tag = str(node.args[0].value)
        f = self.catalog.tags.get(tag)
        if f is None:
            close = difflib.get_close_matches(tag, list(self.catalog.tags), n=3, cutoff=0.6)
            hint = (f"did you mean {', '.join(close)}?" if close else
                    "run `segmark tags apply` and see `segmark tags list`" if not self.catalog.tags
                    else f"known tags: {', '.join(sorted(self.catalog.tags)[:12])}")
            raise self.error(f"unknown tag {tag!r}", node.args[0].pos, hint=hint)
        self.fields.setdefault((f.namespace, f.name), f)
        if len(node.args) == 1:
            return f"({f.sql} IS NOT NULL)"
        return f"({f.sql} = {self.value(node.args[1], f)})"


def _op(op: str) -> str:
    return {"!=": "<>"}.get(op, op)


def bind(tree: Condition, catalog: Catalog, expression: str) -> Plan:
    """The plan of a parsed expression; ``ExpressionError`` for unknown names and type errors."""
    b = _Binder(expression, catalog)
    where = b.bind(tree)
    fields = tuple(b.fields.values())
    sources = sorted({f.source for f in fields}, key=lambda s: (s != "features", s))
    return Plan(expression, where, tuple(b.params), tuple(sources), fields)


def compile_expression(expression: str, catalog: Catalog) -> Plan:
    """Parse and bind in one step."""
    return bind(parse(expression), catalog, expression)
