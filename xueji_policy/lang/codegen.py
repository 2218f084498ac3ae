"""Fast path of the compile stage: checked ASTs → one generated Python function per action.

The closures of ``compile.py`` serve explanation and analysis; the hot path uses
source *generated from the type-checked AST* and compiled once:

* every literal goes through ``repr``; every field name comes from the schema and
  appears only as a ``repr``'d dictionary key; variables, temporaries and helpers
  have names made here (``_q1``, ``_p0``, ``_add_days``) — nothing of the rule text
  becomes Python syntax;
* parameter lookups are hoisted to the top of the function; named conditions
  (``let``) are memoised per evaluation, so a shared sub-condition is computed at
  most once, and only if needed (evaluation stays lazy, as in the closures);
* a field the schema guarantees (required, not nullable) is read with ``[]`` and
  compared without null checks; a field that may be absent is read with ``[]`` too: an
  absent key raises ``KeyError`` — the fact is unknown, and the engine falls back to the
  three-valued closures of ``compile.py`` (the one semantics; this is its restriction to
  cases that state every fact read, which a property test holds the two to).

The function object is made with ``types.FunctionType`` from the compiled module's
code constant: no ``exec``/``eval`` anywhere.
"""

from __future__ import annotations

import datetime as _dt
import types
from collections.abc import Callable
from typing import Any

from . import ast as A
from .builtins import BUILTINS, add_days
from .compile import member_key as _member_key
from .compile import memo_key as _memo_key
from .types import DATE

_fromiso = _dt.date.fromisoformat


def _date(x):
    return _fromiso(x) if type(x) is str else x


def _lt(a, b):
    return a is not None and b is not None and a < b


def _le(a, b):
    return a is not None and b is not None and a <= b


def _gt(a, b):
    return a is not None and b is not None and a > b


def _ge(a, b):
    return a is not None and b is not None and a >= b


def _in(x, coll):
    return coll is not None and x in coll


def _not_in(x, coll):
    return coll is None or x not in coll


def _nn2(fn, a, b):
    return None if a is None or b is None else fn(a, b)


def _arith(op, a, b):
    if a is None or b is None:
        return None
    return op(a, b)


def _memo(m: dict, key: int, thunk):
    value = m[key] = thunk()
    return value


def _memo_args(m: dict, key: int, fn, *args):
    k = (key,) + tuple(_memo_key(a) for a in args)
    if k in m:
        return m[k]
    value = m[k] = fn(*args)
    return value


def _g(o, k):
    return None if o is None else o[k]


def _gd(o, k, default):
    return None if o is None else o.get(k, default)


def _known(thunk) -> bool:
    try:
        thunk()
    except KeyError:
        return False
    return True


def _stated_or(first, alt):
    try:
        x = first()
    except KeyError:
        x = None
    return alt() if x is None else x


def _count(gen):
    return sum(1 for x in gen if x)


_CMP = {"<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}
# Closed sets: an operator or function name outside them is refused, never pasted into source
# (the AST may come from the compiled-rule cache).
_EQ_OPS = frozenset({"==", "!="})
_ARITH_OPS = frozenset({"+", "-"})
_BOOL_OPS = frozenset({"and", "or"})
_QUANTS = frozenset({"any", "all", "count"})
_GENERATORS = {n: "g_" + n for n in ("Literal", "ListLit", "Path", "Field", "Not", "Neg", "BoolOp", "Compare",
                                      "Arith", "In", "IsNull", "Call", "Quant")}
_LITERAL_TYPES = (type(None), bool, int, float, str)
_ROOTS = frozenset({"case", "param", "var", "let"})
# A nested function every this many levels keeps the generated source's nesting far below
# Python's parser limits (about 200 brackets).
_LIFT_DEPTH = 12


class CodegenError(ValueError):
    """The AST is not one the checker could have produced (never raised for a checked rule set)."""


class _Gen:
    """Generates one expression string per AST node, sharing hoisted names."""

    def __init__(self, param_values: dict | None = None, lenient: bool = False):
        # lenient: an absent key reads null instead of raising (a pre-filter that may only
        # over-report, e.g. the consistency detector: Kleene's "true" holds under every value,
        # null included, so reading unknowns as null never loses a definite answer).
        self.lenient = lenient
        # Parameter values known when generating (a plan covers dates with one set of
        # values): they become constants of the function; otherwise read from ``p``.
        self.param_values = param_values
        self.params: dict[str, str] = {}  # parameter name → local name
        self.lets: dict[str, int] = {}  # a named condition's text → memo key
        self.qvars: list[dict[str, str]] = []  # quantifier scopes: rule name → local name
        self.n = 0
        self.consts: dict[str, Any] = {}  # constant objects (member sets) → global names
        self.hoists: dict[tuple, str] = {}  # a case path always there → a local read once at the top
        self.hoist_lines: list[str] = []
        self.let_fns: dict[int, str] = {}  # id of a let's checked expansion → its nested function
        self.let_keys: dict[str, int] = {}  # nested function → memo key
        self.let_defs: list[str] = []
        self.let_keep: list[A.Expr] = []
        self.lifted: list[str] = []  # deep sub-expressions moved into nested functions
        self.depth = 0

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def const(self, value) -> str:
        name = self.fresh("_k")
        self.consts[name] = value
        return name

    # -- nodes ------------------------------------------------------------------
    def expr(self, e: A.Expr) -> str:
        method = _GENERATORS.get(type(e).__name__)
        if method is None:  # only the closed set of node types ever becomes code
            raise CodegenError(f"unknown node {type(e).__name__}")
        if self.depth >= _LIFT_DEPTH and A.children(e):
            return self._lift(e)
        self.depth += 1
        try:
            return getattr(self, method)(e)
        finally:
            self.depth -= 1

    def _lift(self, e: A.Expr) -> str:
        """A deep sub-expression becomes a nested function of its own, so that generated source
        never nests deeper than Python's parser allows, whatever the rule's depth."""
        fv = sorted(A.free_vars(e))
        fname = self.fresh("_sub")
        params = [f"_a{i}" for i in range(len(fv))]
        args = ", ".join(self._var(v) for v in fv)
        saved, self.depth = self.depth, 0
        self.qvars.append(dict(zip(fv, params)))
        try:
            body = self.expr(e)
        finally:
            self.qvars.pop()
            self.depth = saved
        self.lifted.append(f"    def {fname}({', '.join(params)}):\n        return {body}")
        return f"{fname}({args})"

    def g_Literal(self, e: A.Literal) -> str:
        if type(e.value) not in _LITERAL_TYPES:
            raise CodegenError("literal of unexpected type")
        return repr(e.value)

    def g_ListLit(self, e: A.ListLit) -> str:
        return "[" + ", ".join(self.expr(i) for i in e.items) + "]"

    def _steps(self, base: str, names, defaults, present=None, base_present: bool = False) -> str:
        # An absent key raises KeyError (the fact is unknown: the engine falls back to the
        # three-valued closures); a null object reads null; a schema default stands in only
        # where the schema keeps one (definitional).
        out, there = base, base_present
        present = present or (False,) * len(names)
        for name, default, here in zip(names, defaults, present):
            if self.lenient and not (there and here):
                out = f"_gd({out}, {name!r}, {default!r})"
            elif there and (here or default is None):
                out = f"{out}[{name!r}]"
            elif there:
                out = f"{out}.get({name!r}, {default!r})"
            elif default is None:
                out = f"_g({out}, {name!r})"
            else:
                out = f"_gd({out}, {name!r}, {default!r})"
            there = there and here
        return out

    def _hoisted(self, parts: tuple, present: tuple) -> tuple[str, int]:
        """The local holding the longest always-there object prefix of a case path."""
        base, k = "c", 0
        while k < len(parts) - 1 and k < len(present) and present[k]:
            prefix = parts[: k + 1]
            local = self.hoists.get(prefix)
            if local is None:
                local = self.hoists[prefix] = f"_h{len(self.hoists)}"
                self.hoist_lines.append(f"    {local} = {base}[{parts[k]!r}]")
            base, k = local, k + 1
        return base, k

    def g_Path(self, e: A.Path) -> str:
        is_date = e.type is not None and e.type.kind == DATE
        if e.root not in _ROOTS:
            raise CodegenError(f"unresolved name {'.'.join(map(str, e.parts))!r}")
        if e.root == "param":
            name = e.parts[1]
            local = self.params.get(name)
            if local is None:
                if self.param_values is not None and name not in self.param_values:
                    raise CodegenError(f"unknown parameter {name!r}")
                local = self.params[name] = f"_p{len(self.params)}"
                if self.param_values is not None:
                    self.consts[local] = self.param_values[name]
            return local
        if e.root == "let":
            inner = self._let_call(A.expansion_of(e))
            if len(e.parts) == 1:
                return inner
            code = self._steps(inner, e.parts[1:], e.defaults or (None,) * (len(e.parts) - 1))
        elif e.root == "var":
            local = self._var(e.parts[0])
            code = self._steps(local, e.parts[1:], e.defaults or (None,) * (len(e.parts) - 1),
                               e.present[1:] if e.present else None, base_present=True)
        else:
            defaults = e.defaults or (None,) * len(e.parts)
            base, k = self._hoisted(e.parts, e.present)
            present = e.present or (False,) * len(e.parts)
            if k == 0 and not present[0]:
                # A top-level key the case leaves out is another action's section (the schema
                # forbids those): there is none, it reads null — not an unknown fact.
                code = self._steps(f"c.get({e.parts[0]!r})", e.parts[1:], defaults[1:], present[1:])
            else:
                code = self._steps(base, e.parts[k:], defaults[k:], present[k:], base_present=True)
            if is_date and e.present and all(e.present):  # a date always there: convert it once, up front
                local = self.hoists.get(("date",) + e.parts)
                if local is None:
                    local = self.hoists[("date",) + e.parts] = f"_h{len(self.hoists)}"
                    self.hoist_lines.append(f"    {local} = _date({code})")
                return local
        return f"_date({code})" if is_date else code

    def _let_call(self, expansion: A.Expr) -> str:
        """A named condition is generated once, as a nested function of its own, and called at
        each use: the source stays linear in the rule text however often lets use each other."""
        fv = sorted(A.free_vars(expansion))
        fname = self.let_fns.get(id(expansion))
        if fname is None:
            fname = self.let_fns[id(expansion)] = self.fresh("_let")
            self.let_keep.append(expansion)  # keep the id stable while generating
            params = [f"_a{i}" for i in range(len(fv))]
            self.qvars.append(dict(zip(fv, params)))
            try:
                body = self.expr(expansion)
            finally:
                self.qvars.pop()
            self.let_defs.append(f"    def {fname}({', '.join(params)}):\n        return {body}")
        key = self.let_keys.setdefault(fname, len(self.let_keys))
        if not fv:  # the same value within one evaluation: compute it once, lazily
            return f"(_m[{key}] if {key} in _m else _memo(_m, {key}, {fname}))"
        args = ", ".join(self._var(v) for v in fv)
        return f"_memo_args(_m, {key}, {fname}, {args})"

    def _var(self, name: str) -> str:
        for scope in reversed(self.qvars):
            if name in scope:
                return scope[name]
        raise CodegenError(f"unbound variable {name!r}")  # the checker guarantees every variable is bound

    def g_Field(self, e: A.Field) -> str:
        code = f"_g({self.expr(e.obj)}, {e.name!r})" if e.default is None and not self.lenient else \
            f"_gd({self.expr(e.obj)}, {e.name!r}, {e.default!r})"
        return f"_date({code})" if e.type is not None and e.type.kind == DATE else code

    def g_Not(self, e: A.Not) -> str:
        return f"(not {self.expr(e.operand)})"

    def g_BoolOp(self, e: A.BoolOp) -> str:
        if e.op not in _BOOL_OPS:
            raise CodegenError(f"unknown boolean operator {e.op!r}")
        joiner = f" {e.op} "
        return "(" + joiner.join(f"bool({self.expr(o)})" if not _is_bool(o) else self.expr(o)
                                 for o in e.operands) + ")"

    def g_Compare(self, e: A.Compare) -> str:
        if e.op not in _EQ_OPS and e.op not in _CMP:
            raise CodegenError(f"unknown comparison {e.op!r}")
        a, b = self.expr(e.left), self.expr(e.right)
        if e.op == "==":
            return f"({a} == {b})"
        if e.op == "!=":
            return f"({a} != {b})"
        if not _nullable(e.left) and not _nullable(e.right):
            return f"({a} {e.op} {b})"
        return f"{_CMP[e.op]}({a}, {b})"

    def g_In(self, e: A.In) -> str:
        a = self.expr(e.left)
        values = A.literal_values(e.right.items) if isinstance(e.right, A.ListLit) else None
        if values is not None:
            op = "not in" if e.negated else "in"
            if e.left.type is not None and e.left.type.is_stringish():  # no true/1 confusion possible
                members = self.const(frozenset(values))
                return f"({a} {op} {members})"
            members = self.const(frozenset(_member_key(x) for x in values))
            return f"(_member_key({a}) {op} {members})"
        b = self.expr(e.right)
        if not _nullable(e.right):  # the list is always there (required, or a default)
            return f"({a} {'not in' if e.negated else 'in'} {b})"
        return f"{'_not_in' if e.negated else '_in'}({a}, {b})"

    def g_IsNull(self, e: A.IsNull) -> str:
        return f"({self.expr(e.operand)} is {'not ' if e.negated else ''}None)"

    def g_Neg(self, e: A.Neg) -> str:
        return f"_arith(_neg2, {self.expr(e.operand)}, 0)"

    def g_Arith(self, e: A.Arith) -> str:
        if e.op not in _ARITH_OPS:
            raise CodegenError(f"unknown arithmetic operator {e.op!r}")
        a, b = self.expr(e.left), self.expr(e.right)
        lk, rk = A.kind_of(e.left), A.kind_of(e.right)
        if lk == DATE and rk == DATE:
            op = "_date_diff"
        elif lk == DATE:
            op = "_add_days" if e.op == "+" else "_sub_days"
        elif rk == DATE:
            op = "_days_add"
        else:
            if not _nullable(e.left) and not _nullable(e.right):
                return f"({a} {e.op} {b})"
            op = "_plus" if e.op == "+" else "_minus"
        return f"_arith({op}, {a}, {b})"

    def g_Call(self, e: A.Call) -> str:
        b = BUILTINS.get(e.name)
        if b is None:
            raise CodegenError(f"unknown function {e.name!r}")
        args = [self.expr(a) for a in e.args]
        if e.name == "known":  # stated at all? an absent fact raises inside, which is the answer
            return f"_known(lambda: {args[0]})"
        if e.name == "stated_or":  # an absent first argument reads like null
            return f"_stated_or(lambda: {args[0]}, lambda: {args[1]})"
        if e.name == "coalesce":  # lazy in its second argument (see builtins.py)
            if isinstance(e.args[1], (A.Literal, A.Path)):  # cheap and cannot fail: evaluate it eagerly
                return f"_co({args[0]}, {args[1]})"
            return f"_co_lazy({args[0]}, lambda: {args[1]})"
        fn = f"_fn_{e.name}"
        if e.name == "len" and not _nullable(e.args[0]):
            return f"len({args[0]})"
        if b.null_safe or not any(_nullable(a) for a in e.args):
            return f"{fn}({', '.join(args)})"
        if len(args) == 2:
            return f"_nn2({fn}, {args[0]}, {args[1]})"
        return f"_call_n({fn}, {', '.join(args)})"

    def g_Quant(self, e: A.Quant) -> str:
        if e.kind not in _QUANTS:
            raise CodegenError(f"unknown quantifier {e.kind!r}")
        it = self.expr(e.iterable)
        local = self.fresh("_q")
        self.qvars.append({e.var: local})
        try:
            body = self.expr(e.body)
        finally:
            self.qvars.pop()
        source = f"({it} or ())"
        if e.kind == "any":
            return f"any({body} for {local} in {source})"
        if e.kind == "all":
            return f"all({body} for {local} in {source})"
        return f"_count({body} for {local} in {source})"


def _is_bool(e: A.Expr) -> bool:
    return isinstance(e, (A.Compare, A.In, A.IsNull, A.Not, A.BoolOp)) or \
        (isinstance(e, A.Quant) and e.kind != "count")


def _nullable(e: A.Expr) -> bool:
    if isinstance(e, A.Literal):
        return e.value is None
    if isinstance(e, A.Path) and e.root == "param":
        return False  # parameters in force are always set
    return e.type is None or e.type.nullable


def _co(a, b):
    return b if a is None else a


def _co_lazy(a, thunk):
    return thunk() if a is None else a


def _call_n(fn, *args):
    return None if any(a is None for a in args) else fn(*args)


def runtime_namespace(calendar) -> dict:
    """The only names generated code can reach."""
    ns = {
        "__builtins__": {"any": any, "all": all, "bool": bool, "len": len, "set": set},
        "_g": _g, "_gd": _gd, "_known": _known, "_stated_or": _stated_or, "_date": _date, "_memo": _memo, "_memo_args": _memo_args, "_member_key": _member_key,
        "_count": _count, "_lt": _lt, "_le": _le, "_gt": _gt, "_ge": _ge, "_in": _in, "_not_in": _not_in,
        "_nn2": _nn2, "_call_n": _call_n, "_co": _co, "_co_lazy": _co_lazy, "_arith": _arith,
        "_plus": lambda a, b: a + b, "_minus": lambda a, b: a - b, "_neg2": lambda a, _: -a,
        "_add_days": add_days, "_sub_days": lambda d, n: add_days(d, -n), "_days_add": lambda n, d: add_days(d, n),
        "_date_diff": lambda a, b: (a - b).days,
    }
    for name, b in BUILTINS.items():  # every built-in from the one registry
        ns[f"_fn_{name}"] = b.bind(calendar) if b.calendar_method is None or calendar is not None else None
    return ns


def generate_source(name: str, exprs: list[A.Expr], params: dict | None = None,
                    labels: list[str] | None = None, dues: list | None = None,
                    lenient: bool = False) -> tuple[str, dict]:
    """Source of ``def {name}(c, p=None)``: a tuple with one value per expression; given
    ``labels``, the set of the labels whose expression holds; given ``dues`` (one date
    expression or None per expression), the list of ``(index, due, True)`` of those that hold,
    each due computed only then."""
    gen = _Gen(params, lenient)
    bodies = [gen.expr(e) for e in exprs]
    due_bodies = [gen.expr(d) if d is not None else "None" for d in dues] if dues is not None else None
    lines = [f"def {name}(c, p=None):"]
    if params is None:
        for pname, local in gen.params.items():
            lines.append(f"    {local} = p[{pname!r}]")
    lines += gen.hoist_lines
    if gen.let_keys:
        lines.append("    _m = {}")
    lines += gen.let_defs
    lines += gen.lifted
    if due_bodies is not None:
        lines.append("    out = []")
        for i, (b, due) in enumerate(zip(bodies, due_bodies)):
            lines.append(f"    if {b}:")
            lines.append(f"        out.append(({i}, {due}, True))")
        lines.append("    return out")
    elif labels is None:
        lines.append("    return (")
        lines += [f"        {b}," for b in bodies]
        lines.append("    )")
    else:
        lines.append("    fired = set()")
        for label, b in zip(labels, bodies):
            lines.append(f"    if {b}:")
            lines.append(f"        fired.add({label!r})")
        lines.append("    return fired")
    return "\n".join(lines) + "\n", gen.consts


def build_function(name: str, exprs: list[A.Expr], calendar, params: dict | None = None,
                   labels: list[str] | None = None, dues: list | None = None, lenient: bool = False) -> Callable:
    """Compile the generated source once and return the function (no exec/eval)."""
    if not name.isidentifier():
        raise CodegenError(f"not a function name: {name!r}")
    source, consts = generate_source(name, exprs, params, labels, dues, lenient)
    try:
        module = compile(source, f"<xueji-policy:{name}>", "exec")
    except (SyntaxError, RecursionError, MemoryError, ValueError) as e:  # pragma: no cover - lifting prevents it
        raise CodegenError(f"generated code did not compile: {type(e).__name__}") from None
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType) and c.co_name == name)
    namespace = runtime_namespace(calendar)
    namespace.update(consts)
    fn = types.FunctionType(code, namespace, name, (None,))  # the default of p
    fn.__dict__["__source__"] = source  # for inspection and tests (a function attribute types do not declare)
    return fn
