"""Compile stage: a checked AST → a Python closure, built once per rule.

A compiled condition is ``fn(case, params, vars) -> value`` where ``case`` is the
validated case dict, ``params`` the parameter values in force on the case's date
and ``vars`` the quantifier variables.  Nothing from rule text is executed: each
node becomes a small closure chosen by its (checked) type.

Null semantics, so that evaluation is total: a missing or null object reads as
empty, so a path through it gives its last field's schema default, or null; arithmetic and date
functions of null are null; an ordered comparison with null is false; ``and`` /
``or`` / ``not`` treat null as false; quantifiers over null see an empty list.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from . import ast as A
from .builtins import BUILTINS, COMPARISONS, arithmetic
from .types import DATE

Fn = Callable[[dict, dict, dict], Any]

_fromiso = _dt.date.fromisoformat


# --------------------------------------------------------------------------- compiler


def _constant(value: Any) -> Fn:
    def const(c: dict, p: dict, v: dict) -> Any:
        return value

    return const


class Compiler:
    def __init__(self, calendar=None):
        self.calendar = calendar  # a WorkCalendar, for add_working_days / working_days_between
        self._lets: dict[int, tuple[Fn, A.Expr]] = {}  # id of a shared let expansion → its closure

    def compile(self, e: A.Expr) -> Fn:
        return getattr(self, "c_" + type(e).__name__)(e)

    # leaves -------------------------------------------------------------------
    def c_Literal(self, e: A.Literal) -> Fn:
        return _constant(e.value)

    def c_ListLit(self, e: A.ListLit) -> Fn:
        values = A.literal_values(e.items)
        if values is not None:
            return _constant(values)
        fns = [self.compile(i) for i in e.items]
        return lambda c, p, v: [f(c, p, v) for f in fns]

    def c_Path(self, e: A.Path) -> Fn:
        parts = e.parts
        is_date = e.type is not None and e.type.kind == DATE
        if e.root == "param":
            name = parts[1]

            def param(c: dict, p: dict, v: dict) -> Any:
                return p[name]

            return param
        if e.root == "let":
            inner = self._let(A.expansion_of(e))
            if len(parts) == 1:
                return inner
            steps = tuple(zip(parts[1:], e.defaults or (None,) * (len(parts) - 1)))
            rest = _path_getter("__let__", steps, is_date)
            return lambda c, p, v: rest(c, p, {"__let__": inner(c, p, v)})
        # e.defaults holds the schema default of each step's field (checker-filled).
        if e.root == "var":
            head, steps = parts[0], tuple(zip(parts[1:], e.defaults or (None,) * (len(parts) - 1)))
        else:
            head, steps = None, tuple(zip(parts, e.defaults or (None,) * len(parts)))
        return _path_getter(head, steps, is_date)

    def _let(self, expansion: A.Expr) -> Fn:
        """One closure per named condition, shared by its uses; its value is memoised in the
        evaluation's ``vars`` dict (per the quantifier variables it reads), so a let used twice by
        the next one is not evaluated exponentially often."""
        hit = self._lets.get(id(expansion))
        if hit is not None:
            return hit[0]
        body = self.compile(expansion)
        free = tuple(sorted(A.free_vars(expansion)))
        key = ("__let__", id(expansion))

        def let(c, p, v):
            k = key + tuple(memo_key(v.get(n)) for n in free)
            memo = v.setdefault("@memo", {})  # not an identifier: no variable can clash
            if k in memo:
                return memo[k]
            value = memo[k] = body(c, p, v)
            return value

        self._lets[id(expansion)] = (let, expansion)  # keep the expansion alive: its id is the key
        return let

    def c_Field(self, e: A.Field) -> Fn:
        obj, name, default = self.compile(e.obj), e.name, e.default
        is_date = e.type is not None and e.type.kind == DATE

        def field(c, p, v):
            x = (obj(c, p, v) or EMPTY).get(name, default)
            return _fromiso(x) if is_date and type(x) is str else x

        return field

    # boolean ------------------------------------------------------------------
    def c_Not(self, e: A.Not) -> Fn:
        f = self.compile(e.operand)
        return lambda c, p, v: not f(c, p, v)

    def c_BoolOp(self, e: A.BoolOp) -> Fn:
        fns = tuple(self.compile(o) for o in e.operands)
        if e.op == "and":
            if len(fns) == 2:
                a, b = fns
                return lambda c, p, v: bool(a(c, p, v)) and bool(b(c, p, v))

            def and_(c, p, v):
                for f in fns:
                    if not f(c, p, v):
                        return False
                return True

            return and_
        if len(fns) == 2:
            a, b = fns
            return lambda c, p, v: bool(a(c, p, v)) or bool(b(c, p, v))

        def or_(c, p, v):
            for f in fns:
                if f(c, p, v):
                    return True
            return False

        return or_

    # comparison ---------------------------------------------------------------
    def c_Compare(self, e: A.Compare) -> Fn:
        a, b = self.compile(e.left), self.compile(e.right)
        op = e.op
        if op == "==":
            return lambda c, p, v: a(c, p, v) == b(c, p, v)
        if op == "!=":
            return lambda c, p, v: a(c, p, v) != b(c, p, v)

        def ordered(fn):
            def cmp(c, p, v):
                x = a(c, p, v)
                if x is None:
                    return False
                y = b(c, p, v)
                return y is not None and fn(x, y)

            return cmp

        return ordered(COMPARISONS[op])

    def c_In(self, e: A.In) -> Fn:
        a, b = self.compile(e.left), self.compile(e.right)
        values = A.literal_values(e.right.items) if isinstance(e.right, A.ListLit) else None
        if values is not None:
            # Membership in a constant list: a set, built once.  (true/false stay apart from 1/0.)
            members = frozenset(member_key(x) for x in values)
            if e.negated:
                return lambda c, p, v: member_key(a(c, p, v)) not in members
            return lambda c, p, v: member_key(a(c, p, v)) in members
        if e.negated:
            def not_in(c, p, v):
                coll = b(c, p, v)
                return coll is None or a(c, p, v) not in coll

            return not_in

        def in_(c, p, v):
            coll = b(c, p, v)
            return coll is not None and a(c, p, v) in coll

        return in_

    def c_IsNull(self, e: A.IsNull) -> Fn:
        f = self.compile(e.operand)
        if e.negated:
            return lambda c, p, v: f(c, p, v) is not None
        return lambda c, p, v: f(c, p, v) is None

    # arithmetic ---------------------------------------------------------------
    def c_Neg(self, e: A.Neg) -> Fn:
        f = self.compile(e.operand)

        def neg(c, p, v):
            x = f(c, p, v)
            return None if x is None else -x

        return neg

    def c_Arith(self, e: A.Arith) -> Fn:
        a, b = self.compile(e.left), self.compile(e.right)
        op = arithmetic(e.op, A.kind_of(e.left), A.kind_of(e.right))

        def arith(c, p, v):
            x = a(c, p, v)
            if x is None:
                return None
            y = b(c, p, v)
            return None if y is None else op(x, y)

        return arith

    # calls --------------------------------------------------------------------
    def c_Call(self, e: A.Call) -> Fn:
        fns = tuple(self.compile(a) for a in e.args)
        b = BUILTINS[e.name]
        if e.name == "coalesce":  # the one lazy built-in: its second argument only when needed
            a, alt = fns

            def coalesce(c, p, v):
                x = a(c, p, v)
                return alt(c, p, v) if x is None else x

            return coalesce
        impl = b.bind(self.calendar)
        if b.null_safe:
            return lambda c, p, v: impl(*[f(c, p, v) for f in fns])
        if len(fns) == 1:
            (f,) = fns

            def call1(c, p, v):
                x = f(c, p, v)
                return None if x is None else impl(x)

            return call1
        if len(fns) == 2:
            f, g = fns

            def call2(c, p, v):
                x = f(c, p, v)
                if x is None:
                    return None
                y = g(c, p, v)
                return None if y is None else impl(x, y)

            return call2

        def calln(c, p, v):
            args = [f(c, p, v) for f in fns]
            return None if any(x is None for x in args) else impl(*args)

        return calln

    # quantifiers --------------------------------------------------------------
    def c_Quant(self, e: A.Quant) -> Fn:
        it, body, var, kind = self.compile(e.iterable), self.compile(e.body), e.var, e.kind

        def quant(c, p, v):
            items = it(c, p, v) or ()
            saved = v.get(var, _MISSING)
            try:
                if kind == "any":
                    for x in items:
                        v[var] = x
                        if body(c, p, v):
                            return True
                    return False
                if kind == "all":
                    for x in items:
                        v[var] = x
                        if not body(c, p, v):
                            return False
                    return True
                n = 0
                for x in items:
                    v[var] = x
                    if body(c, p, v):
                        n += 1
                return n
            finally:
                if saved is _MISSING:
                    v.pop(var, None)
                else:
                    v[var] = saved

        return quant


_MISSING = object()
EMPTY: dict = {}


def memo_key(x):
    # Quantifier variables are elements of the case's lists (alive for the whole evaluation), or
    # scalars: hashable values key by value, the rest by identity (shared with the generated code).
    try:
        hash(x)
    except TypeError:
        return ("id", id(x))
    return (type(x), x)


def member_key(x):
    if isinstance(x, bool):
        return (bool, x)
    try:
        hash(x)
    except TypeError:
        return repr(x)
    return x


def _path_getter(head: str | None, steps: tuple, is_date: bool) -> Fn:
    """A getter walking ``steps`` ((key, default), …) from the case or a variable."""

    def finish(x):
        if is_date and type(x) is str:
            return _fromiso(x)
        return x

    # A missing (or null) object reads as empty, so its fields take their schema defaults.
    if head is None and len(steps) == 1:
        (k1, d1), = steps
        return lambda c, p, v: finish(c.get(k1, d1))
    if head is None and len(steps) == 2:
        (k1, _), (k2, d2) = steps
        return lambda c, p, v: finish((c.get(k1) or EMPTY).get(k2, d2))

    def get(c, p, v):
        x = c if head is None else v.get(head)
        for k, d in steps:
            x = (x or EMPTY).get(k, d)
        return finish(x)

    return get


def compile_expr(e: A.Expr, calendar=None) -> Fn:
    return Compiler(calendar).compile(e)
