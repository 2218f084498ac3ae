"""Compile stage: a checked AST → a Python closure, built once per rule — the language's
three-valued semantics, one place.

A compiled condition is ``fn(case, params, vars) -> value`` where ``case`` is the
validated case dict, ``params`` the parameter values in force on the case's date
and ``vars`` the quantifier variables.  Nothing from rule text is executed: each
node becomes a small closure chosen by its (checked) type.

**Unknown is not null.**  A key the case does not state is *unknown*; ``null`` (where the
schema allows it) means "there is none", and a path through a null object reads null.  (An
absent top-level section is another action's — the schema forbids those — so it reads null.)  An
expression that hangs on an unknown fact evaluates to a ``Residual``: what is left of it once
every known fact is put in, as a condition-language AST over concrete paths
(``student.suspensions[0].end``), with the unknown paths it still ``needs``.  This is Kleene's
logic: ``false and unknown`` is false, ``true or unknown`` is true, ``not unknown`` is unknown;
a comparison, arithmetic, a function or a membership test with an unknown operand is unknown;
``any`` over a list is true if one element is, false if all are false, otherwise unknown
(``all`` likewise); a quantifier over an unknown list is unknown.  ``known(x)`` is the one
built-in that is never unknown, and ``stated_or(x, y)`` reads an unstated ``x`` like null.

Null semantics of known values, so that evaluation is total: arithmetic and date functions
of null are null; an ordered comparison with null is false; ``and`` / ``or`` / ``not`` treat
null as false; quantifiers over null see an empty list.

The generated fast path (``codegen.py``) is this semantics restricted to cases that state every
fact read: it raises ``KeyError`` on an absent one, and the engine falls back to these closures.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from . import ast as A
from .builtins import BUILTINS, COMPARISONS, arithmetic
from .kleene import Residual, kleene_not, merge, residual
from .types import DATE, T_BOOL

Fn = Callable[[dict, dict, dict], Any]

_fromiso = _dt.date.fromisoformat


def _concrete(parts: tuple[str, ...], index: int) -> tuple[str, ...]:
    return parts[:-1] + (f"{parts[-1]}[{index}]",)


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

        def listlit(c, p, v):
            items = [f(c, p, v) for f in fns]
            if any(type(x) is Residual for x in items):
                return residual(lambda *xs: A.ListLit(tuple(xs)), *items)
            return items

        return listlit

    def c_Path(self, e: A.Path) -> Fn:
        parts = e.parts
        is_date = e.type is not None and e.type.kind == DATE
        if e.root == "param":
            name = parts[1]

            def param(c: dict, p: dict, v: dict) -> Any:
                return p[name]

            return param
        if e.root in ("let", "var"):  # e.defaults holds the schema default of each step after the head
            steps = tuple(zip(parts[1:], e.defaults or (None,) * (len(parts) - 1)))
            if e.root == "var":
                return _path_getter(parts[0], steps, is_date)
            inner = self._let(A.expansion_of(e))
            if len(parts) == 1:
                return inner
            return _path_getter(None, steps, is_date, base=inner, origin=_origin(A.expansion_of(e), (parts[0],)))
        return _path_getter(None, tuple(zip(parts, e.defaults or (None,) * len(parts))), is_date)

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
        origin = _origin(e.obj, (A.pretty(e.obj),))  # where the object lives, to name an absent field

        def field(c, p, v):
            x = obj(c, p, v)
            if type(x) is Residual:
                return Residual(A.Field(x.expr, name), x.needs)
            if x is None:
                return None
            if name in x:
                y = x[name]
            elif default is not None:
                y = default
            else:
                return _unstated(origin(c, p, v) + (name,))
            return _fromiso(y) if is_date and type(y) is str else y

        return field

    # boolean ------------------------------------------------------------------
    def c_Not(self, e: A.Not) -> Fn:
        f = self.compile(e.operand)
        return lambda c, p, v: kleene_not(f(c, p, v))

    def c_BoolOp(self, e: A.BoolOp) -> Fn:
        fns = tuple(self.compile(o) for o in e.operands)
        op = e.op
        stop = op == "or"  # the value that decides: true for or, false for and

        def boolop(c, p, v):
            unknown: list[Residual] = []
            for f in fns:
                x = f(c, p, v)
                if type(x) is Residual:
                    unknown.append(x)
                elif bool(x) is stop:
                    return stop
            if not unknown:
                return not stop
            if len(unknown) == 1:
                return unknown[0]
            return Residual(A.BoolOp(op, tuple(r.expr for r in unknown), type=T_BOOL), merge(*unknown))

        return boolop

    # comparison ---------------------------------------------------------------
    def c_Compare(self, e: A.Compare) -> Fn:
        a, b = self.compile(e.left), self.compile(e.right)
        op = e.op
        fn = COMPARISONS[op]
        ordered = op not in ("==", "!=")

        def node(x, y):
            return A.Compare(op, x, y, type=T_BOOL)

        def cmp(c, p, v):
            x, y = a(c, p, v), b(c, p, v)
            if type(x) is Residual or type(y) is Residual:
                return residual(node, x, y)
            if ordered and (x is None or y is None):
                return False
            return fn(x, y)

        return cmp

    def c_In(self, e: A.In) -> Fn:
        a, b = self.compile(e.left), self.compile(e.right)
        negated = e.negated
        values = A.literal_values(e.right.items) if isinstance(e.right, A.ListLit) else None
        members = frozenset(member_key(x) for x in values) if values is not None else None

        def node(x, y):
            return A.In(x, y, negated, type=T_BOOL)

        def in_(c, p, v):
            x = a(c, p, v)
            coll = values if values is not None else b(c, p, v)
            if type(x) is Residual or type(coll) is Residual:
                return residual(node, x, coll)
            if members is not None:  # a constant list: a set, built once (true/false stay apart from 1/0)
                hit = member_key(x) in members
            else:
                hit = coll is not None and x in coll
            return not hit if negated else hit

        return in_

    def c_IsNull(self, e: A.IsNull) -> Fn:
        f = self.compile(e.operand)
        negated = e.negated

        def isnull(c, p, v):
            x = f(c, p, v)
            if type(x) is Residual:
                return Residual(A.IsNull(x.expr, negated, type=T_BOOL), x.needs)
            return (x is not None) if negated else (x is None)

        return isnull

    # arithmetic ---------------------------------------------------------------
    def c_Neg(self, e: A.Neg) -> Fn:
        f = self.compile(e.operand)

        def neg(c, p, v):
            x = f(c, p, v)
            if type(x) is Residual:
                return Residual(A.Neg(x.expr), x.needs)
            return None if x is None else -x

        return neg

    def c_Arith(self, e: A.Arith) -> Fn:
        a, b = self.compile(e.left), self.compile(e.right)
        op = arithmetic(e.op, A.kind_of(e.left), A.kind_of(e.right))
        sym = e.op

        def node(x, y):
            return A.Arith(sym, x, y)

        def arith(c, p, v):
            x, y = a(c, p, v), b(c, p, v)
            if type(x) is Residual or type(y) is Residual:
                return residual(node, x, y)
            if x is None or y is None:
                return None
            return op(x, y)

        return arith

    # calls --------------------------------------------------------------------
    def c_Call(self, e: A.Call) -> Fn:
        fns = tuple(self.compile(a) for a in e.args)
        b = BUILTINS[e.name]
        name = e.name

        def node(*xs):
            return A.Call(name, tuple(xs))

        if name == "known":  # the one built-in that is never unknown
            (k,) = fns
            return lambda c, p, v: type(k(c, p, v)) is not Residual
        if name == "stated_or":  # an unstated first argument is not unknown here: take the second
            a, alt = fns

            def stated_or(c, p, v):
                x = a(c, p, v)
                return alt(c, p, v) if x is None or type(x) is Residual else x

            return stated_or
        if name == "coalesce":  # lazy: its second argument only when needed
            a, alt = fns

            def coalesce(c, p, v):
                x = a(c, p, v)
                if type(x) is Residual:
                    return residual(node, x, alt(c, p, v))
                return alt(c, p, v) if x is None else x

            return coalesce
        impl = b.bind(self.calendar)
        null_safe = b.null_safe

        def call(c, p, v):
            args = [f(c, p, v) for f in fns]
            if any(type(x) is Residual for x in args):
                return residual(node, *args)
            if not null_safe and any(x is None for x in args):
                return None
            return impl(*args)

        return call

    # quantifiers --------------------------------------------------------------
    def c_Quant(self, e: A.Quant) -> Fn:
        it, body, var, kind = self.compile(e.iterable), self.compile(e.body), e.var, e.kind
        original = e
        # Where the elements live, so that an unknown field of one is named by its own path.
        where: Callable[[dict], tuple[str, ...]]
        if isinstance(e.iterable, A.Path) and e.iterable.root == "case":
            parts = e.iterable.parts
            where = lambda v: parts  # noqa: E731
        elif isinstance(e.iterable, A.Path) and e.iterable.root == "var":
            head, rest = e.iterable.parts[0], e.iterable.parts[1:]
            where = lambda v: v.get("@" + head, (head,)) + rest  # noqa: E731
        else:
            text = (A.pretty(e.iterable),)
            where = lambda v: text  # noqa: E731
        at = "@" + var

        def quant(c, p, v):
            items = it(c, p, v)
            if type(items) is Residual:
                return Residual(A.Quant(kind, var, items.expr, original.body, type=original.type), items.needs)
            items = items or ()
            saved, saved_at = v.get(var, _MISSING), v.get(at, _MISSING)
            base = where(v)
            unknown: list[Residual] = []
            n = 0
            try:
                for i, x in enumerate(items):
                    v[var] = x
                    v[at] = _concrete(base, i)
                    y = body(c, p, v)
                    if type(y) is Residual:
                        unknown.append(y)
                    elif kind == "any" and y:
                        return True
                    elif kind == "all" and not y:
                        return False
                    elif y:
                        n += 1
            finally:
                for key, old in ((var, saved), (at, saved_at)):
                    if old is _MISSING:
                        v.pop(key, None)
                    else:
                        v[key] = old
            if not unknown:
                return n if kind == "count" else kind == "all"
            if kind == "count":
                return Residual(original, merge(*unknown))
            if len(unknown) == 1:
                return unknown[0]
            return Residual(A.BoolOp("or" if kind == "any" else "and", tuple(r.expr for r in unknown), type=T_BOOL),
                            merge(*unknown))

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


def _unstated(where: tuple[str, ...]) -> Residual:
    """The value of a field the case does not state: itself, needing its own path."""
    return Residual(A.Path(where, root="case"), (".".join(where),))


def _origin(e: A.Expr, fallback: tuple[str, ...]) -> Callable[[dict, dict, dict], tuple[str, ...]]:
    """Where in the case the object ``e`` denotes lives (``student.suspensions[2]``), so that an
    absent field of it is named by a real path; ``fallback`` when it is computed otherwise."""
    if isinstance(e, A.Path) and e.root == "case":
        parts = e.parts
        return lambda c, p, v: parts
    if isinstance(e, A.Path) and e.root == "var":
        head, rest = e.parts[0], e.parts[1:]
        return lambda c, p, v: (v.get("@" + head) or (head,)) + rest
    if isinstance(e, A.Path) and e.root == "let" and e.expansion is not None:
        inner = _origin(e.expansion, fallback[:1])
        rest = e.parts[1:]
        return lambda c, p, v: inner(c, p, v) + rest
    if isinstance(e, A.Call) and e.name in ("first", "last") and isinstance(e.args[0], A.Path) \
            and e.args[0].root == "case":
        lst_path = e.args[0].parts
        last = e.name == "last"

        def element(c, p, v):
            x: Any = c
            for k in lst_path:
                x = x.get(k) if isinstance(x, dict) else None
            n = len(x) if isinstance(x, list) else 0
            return _concrete(lst_path, n - 1 if last else 0) if n else fallback

        return element
    return lambda c, p, v: fallback


def _path_getter(head: str | None, steps: tuple, is_date: bool, base: Fn | None = None,
                 origin: Callable[[dict, dict, dict], tuple[str, ...]] | None = None) -> Fn:
    """A getter walking ``steps`` ((key, default), …) from the case, a variable or a let's value.

    A null object on the way reads null (there is none); an absent key is unknown unless the
    schema gives its field a (definitional) default."""
    at = "@" + head if head is not None else None

    def get(c, p, v):
        if base is not None:
            x = base(c, p, v)
            if type(x) is Residual:
                expr = x.expr
                for k, _ in steps:
                    expr = A.Field(expr, k)
                return Residual(expr, x.needs)
            prefix = origin(c, p, v) if origin is not None else ()
        elif head is None:
            x, prefix = c, ()
        else:
            x = v.get(head)
            prefix = v.get(at) or (head,)
        for i, (k, d) in enumerate(steps):
            if x is None:
                return None
            if k in x:
                x = x[k]
            elif d is not None:
                x = d
            elif i == 0 and head is None and base is None:
                # A top-level key the case leaves out is another action's section (the schema
                # forbids those): there is none, it reads null — not an unknown fact.
                return None
            else:
                return _unstated(prefix + tuple(s for s, _ in steps[: i + 1]))
        if is_date and type(x) is str:
            return _fromiso(x)
        return x

    return get


def compile_expr(e: A.Expr, calendar=None) -> Fn:
    return Compiler(calendar).compile(e)
