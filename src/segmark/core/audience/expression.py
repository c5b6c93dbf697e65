"""The audience expression language: a Lark grammar and the syntax tree it parses into.

    churn_probability > 0.7 AND NOT segment IN ('Champions', '冠军用户')
    (has_tag('value_tier', '高价值') OR clv_decile >= 9) AND age BETWEEN 18 AND 34

Conditions are comparisons (``= != <> < <= > >=``), ``[NOT] IN (...)``, ``[NOT] BETWEEN a AND b``,
``IS [NOT] NULL`` and ``has_tag(tag[, value])``, joined by ``AND``/``OR``/``NOT`` and parentheses.
Keywords are case-insensitive; names may be Unicode (``cat_share__美妆``) or back-quoted
(`` `odd name` ``), and qualified by namespace (``feature.age``, ``tag.age_band``,
``score.churn_probability``). Text is in single quotes (``''`` for a quote inside).

Parsing only builds a tree; nothing here knows tables or SQL (``plan.bind`` does). Every error is an
``ExpressionError`` that carries the expression, the position (1-based character) and a caret line.
Two kinds of input are refused as ambiguous rather than guessed: ``AND`` and ``OR`` mixed at one
level without parentheses (``a AND b OR c``), and (at binding) a bare name that several namespaces
define.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

MAX_LENGTH = 10_000
"""Longer expressions are refused (an audience is a few conditions, not a data file)."""
MAX_DEPTH = 64
"""Deeper nesting of parentheses and NOTs is refused (each level is a frame of recursion later on)."""

GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr (OR and_expr)*
?and_expr: not_expr (AND not_expr)*
?not_expr: NOT not_expr -> negation
         | atom
?atom: comparison
     | in_list
     | between
     | is_null
     | call
     | LPAR or_expr RPAR -> group

comparison: operand COMP operand
in_list: operand [NOT] IN LPAR literal ("," literal)* [","] RPAR
between: operand [NOT] BETWEEN literal AND literal
is_null: operand IS [NOT] NULL
call: NAME LPAR [literal ("," literal)*] RPAR

?operand: name | literal
name: (NAME | QNAME) ("." (NAME | QNAME))*
literal: NUMBER -> number
       | MINUS NUMBER -> negative
       | STRING -> string
       | NULL -> null
       | TRUE -> true
       | FALSE -> false

OR.2: /or\b/i
AND.2: /and\b/i
NOT.2: /not\b/i
IN.2: /in\b/i
IS.2: /is\b/i
BETWEEN.2: /between\b/i
NULL.2: /null\b/i
TRUE.2: /true\b/i
FALSE.2: /false\b/i
NAME: /[^\W\d]\w*/
QNAME: /`[^`\n]+`/
NUMBER: /(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
STRING: /'(?:[^']|'')*'/
COMP: "<=" | ">=" | "!=" | "<>" | "==" | "=" | "<" | ">"
MINUS: "-"
LPAR: "("
RPAR: ")"

%import common.WS
%ignore WS
"""

_TOKEN_NAMES = {
    "OR": "OR", "AND": "AND", "NOT": "NOT", "IN": "IN", "IS": "IS", "BETWEEN": "BETWEEN", "NULL": "NULL",
    "TRUE": "TRUE", "FALSE": "FALSE", "NAME": "a name", "QNAME": "a `quoted name`", "NUMBER": "a number",
    "STRING": "'text'", "COMP": "a comparison (= != < <= > >=)", "MINUS": "-", "LPAR": "(", "RPAR": ")",
    "COMMA": ",", "DOT": ".", "$END": "the end",
}


class ExpressionError(ValueError):
    """An expression that cannot be parsed or bound, with where it went wrong."""

    def __init__(self, message: str, expression: str, position: int | None = None, *,
                 hint: str | None = None) -> None:
        self.message = message
        self.expression = expression
        self.position = position
        """1-based character of the problem in ``expression`` (None: the whole expression)."""
        self.hint = hint
        super().__init__(self.render())

    @property
    def line_col(self) -> tuple[int, int] | None:
        """(line, column), both 1-based, of the position."""
        if self.position is None:
            return None
        before = self.expression[: self.position - 1]
        return before.count("\n") + 1, self.position - (before.rfind("\n") + 1)

    def render(self) -> str:
        where = ""
        if self.position is not None:
            line, col = self.line_col or (1, self.position)
            where = f" at position {self.position}" if "\n" not in self.expression else f" at line {line} column {col}"
        text = f"{self.message}{where}"
        if self.hint:
            text += f" ({self.hint})"
        if self.position is not None and "\n" not in self.expression and len(self.expression) <= 200:
            text += f"\n  {self.expression}\n  {' ' * (self.position - 1)}^"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.message, "position": self.position, "hint": self.hint, "expression": self.expression}


# -- the tree ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    pos: int
    """1-based character where the node starts."""


@dataclass(frozen=True)
class Name(Node):
    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Literal(Node):
    value: str | float | int | bool | None

    @property
    def kind(self) -> str:
        if self.value is None:
            return "null"
        if isinstance(self.value, bool):
            return "boolean"
        return "text" if isinstance(self.value, str) else "number"


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Name | Literal
    right: Name | Literal
    op_pos: int


@dataclass(frozen=True)
class InList(Node):
    operand: Name | Literal
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Between(Node):
    operand: Name | Literal
    low: Literal
    high: Literal
    negated: bool


@dataclass(frozen=True)
class IsNull(Node):
    operand: Name | Literal
    negated: bool


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Literal, ...]


@dataclass(frozen=True)
class Not(Node):
    item: Node


@dataclass(frozen=True)
class BoolOp(Node):
    op: str
    """AND or OR."""
    items: tuple[Node, ...]
    op_positions: tuple[int, ...]


@dataclass(frozen=True)
class Group(Node):
    item: Node


Condition = Compare | InList | Between | IsNull | Call | Not | BoolOp | Group


# -- parsing -------------------------------------------------------------------------------------------


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=True)


def _pos(token: Token) -> int:
    return int(token.start_pos) + 1


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")


@v_args(inline=True)
class _Build(Transformer):
    def __init__(self, expression: str) -> None:
        super().__init__()
        self.expression = expression

    def name(self, *parts: Token) -> Name:
        return Name(_pos(parts[0]), tuple(p[1:-1] if p.type == "QNAME" else str(p) for p in parts))

    def number(self, tok: Token) -> Literal:
        text = str(tok)
        value: float | int = int(text) if text.isdigit() else float(text)
        return Literal(_pos(tok), value)

    def negative(self, minus: Token, tok: Token) -> Literal:
        number = self.number(tok)
        return Literal(_pos(minus), -number.value)  # type: ignore[operator]

    def string(self, tok: Token) -> Literal:
        return Literal(_pos(tok), _unquote(str(tok)))

    def null(self, tok: Token) -> Literal:
        return Literal(_pos(tok), None)

    def true(self, tok: Token) -> Literal:
        return Literal(_pos(tok), True)

    def false(self, tok: Token) -> Literal:
        return Literal(_pos(tok), False)

    def comparison(self, left: Any, op: Token, right: Any) -> Compare:
        symbol = {"==": "=", "<>": "!="}.get(str(op), str(op))
        return Compare(left.pos, symbol, left, right, _pos(op))

    def in_list(self, operand: Any, negated: Token | None, _in: Token, _lpar: Token, *rest: Any) -> InList:
        values = tuple(v for v in rest if isinstance(v, Literal))
        return InList(operand.pos, operand, values, negated is not None)

    def between(self, operand: Any, negated: Token | None, _b: Token, low: Literal, _and: Token,
                high: Literal) -> Between:
        return Between(operand.pos, operand, low, high, negated is not None)

    def is_null(self, operand: Any, _is: Token, negated: Token | None, _null: Token) -> IsNull:
        return IsNull(operand.pos, operand, negated is not None)

    def call(self, name: Token, _lpar: Token, *rest: Any) -> Call:
        args = tuple(v for v in rest if isinstance(v, Literal))
        return Call(_pos(name), str(name), args)

    def negation(self, tok: Token, item: Node) -> Not:
        return Not(_pos(tok), item)

    def group(self, lpar: Token, item: Node, _rpar: Token) -> Group:
        return Group(_pos(lpar), item)

    def or_expr(self, *children: Any) -> BoolOp:
        return self._bool("OR", children)

    def and_expr(self, *children: Any) -> BoolOp:
        return self._bool("AND", children)

    def _bool(self, op: str, children: tuple[Any, ...]) -> BoolOp:
        items = tuple(c for c in children if not isinstance(c, Token))
        ops = tuple(_pos(c) for c in children if isinstance(c, Token))
        if op == "OR":
            for item, at in zip(items[1:], ops, strict=True):
                for side in (item,):
                    if isinstance(side, BoolOp) and side.op == "AND":
                        raise ExpressionError("AND and OR are mixed without parentheses", self.expression, at,
                                              hint="write (a AND b) OR c, or a AND (b OR c)")
            if isinstance(items[0], BoolOp) and items[0].op == "AND":
                raise ExpressionError("AND and OR are mixed without parentheses", self.expression, ops[0],
                                      hint="write (a AND b) OR c, or a AND (b OR c)")
        return BoolOp(items[0].pos, op, items, ops)


def _expected(exc: UnexpectedInput) -> str:
    names = sorted({_TOKEN_NAMES.get(t, t) for t in (getattr(exc, "expected", None) or set())
                    if not t.startswith("__")})
    if not names:
        return ""
    return "expected " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1])


def _too_deep(tree: Tree, limit: int) -> int | None:
    """Where (0-based character) the parse tree first nests parentheses and NOTs deeper than
    ``limit``, or None. Walked without recursion, so any depth can be measured; parentheses inside
    quoted text or names are not nesting and do not count."""
    stack: list[tuple[Tree | Token, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, Tree):
            continue
        if node.data in ("group", "negation"):
            depth += 1
            if depth > limit:
                first = node.children[0]
                return int(first.start_pos) if isinstance(first, Token) else 0
        stack.extend((child, depth) for child in node.children)
    return None


def parse(expression: str) -> Condition:
    """The syntax tree of ``expression``; ``ExpressionError`` with the position when it is not valid."""
    if not isinstance(expression, str):
        raise ExpressionError("the expression must be text", repr(expression))
    if not expression.strip():
        raise ExpressionError("the expression is empty", expression, hint="e.g. frequency >= 2 AND recency_days < 30")
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH:,} characters", expression[:200])
    try:
        tree = _parser().parse(expression)
    except UnexpectedCharacters as exc:
        ch = expression[exc.pos_in_stream]
        hint = _char_hint(ch)
        raise ExpressionError(f"unexpected character {ch!r}", expression, exc.pos_in_stream + 1,
                              hint=hint or (_expected(exc) or None)) from None
    except UnexpectedEOF as exc:
        raise ExpressionError("the expression ends too early", expression, len(expression.rstrip()) + 1,
                              hint=_expected(exc) or None) from None
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            raise ExpressionError("the expression ends too early", expression, len(expression.rstrip()) + 1,
                                  hint=_expected(exc) or None) from None
        hint = _token_hint(tok, exc)
        raise ExpressionError(f"unexpected {str(tok)!r}", expression, _pos(tok), hint=hint) from None
    at = _too_deep(tree, MAX_DEPTH)
    if at is not None:
        raise ExpressionError(f"parentheses and NOTs are nested deeper than {MAX_DEPTH}", expression, at + 1,
                              hint="an audience is a few conditions: write NOT NOT x as x, and flatten the groups")
    try:
        return _Build(expression).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ExpressionError):
            raise exc.orig_exc from None
        raise


def _char_hint(ch: str) -> str | None:
    if ch == '"':
        return "text goes in single quotes: 'like this'"
    if ch == ";":
        return "an expression is one condition; statements are not allowed"
    if ch in "＝＞＜！（），‘’“”":
        return "a full-width symbol; use the ASCII one ( = > < ! ( ) , ' )"
    if ch in "&|":
        return "use AND and OR"
    return None


def _token_hint(tok: Token, exc: UnexpectedToken) -> str | None:
    if tok.type == "MINUS":
        return "comments and arithmetic are not part of the language"
    if tok.type == "COMP":
        return "compare one pair at a time: join comparisons with AND, or use BETWEEN"
    if tok.type in ("NAME", "QNAME") and str(tok).upper() in ("SELECT", "DROP", "DELETE", "UNION", "INSERT",
                                                             "UPDATE", "FROM", "WHERE", "LIKE"):
        return "this is not SQL: only conditions on names are allowed"
    return _expected(exc) or None


def names_in(node: Node) -> list[Name]:
    """Every name the tree mentions, in order of appearance."""
    out: list[Name] = []

    def walk(n: Any) -> None:
        if isinstance(n, Name):
            out.append(n)
        elif isinstance(n, Compare):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, InList | Between | IsNull):
            walk(n.operand)
        elif isinstance(n, Not | Group):
            walk(n.item)
        elif isinstance(n, BoolOp):
            for item in n.items:
                walk(item)

    walk(node)
    return out
