"""The typed AST → SMT (z3), over a symbolic case of one action.

Values.  Every expression becomes a ``Val``: ``ok`` (a z3 Bool: the value is not null) and ``v``
(its value when ``ok``): integers are z3 Int, numbers Real, booleans Bool, dates their day number
(Int), strings and enums a code (Int) in one table of every string the rules, the parameters and
the schema's enums name, plus "some other string" codes; a list is a bounded sequence (``SList``:
a length and ``LIST_BOUND`` element slots); an object is read field by field (``SymObj``).

Facts.  Each field of the case has its own variables, created when a rule first reads it: ``has``
(the field is present in the case), ``nn`` (not null, for nullable fields) and its value.  *What
an absent field reads as* is decided in one place, ``SymObj.get``.  Since contract v2 an absent
fact is unknown and a case that leaves out a fact its rules read may be ``undetermined``: the
solver reasons about **complete** cases — every field a rule reads is stated (``has`` is true;
``null`` where the schema allows it is "there is none") — where the engine decides in two values.
That is enough for the properties: by Kleene monotonicity (tests/test_three_valued.py), a case
with unknown facts is decided like every one of its completions or left undetermined, so "no
complete case is allowed" means no case is.  ``known(x)`` is true of a complete case and
``stated_or(a, b)`` reads as ``coalesce(a, b)``.

Domains.  Every variable is constrained to what makes the case valid against ``case.schema.json``
(enum values, ``minimum``/``maximum``, list lengths ≤ ``maxItems`` and ≤ ``LIST_BOUND``) and dates
to the years the tables cover; every calendar lookup asserts its argument lies where the engine
can compute it.  The meaning of each operator and built-in follows ``lang/compile.py`` exactly
(null in, null out; ordered comparison with null false; and/or/not treat null as false;
quantifiers over null see an empty list).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3

from ..lang import ast as A
from ..lang.types import DATE, NUMBER
from .shape import Shape
from .tables import Tables

LIST_BOUND = 4  # every list of a case has at most this many elements in a proof
OTHER_BASE = 1_000_000  # string codes from here on are strings no rule names ("其他1", …)
OTHER_SLOTS = 64


class Unsupported(Exception):
    """A construct the encoder does not translate: the property is "not proved", never wrongly proved."""


# --------------------------------------------------------------------------- values


@dataclass
class Val:
    kind: str  # int | real | bool | date | str | obj | list | null | monthday
    ok: Any  # z3 Bool (or Python bool)
    v: Any = None  # z3 term, SymObj/IteObj, SList, or a (month, day) tuple


@dataclass
class SList:
    length: Any  # z3 Int
    items: list[Val]
    elem_kind: str


NULL = Val("null", z3.BoolVal(False))
TRUE = z3.BoolVal(True)
FALSE = z3.BoolVal(False)


def _bool(x) -> z3.BoolRef:
    return z3.BoolVal(x) if isinstance(x, bool) else x


def truth(val: Val) -> z3.BoolRef:
    """A condition's value as the engine uses it: null is false."""
    if val.kind == "null":
        return FALSE
    if val.kind != "bool":
        raise Unsupported(f"condition of kind {val.kind}")
    return z3.And(_bool(val.ok), val.v)


def ite(c, a: Val, b: Val) -> Val:
    if a.kind == "null" and b.kind == "null":
        return NULL
    if a.kind == "null":
        a, b, c = b, a, z3.Not(c)
    if b.kind == "null":
        return Val(a.kind, z3.And(c, _bool(a.ok)), a.v)
    if a.kind == "obj":
        return Val("obj", z3.If(c, _bool(a.ok), _bool(b.ok)), IteObj(c, a, b))
    if a.kind == "list":
        n = max(len(a.v.items), len(b.v.items))
        items = [ite(c, _item(a.v, i), _item(b.v, i)) for i in range(n)]
        return Val("list", z3.If(c, _bool(a.ok), _bool(b.ok)),
                   SList(z3.If(c, a.v.length, b.v.length), items, a.v.elem_kind))
    if a.kind == "monthday":
        raise Unsupported("conditional month-day")
    av, bv = a.v, b.v
    if a.kind != b.kind and {a.kind, b.kind} == {"int", "real"}:
        av, bv = z3.ToReal(av) if a.kind == "int" else av, z3.ToReal(bv) if b.kind == "int" else bv
        return Val("real", z3.If(c, _bool(a.ok), _bool(b.ok)), z3.If(c, av, bv))
    return Val(a.kind, z3.If(c, _bool(a.ok), _bool(b.ok)), z3.If(c, av, bv))


def _item(lst: SList, i: int) -> Val:
    return lst.items[i] if i < len(lst.items) else NULL


class SymObj:
    """An object of the case (or a list element): its fields' variables, made on first read."""

    def __init__(self, enc: Encoder, key: str, shape: Shape):
        self.enc, self.key, self.shape = enc, key, shape
        self._fields: dict[str, Val] = {}

    def raw(self, name: str) -> tuple[Any, Val]:
        """(has, the value when present) of field ``name``."""
        hit = self._fields.get(name)
        fs = self.shape.props.get(name)
        if fs is None:
            raise Unsupported(f"unknown field {self.key}.{name}")
        key = f"{self.key}.{name}" if self.key else name
        has = TRUE  # v2: complete cases (module docstring) — every field read is stated
        if hit is None:
            hit = self._fields[name] = self.enc.value_var(key, fs)
        return has, hit

    def get(self, name: str, there) -> Val:
        """Field ``name`` read from this object when the object itself is ``there``.

        THE one place that says what an absent fact reads as: complete cases state every field
        a rule reads (v2, module docstring); a field of a null object reads null."""
        if not self.key and name in self.enc.absent:
            return NULL  # another action's section: the schema forbids it in this case
        has, value = self.raw(name)
        return ite(z3.And(_bool(there), has), value, NULL)


class IteObj:
    def __init__(self, c, a: Val, b: Val):
        self.c, self.a, self.b = c, a, b
        self.shape = a.v.shape


def get_field(enc: Encoder, obj: Val, name: str) -> Val:
    if obj.kind == "null":
        return NULL
    if obj.kind != "obj":
        raise Unsupported(f"field of a {obj.kind}")
    o = obj.v
    if isinstance(o, SymObj):
        return o.get(name, obj.ok)
    # An object chosen by a condition (last(list), coalesce): read the field from each side.
    inner = ite(o.c, get_field(enc, o.a, name), get_field(enc, o.b, name))
    return ite(_bool(obj.ok), inner, NULL)  # a field of a null object reads null


# --------------------------------------------------------------------------- the encoder


@dataclass
class Var:
    """A variable of the symbolic case: where it lives, and how to read it back from a model."""

    key: str
    role: str  # has | nn | val | len
    shape: Shape | None
    term: Any


@dataclass
class Encoder:
    shape: Shape  # the case
    tables: Tables
    params: dict[str, Any]  # name → Python value (or a z3 term when symbolic)
    param_types: dict[str, str]
    action: str
    date_lo: int  # the case date's range (day numbers)
    date_hi: int
    prefix: str = ""  # variable names prefix (two encodings side by side)
    # Top-level fields the case of this action never has (the other actions' sections): the
    # consistency constraints may read them, and read null there, as the engine does.
    absent: frozenset = frozenset()
    vars: dict[tuple[str, str], Var] = field(default_factory=dict)
    side: list = field(default_factory=list)  # domain and definedness constraints
    strings: dict[str, int] = field(default_factory=dict)  # shared when two encodings read one case
    free_strings: list = field(default_factory=list)
    named_strings: set = field(default_factory=set)  # codes of string parameters' values (营口市 …)
    params_read: set = field(default_factory=set)  # parameters the rules read (to report symbolic ones)
    _memo: dict = field(default_factory=dict)
    _fresh: int = 0

    def __post_init__(self):
        self.root = Val("obj", TRUE, SymObj(self, "", self.shape))
        # The case's own action and date.
        if "action" in self.shape.props:
            act = self.root.v.get("action", TRUE)
            self.side.append(act.v == self.code(self.action))
        if "date" in self.shape.props:
            day = self.root.v.get("date", TRUE).v
            self.side += [day >= self.date_lo, day <= self.date_hi]

    # -- strings ---------------------------------------------------------------
    def code(self, s: str) -> int:
        c = self.strings.get(s)
        if c is None:
            c = self.strings[s] = len(self.strings)
        return c

    def string_of(self, c: int) -> str:
        for s, k in self.strings.items():
            if k == c:
                return s
        return f"其他{c - OTHER_BASE + 1}"

    # -- variables ---------------------------------------------------------------
    def bool_var(self, role: str, key: str):
        hit = self.vars.get((key, role))
        if hit is None:
            hit = self.vars[(key, role)] = Var(key, role, None, z3.Bool(f"{self.prefix}{role}:{key}"))
        return hit.term

    def _var(self, key: str, role: str, shape: Shape | None, sort: str):
        hit = self.vars.get((key, role))
        if hit is None:
            name = f"{self.prefix}{role}:{key}"
            term = {"int": z3.Int, "real": z3.Real, "bool": z3.Bool}[sort](name)
            hit = self.vars[(key, role)] = Var(key, role, shape, term)
            if shape is not None and role == "val":
                self._domain(term, shape)
        return hit.term

    def _domain(self, term, s: Shape) -> None:
        if s.kind in ("integer", "number"):
            if s.minimum is not None:
                self.side.append(term >= s.minimum)
            if s.maximum is not None:
                self.side.append(term <= s.maximum)
        elif s.kind == "date":
            self.side.append(self.tables.in_dates(term))
        elif s.kind == "enum":
            self.side.append(z3.Or([term == self.code(v) for v in s.values]))
        elif s.kind == "string":
            self.free_strings.append(term)

    def value_var(self, key: str, s: Shape) -> Val:
        ok = self.bool_var("nn", key) if s.nullable else TRUE
        if s.kind == "object":
            return Val("obj", ok, SymObj(self, key, s))
        if s.kind == "array":
            bound = list_bound(s)
            n = self._var(key, "len", s, "int")
            self.side += [n >= 0, n <= bound]
            assert s.items is not None
            items = [self.value_var(f"{key}[{i}]", s.items) for i in range(bound)]
            return Val("list", ok, SList(n, items, _kind(s.items)))
        sort = {"integer": "int", "number": "real", "boolean": "bool"}.get(s.kind, "int")
        return Val(_kind(s), ok, self._var(key, "val", s, sort))

    def fresh(self, what: str):
        self._fresh += 1
        return z3.Int(f"{self.prefix}{what}!{self._fresh}")

    # -- constants -----------------------------------------------------------------
    def const(self, value: Any, s: Shape | None = None, kind: str | None = None) -> Val:
        if value is None:
            return NULL
        if isinstance(value, bool):
            return Val("bool", TRUE, z3.BoolVal(value))
        if isinstance(value, _dt.date):
            return Val("date", TRUE, z3.IntVal(value.toordinal()))
        if isinstance(value, tuple):
            return Val("monthday", TRUE, value)
        if isinstance(value, int) and not (kind == "real" or (s is not None and s.kind == "number")):
            return Val("int", TRUE, z3.IntVal(value))
        if isinstance(value, (int, float)):
            return Val("real", TRUE, z3.RealVal(value))
        if isinstance(value, str):
            if (s is not None and s.kind == "date") or kind == "date":
                return Val("date", TRUE, z3.IntVal(_dt.date.fromisoformat(value).toordinal()))
            return Val("str", TRUE, z3.IntVal(self.code(value)))
        if isinstance(value, list):
            items = [self.const(x, s.items if s else None) for x in value]
            ek = items[0].kind if items else "null"
            return Val("list", TRUE, SList(z3.IntVal(len(items)), items, ek))
        if isinstance(value, z3.ExprRef):
            k = "bool" if z3.is_bool(value) else ("real" if z3.is_real(value) else (kind or "int"))
            return Val(k, TRUE, value)
        raise Unsupported(f"constant {value!r}")

    def finish(self) -> list:
        """Every domain constraint, strings included (known once every rule has been read)."""
        known = list(self.strings.values())
        out = list(self.side)
        for t in self.free_strings:
            out.append(z3.Or(z3.Or([t == k for k in known]) if known else FALSE,
                             z3.And(t >= OTHER_BASE, t < OTHER_BASE + OTHER_SLOTS)))
        return out

    # -- expressions -----------------------------------------------------------------
    def expr(self, e: A.Expr, env: dict | None = None) -> Val:
        env = env or {}
        return getattr(self, "e_" + type(e).__name__)(e, env)

    def cond(self, e: A.Expr | None, env: dict | None = None) -> z3.BoolRef:
        return FALSE if e is None else truth(self.expr(e, env))

    def e_Literal(self, e: A.Literal, env) -> Val:
        k = "real" if isinstance(e.value, float) else None
        return self.const(e.value, kind=k)

    def e_ListLit(self, e: A.ListLit, env) -> Val:
        items = [self.expr(i, env) for i in e.items]
        ek = next((i.kind for i in items if i.kind != "null"), "null")
        return Val("list", TRUE, SList(z3.IntVal(len(items)), items, ek))

    def e_Path(self, e: A.Path, env) -> Val:
        parts = e.parts
        if e.root == "param":
            return self.param(parts[1])
        if e.root == "let":
            assert e.expansion is not None
            free = A.free_vars(e.expansion)
            key = (id(e.expansion),) + tuple(id(env[n]) for n in sorted(free) if n in env)
            cur = self._memo.get(key)
            if cur is None:
                cur = self._memo[key] = self.expr(e.expansion, env)
                self._memo[("keep",) + key] = e.expansion  # keep the id alive
            rest = parts[1:]
        elif e.root == "var":
            cur, rest = env[parts[0]], parts[1:]
        else:
            cur, rest = self.root, parts
        for name in rest:
            cur = get_field(self, cur, name)
        return cur

    def param(self, name: str) -> Val:
        value = self.params[name]
        self.params_read.add(name)
        if isinstance(value, str):
            self.named_strings.add(self.code(value))
        kind = self.param_types.get(name)
        if kind == "string_list":  # a tuple of names (not a month-day): a constant list of strings
            self.named_strings.update(self.code(s) for s in value)
            return self.const(list(value))
        return self.const(value, kind={"number": "real", "date": "date"}.get(kind or "", None))

    def e_Field(self, e: A.Field, env) -> Val:
        return get_field(self, self.expr(e.obj, env), e.name)

    def e_Not(self, e: A.Not, env) -> Val:
        return Val("bool", TRUE, z3.Not(truth(self.expr(e.operand, env))))

    def e_BoolOp(self, e: A.BoolOp, env) -> Val:
        parts = [truth(self.expr(o, env)) for o in e.operands]
        return Val("bool", TRUE, z3.And(parts) if e.op == "and" else z3.Or(parts))

    def e_Compare(self, e: A.Compare, env) -> Val:
        a, b = self.expr(e.left, env), self.expr(e.right, env)
        if e.op == "==":
            return Val("bool", TRUE, eq(a, b))
        if e.op == "!=":
            return Val("bool", TRUE, z3.Not(eq(a, b)))
        if a.kind == "null" or b.kind == "null":
            return Val("bool", TRUE, FALSE)
        _scalar(a)
        _scalar(b)
        op: Callable = {"<": lambda x, y: x < y, "<=": lambda x, y: x <= y,
                        ">": lambda x, y: x > y, ">=": lambda x, y: x >= y}[e.op]
        return Val("bool", TRUE, z3.And(_bool(a.ok), _bool(b.ok), op(a.v, b.v)))

    def e_In(self, e: A.In, env) -> Val:
        a, coll = self.expr(e.left, env), self.expr(e.right, env)
        if coll.kind == "null":
            member = FALSE
            ok = FALSE
        else:
            if coll.kind != "list":
                raise Unsupported("membership in a non-list")
            lst = coll.v
            member = z3.Or([z3.And(i < lst.length, eq(a, it)) for i, it in enumerate(lst.items)]) \
                if lst.items else FALSE
            ok = _bool(coll.ok)
        inside = z3.And(ok, member)
        return Val("bool", TRUE, z3.Not(inside) if e.negated else inside)

    def e_IsNull(self, e: A.IsNull, env) -> Val:
        ok = _bool(self.expr(e.operand, env).ok)
        return Val("bool", TRUE, ok if e.negated else z3.Not(ok))

    def e_Neg(self, e: A.Neg, env) -> Val:
        a = self.expr(e.operand, env)
        if a.kind == "null":
            return NULL
        return Val(a.kind, a.ok, -a.v)

    def e_Arith(self, e: A.Arith, env) -> Val:
        a, b = self.expr(e.left, env), self.expr(e.right, env)
        if a.kind == "null" or b.kind == "null":
            return NULL
        ok = z3.And(_bool(a.ok), _bool(b.ok))
        assert e.left.type is not None and e.right.type is not None
        lk, rk = e.left.type.kind, e.right.type.kind
        if lk == DATE and rk == DATE:
            return Val("int", ok, a.v - b.v)
        if lk == DATE or rk == DATE:
            v = (a.v + b.v) if e.op == "+" else (a.v - b.v)
            self.side.append(z3.Implies(ok, self.tables.in_dates(v)))
            return Val("date", ok, v)
        kind = "real" if "real" in (a.kind, b.kind) or NUMBER in (lk, rk) else "int"
        return Val(kind, ok, (a.v + b.v) if e.op == "+" else (a.v - b.v))

    def e_Quant(self, e: A.Quant, env) -> Val:
        coll = self.expr(e.iterable, env)
        if coll.kind == "null":
            items: list = []
            guard = FALSE
        else:
            items, guard = coll.v.items, _bool(coll.ok)
            length = coll.v.length
        terms = []
        for i, it in enumerate(items):
            inner = dict(env)
            inner[e.var] = it
            here = z3.And(guard, i < length)
            terms.append((here, truth(self.expr(e.body, inner))))
        if e.kind == "any":
            return Val("bool", TRUE, z3.Or([z3.And(h, b) for h, b in terms]) if terms else FALSE)
        if e.kind == "all":
            return Val("bool", TRUE, z3.And([z3.Implies(h, b) for h, b in terms]) if terms else TRUE)
        total = z3.Sum([z3.If(z3.And(h, b), 1, 0) for h, b in terms]) if terms else z3.IntVal(0)
        return Val("int", TRUE, total)

    # -- built-ins ---------------------------------------------------------------------
    def e_Call(self, e: A.Call, env) -> Val:
        name = e.name
        if name == "date" and len(e.args) == 1 and isinstance(e.args[0], A.Literal):
            return self.const(e.args[0].value, kind="date")
        args = [self.expr(a, env) for a in e.args]
        if name == "known":  # complete cases state every fact (module docstring)
            return Val("bool", TRUE, z3.BoolVal(True))
        if name in ("coalesce", "stated_or"):  # the same on a complete case
            a, b = args
            if a.kind == "null":
                return b
            return ite(_bool(a.ok), a, b)
        if name == "len":
            (a,) = args
            if a.kind == "null":
                return Val("int", TRUE, z3.IntVal(0))
            return Val("int", TRUE, z3.If(_bool(a.ok), a.v.length, 0))
        if name in ("first", "last"):
            (a,) = args
            if a.kind == "null" or not a.v.items:
                return NULL
            lst = a.v
            if name == "first":
                return ite(z3.And(_bool(a.ok), lst.length > 0), lst.items[0], NULL)
            out = NULL
            for i, it in enumerate(lst.items):
                out = ite(z3.And(_bool(a.ok), lst.length == i + 1), it, out)
            return out
        if any(a.kind == "null" for a in args):
            return NULL
        ok = z3.And([_bool(a.ok) for a in args])
        t = self.tables
        if name == "add_days":
            d, n = args
            v = d.v + n.v
            self.side.append(z3.Implies(ok, t.in_dates(v)))
            return Val("date", ok, v)
        if name in ("add_months", "add_years"):
            d, n = args
            months = n.v if name == "add_months" else 12 * n.v
            return Val("date", ok, self._add_months(ok, d.v, months))
        if name == "days_between":
            a, b = args
            return Val("int", ok, b.v - a.v)
        if name in ("year", "month", "day"):
            (d,) = args
            m = t.month_index(d.v)
            if name == "year":
                return Val("int", ok, t.first_year + m / 12)
            if name == "month":
                return Val("int", ok, m % 12 + 1)
            return Val("int", ok, d.v - t.month_start(m) + 1)
        if name == "date":
            return self._date(ok, args)
        if name in ("min", "max"):
            a, b = args
            pick = (a.v <= b.v) if name == "min" else (a.v >= b.v)
            chosen = ite(pick, a, b) if a.kind == b.kind else ite(pick, _real(a), _real(b))
            return Val(chosen.kind, ok, chosen.v)  # null if either is null
        if name == "add_working_days":
            return self._add_working_days(ok, args[0].v, args[1].v)
        if name == "working_days_between":
            a, b = args
            self.side.append(z3.Implies(ok, z3.And(t.in_work_days(a.v), t.in_work_days(b.v))))
            return Val("int", ok, t.count(b.v) - t.count(a.v))
        raise Unsupported(f"built-in {name}")

    def _add_months(self, ok, d, months):
        t = self.tables
        self.side.append(z3.Implies(ok, t.in_dates(d)))
        m = t.month_index(d) + months
        self.side.append(z3.Implies(ok, t.in_months(m)))
        day0 = d - t.month_start(t.month_index(d))  # 0-based day of month
        last0 = t.month_len(m) - 1
        return t.month_start(m) + z3.If(day0 < last0, day0, last0)

    def _date(self, ok, args: list[Val]) -> Val:
        t = self.tables
        if len(args) == 1:
            raise Unsupported("date(text) of a non-literal")
        y = args[0].v
        if len(args) == 2:
            if args[1].kind != "monthday":
                raise Unsupported("date(year, monthday) without a month-day")
            month, day = args[1].v
            mz, dz = z3.IntVal(month), z3.IntVal(day)
        else:
            mz, dz = args[1].v, args[2].v
        m = 12 * (y - t.first_year) + mz - 1
        self.side.append(z3.Implies(ok, z3.And(mz >= 1, mz <= 12, t.in_months(m), dz >= 1, dz <= t.month_len(m))))
        return Val("date", ok, t.month_start(m) + dz - 1)

    def _add_working_days(self, ok, d, n) -> Val:
        t = self.tables
        self.side.append(z3.Implies(ok, t.in_work_days(d)))
        before = t.count(d - 1)  # working days strictly before d (relative to the table start)
        upto = t.count(d)
        if isinstance(n, z3.IntNumRef):
            k = n.as_long()
            idx = upto + k - 1 if k > 0 else (before if k == 0 else before + k)
        else:
            idx = z3.If(n > 0, upto + n - 1, z3.If(n == 0, before, before + n))
        self.side.append(z3.Implies(ok, t.in_work_index(idx)))
        return Val("date", ok, t.nth(idx))


def list_bound(s: Shape) -> int:
    """How many elements a list of the case may have in a proof: ``LIST_BOUND``, or as many as its
    enum has values (a list of materials must be able to name them all), within ``maxItems``."""
    bound = LIST_BOUND
    if s.items is not None and s.items.kind == "enum":
        bound = max(bound, len(s.items.values))
    return bound if s.max_items is None else min(bound, s.max_items)


def _kind(s: Shape) -> str:
    return {"integer": "int", "number": "real", "boolean": "bool", "date": "date", "enum": "str",
            "string": "str", "object": "obj", "array": "list"}[s.kind]


def _scalar(v: Val) -> None:
    if v.kind in ("obj", "list", "monthday"):
        raise Unsupported(f"ordered comparison of a {v.kind}")


def _real(v: Val) -> Val:
    return Val("real", v.ok, z3.ToReal(v.v)) if v.kind == "int" else v


def eq(a: Val, b: Val) -> z3.BoolRef:
    """Python's ``==`` on the engine's values: null equals only null."""
    if a.kind == "null" and b.kind == "null":
        return TRUE
    if a.kind == "null":
        return z3.Not(_bool(b.ok))
    if b.kind == "null":
        return z3.Not(_bool(a.ok))
    if a.kind in ("obj", "list", "monthday") or b.kind in ("obj", "list", "monthday"):
        raise Unsupported(f"equality of {a.kind} and {b.kind}")
    if a.kind == "bool" and b.kind != "bool" or b.kind == "bool" and a.kind != "bool":
        raise Unsupported("a boolean compared with a number")
    return z3.And(_bool(a.ok) == _bool(b.ok), z3.Implies(_bool(a.ok), a.v == b.v))
