"""Three-valued (Kleene) values of the condition language: what an unknown fact evaluates to.

Plain data and a few connectives, shared by the closures (``compile.py``), the rule model's
``applies`` and the engine; no stage is imported here.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from . import ast as A
from .types import T_BOOL


class Residual:
    """The value of an expression that hangs on facts the case does not state: the condition
    left (an AST over concrete paths) and the unknown paths it needs, in order of appearance."""

    __slots__ = ("expr", "needs")

    def __init__(self, expr: A.Expr, needs: tuple[str, ...]):
        self.expr = expr
        self.needs = needs

    def __bool__(self) -> bool:  # an unknown is never silently true or false
        raise TypeError("unknown value used as a truth value: " + A.pretty(self.expr))

    def text(self) -> str:
        return A.pretty(self.expr)

    def __repr__(self) -> str:
        return f"Residual({self.text()!r})"


def is_unknown(x: Any) -> bool:
    return type(x) is Residual


def truth(x: Any) -> bool | None:
    """True, False, or None when unknown (for callers that report rather than decide)."""
    return None if type(x) is Residual else bool(x)


def merge(*rs: Residual) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for r in rs:
        out.update(dict.fromkeys(r.needs))
    return tuple(out)


def as_expr(x: Any) -> A.Expr:
    """A known value as a literal of the condition language (for residuals)."""
    if type(x) is Residual:
        return x.expr
    if isinstance(x, _dt.date):
        return A.Call("date", (A.Literal(x.isoformat()),))
    if isinstance(x, (list, tuple)):
        return A.ListLit(tuple(as_expr(i) for i in x))
    return A.Literal(x)


def residual(node_of: Callable[..., A.Expr], *values: Any) -> Residual:
    """A residual built from operand values, at least one of them unknown."""
    unknown = [v for v in values if type(v) is Residual]
    return Residual(node_of(*(as_expr(v) for v in values)), merge(*unknown))


def kleene_and(a: Any, b: Any) -> Any:
    if type(a) is not Residual and not a:
        return False
    if type(b) is not Residual and not b:
        return False
    if type(a) is Residual:
        if type(b) is Residual:
            return Residual(A.BoolOp("and", (a.expr, b.expr), type=T_BOOL), merge(a, b))
        return a
    return b if type(b) is Residual else True


def kleene_not(a: Any) -> Any:
    if type(a) is Residual:
        return Residual(A.Not(a.expr, type=T_BOOL), a.needs)
    return not a


def applies(when: Any, unless: Any = False) -> Any:
    """``when and not unless`` in three values (``unless`` False when the rule has none)."""
    return kleene_and(when, kleene_not(unless))


