"""The typed AST of a condition, and ``pretty`` to print one back as source.

Positions (``pos``: character offset inside the expression text) do not take
part in equality, so ``parse(pretty(e)) == e``.  The checker fills ``type`` on every
node and resolves each ``Path`` to a case field, a parameter or a bound variable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .types import Type


@dataclass(eq=True)
class Node:
    pos: int = field(default=0, compare=False, repr=False, kw_only=True)  # offset in the expression text
    type: Type | None = field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(eq=True)
class Literal(Node):
    value: Any  # int, float, str, bool, None


@dataclass(eq=True)
class ListLit(Node):
    items: tuple[Expr, ...]


@dataclass(eq=True)
class Path(Node):
    parts: tuple[str, ...]
    # Filled by the checker: "case", "param" or "var".
    root: str | None = field(default=None, compare=False, kw_only=True)
    # Filled by the checker: the schema default of each step's field (None if none).
    defaults: tuple = field(default=(), compare=False, repr=False, kw_only=True)
    # Filled by the checker: whether each step's field is always there in a valid case
    # (required and not nullable), so that fast code may index it without a null check.
    present: tuple = field(default=(), compare=False, repr=False, kw_only=True)
    # Filled by the checker for root == "let": the checked copy of the named expression.
    expansion: Expr | None = field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(eq=True)
class Field(Node):
    """``obj.name`` where ``obj`` is not a plain path, e.g. ``last(student.suspensions).start``."""

    obj: Expr
    name: str
    default: Any = field(default=None, compare=False, repr=False, kw_only=True)  # schema default


@dataclass(eq=True)
class Not(Node):
    operand: Expr


@dataclass(eq=True)
class Neg(Node):
    operand: Expr


@dataclass(eq=True)
class BoolOp(Node):
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]


@dataclass(eq=True)
class Compare(Node):
    op: str  # == != < <= > >=
    left: Expr
    right: Expr


@dataclass(eq=True)
class Arith(Node):
    op: str  # + -
    left: Expr
    right: Expr


@dataclass(eq=True)
class In(Node):
    left: Expr
    right: Expr
    negated: bool = False


@dataclass(eq=True)
class IsNull(Node):
    operand: Expr
    negated: bool = False


@dataclass(eq=True)
class Call(Node):
    name: str
    args: tuple[Expr, ...]


@dataclass(eq=True)
class Quant(Node):
    kind: str  # "any" | "all" | "count"
    var: str
    iterable: Expr
    body: Expr


Expr = Literal | ListLit | Path | Field | Not | Neg | BoolOp | Compare | Arith | In | IsNull | Call | Quant

def type_of(e: Expr) -> Type:
    """The type the checker filled in; only checked ASTs reach the compilers and explain."""
    assert e.type is not None, f"unchecked expression: {e!r}"
    return e.type


def kind_of(e: Expr) -> str:
    """The kind of a checked expression's type (``int``, ``date``, ``list`` …)."""
    return type_of(e).kind


def expansion_of(e: Path) -> Expr:
    """The checked body of a named condition (lets) the checker attached to its use."""
    assert e.expansion is not None, f"let without its expansion: {e!r}"
    return e.expansion


def literal_values(items: tuple[Expr, ...]) -> list[Any] | None:
    """The values of a list of literals, or None when an item is not a literal."""
    out = []
    for i in items:
        if not isinstance(i, Literal):
            return None
        out.append(i.value)
    return out


# Binding strength, loosest first; used by ``pretty`` to parenthesise minimally.
_PREC = {"or": 1, "and": 2, "not": 3, "cmp": 4, "arith": 5, "neg": 6, "atom": 7}


def _prec(e: Expr) -> int:
    if isinstance(e, BoolOp):
        return _PREC[e.op]
    if isinstance(e, Not):
        return _PREC["not"]
    if isinstance(e, (Compare, In, IsNull)):
        return _PREC["cmp"]
    if isinstance(e, Arith):
        return _PREC["arith"]
    if isinstance(e, Neg):
        return _PREC["neg"]
    return _PREC["atom"]


def _wrap(e: Expr, min_prec: int) -> str:
    s = pretty(e)
    return f"({s})" if _prec(e) < min_prec else s


def pretty(e: Expr) -> str:
    """Source text for an expression; parsing it gives back an equal AST."""
    if isinstance(e, Literal):
        v = e.value
        if v is None:
            return "null"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, float):
            return _float_text(v)
        return repr(v)
    if isinstance(e, ListLit):
        return "[" + ", ".join(pretty(i) for i in e.items) + "]"
    if isinstance(e, Path):
        return ".".join(e.parts)
    if isinstance(e, Field):
        negative = isinstance(e.obj, Literal) and type(e.obj.value) in (int, float) and e.obj.value < 0
        obj = f"({pretty(e.obj)})" if negative else _wrap(e.obj, _PREC["atom"])
        return f"{obj}.{e.name}"
    if isinstance(e, Not):
        return "not " + _wrap(e.operand, _PREC["not"])
    if isinstance(e, Neg):
        return "-" + _wrap(e.operand, _PREC["neg"])
    if isinstance(e, BoolOp):
        p = _PREC[e.op]
        # Left-associative: the first operand may be the same op unparenthesised,
        # the rest may not (they were flattened from a left-leaning tree).
        parts = [_wrap(e.operands[0], p)] + [_wrap(o, p + 1) for o in e.operands[1:]]
        return f" {e.op} ".join(parts)
    if isinstance(e, Compare):
        p = _PREC["cmp"] + 1
        return f"{_wrap(e.left, p)} {e.op} {_wrap(e.right, p)}"
    if isinstance(e, In):
        p = _PREC["cmp"] + 1
        op = "not in" if e.negated else "in"
        return f"{_wrap(e.left, p)} {op} {_wrap(e.right, p)}"
    if isinstance(e, IsNull):
        return f"{_wrap(e.operand, _PREC['cmp'] + 1)} is {'not ' if e.negated else ''}null"
    if isinstance(e, Arith):
        p = _PREC["arith"]
        return f"{_wrap(e.left, p)} {e.op} {_wrap(e.right, p + 1)}"
    if isinstance(e, Call):
        return f"{e.name}(" + ", ".join(pretty(a) for a in e.args) + ")"
    if isinstance(e, Quant):
        return f"{e.kind}({e.var} in {pretty(e.iterable)}: {pretty(e.body)})"
    raise TypeError(f"not an expression node: {e!r}")


def _float_text(v: float) -> str:
    """A float as the language writes decimals: digits, a point, digits (no exponent)."""
    from decimal import Decimal

    text = format(Decimal(repr(abs(v))), "f")
    if "." not in text:
        text += ".0"
    return ("-" if v < 0 else "") + text


def walk(e: Expr):
    """Every node of an expression, parents before children."""
    yield e
    for child in children(e):
        yield from walk(child)


def children(e: Expr) -> tuple:
    if isinstance(e, ListLit):
        return e.items
    if isinstance(e, (Not, Neg)):
        return (e.operand,)
    if isinstance(e, Field):
        return (e.obj,)
    if isinstance(e, IsNull):
        return (e.operand,)
    if isinstance(e, BoolOp):
        return e.operands
    if isinstance(e, (Compare, Arith, In)):
        return (e.left, e.right)
    if isinstance(e, Call):
        return e.args
    if isinstance(e, Quant):
        return (e.iterable, e.body)
    return ()


def free_vars(e: Expr, _memo: dict | None = None) -> set[str]:
    """Quantifier variables an expression reads without binding them itself."""
    memo = {} if _memo is None else _memo
    hit = memo.get(id(e))
    if hit is not None:
        return hit
    out = memo[id(e)] = _free_vars_of(e, memo)
    return out


def _free_vars_of(e: Expr, memo: dict) -> set[str]:
    if isinstance(e, Path) and e.root == "var":
        return {e.parts[0]}
    if isinstance(e, Quant):
        return free_vars(e.iterable, memo) | (free_vars(e.body, memo) - {e.var})
    if isinstance(e, Path) and e.root == "let" and e.expansion is not None:
        return free_vars(e.expansion, memo)
    out: set[str] = set()
    for child in children(e):
        out |= free_vars(child, memo)
    return out
