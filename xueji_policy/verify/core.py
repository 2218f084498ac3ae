"""Symbolic decisions: a rule set's allow/deny for one action as a formula, models back to cases.

A property is a set of assertions that is *unsatisfiable exactly when it holds* (as Cedar's
symbolic compiler and Catala's Z3 backend do it): "no valid case satisfying ``given`` is
decided against ``expect``".  A model of the assertions is a counterexample; it is turned back
into a JSON case (``concretise``), validated against ``case.schema.json`` and re-run through
``evaluate`` before anyone sees it — if the engine disagrees, that is a bug of the encoding and
is reported as one, never printed as a counterexample.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import z3

from ..contract import id_number_paths
from ..errors import XuejiError
from ..lang import ast as A
from ..lang.kleene import truth
from ..plan import plan_for
from ..privacy import TEST_REGION_PREFIX, gb11643_check_char
from ..ruleset import Rule, RuleSet
from .encode import LIST_BOUND, TRUE, Encoder, SList, SymObj, Unsupported, Val
from .shape import Shape, case_shape
from .tables import Tables

DATE_YEARS_BEFORE = 8  # fact dates may lie this many years before the rules took effect (past suspensions …)
DATE_YEARS_AFTER = 6  # … and this many years after the calendar's last year (derived dates)
TIMEOUT_MS = 60_000


class EncodingBug(XuejiError):
    """A model the engine decides differently: the translation is wrong (exit 2, reported as a bug)."""

    code = "verify_encoding_bug"


@dataclass
class Universe:
    """Where a proof ranges: one action, the case dates, the parameter values and rules in force."""

    rs: RuleSet
    action: str
    day: _dt.date  # a day of the stretch (parameters and rules in force)
    date_lo: _dt.date
    date_hi: _dt.date

    def describe(self) -> str:
        span = str(self.date_lo) if self.date_lo == self.date_hi else f"{self.date_lo}—{self.date_hi}"
        return f"{self.action}，案例日期 {span}"


def _tables(rs: RuleSet) -> Tables:
    key = "_verify_tables"
    hit = getattr(rs, key, None)
    if hit is None:
        last = rs.calendar.last_year()
        first = rs.effective_from.year - DATE_YEARS_BEFORE
        work_first = first
        while not rs.calendar.covers(work_first):
            work_first += 1
        hit = Tables(rs.calendar, first, last + DATE_YEARS_AFTER, work_first, last)
        setattr(rs, key, hit)
    return hit


def universes(rs: RuleSet, action: str, day: _dt.date | None = None) -> list[Universe]:
    """One universe per stretch of dates on which the rules and parameters stay the same
    (within the calendar); or the single ``day``."""
    last = _dt.date(rs.calendar.last_year(), 12, 31)
    if day is not None:
        return [Universe(rs, action, day, day, day)]
    starts = [d for d in rs.stretch_days() if d <= last]
    out = []
    for i, s in enumerate(starts):
        end = starts[i + 1] - _dt.timedelta(days=1) if i + 1 < len(starts) else last
        out.append(Universe(rs, action, s, s, end))
    return out


def param_kinds(rs: RuleSet) -> dict[str, str]:
    return {n: p.type for n, p in rs.params.items()}


def encoder(u: Universe, prefix: str = "", params: dict | None = None, strings: dict | None = None) -> Encoder:
    """An encoder of a symbolic case of ``u``; two encoders with the same ``prefix`` and ``strings``
    read the same case (amendment comparison)."""
    rs = u.rs
    shape = case_shape(rs.case_schema, u.action)
    sections = rs.sections
    absent = frozenset(set(sections.values()) - {sections.get(u.action)})
    return Encoder(shape, _tables(rs), dict(params if params is not None else rs.params_on(u.day)),
                   param_kinds(rs), u.action, u.date_lo.toordinal(), u.date_hi.toordinal(), prefix=prefix,
                   strings=strings if strings is not None else {}, absent=absent)


def symbolic_params(rs: RuleSet, names: list[str] | None = None) -> dict[str, Any]:
    """Parameters as solver symbols (every int/number parameter, or those named): a proof then holds
    for any non-negative value, and a counterexample names the values it needs."""
    out: dict[str, Any] = {}
    for n, p in rs.params.items():
        if names is not None and n not in names:
            continue
        if p.type == "int":
            out[n] = z3.Int(f"param:{n}")
        elif p.type == "number":
            out[n] = z3.Real(f"param:{n}")
    return out


def param_domain(params: dict[str, Any]) -> list:
    return [t >= 0 for t in params.values()]


def with_params(rs: RuleSet, values: dict[str, Any]) -> RuleSet:
    """A copy of ``rs`` whose named parameters hold ``values`` on every date (to re-check a
    counterexample found with symbolic parameters)."""
    import dataclasses

    from ..ruleset import Parameter

    params = dict(rs.params)
    for n, v in values.items():
        p = params[n]
        params[n] = Parameter(p.name, p.title, p.type, p.cite, [(d, v) for d, _ in p.values], p.unit, p.note, p.loc)
    return dataclasses.replace(rs, params=params, _by_action={}, plans={}, _reason_models={}, _info_model=None,
                               _validator=None, _fast_validator=None)


def model_params(model, params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for n, t in params.items():
        x = model.evaluate(t, model_completion=True)
        if z3.is_int_value(x):
            out[n] = x.as_long()
        else:
            f = x.as_fraction()
            out[n] = int(f) if f.denominator == 1 else float(f)
    return out


# --------------------------------------------------------------------------- decisions


def applies(enc: Encoder, rule: Rule) -> z3.BoolRef:
    when = enc.cond(rule.when_ast)
    if rule.unless_ast is None:
        return when
    return z3.And(when, z3.Not(enc.cond(rule.unless_ast)))


@dataclass
class Decision:
    allow: z3.BoolRef
    permits: list[tuple[Rule, z3.BoolRef]]
    forbids: list[tuple[Rule, z3.BoolRef]]


def decision(enc: Encoder, u: Universe) -> Decision:
    """allow iff some permit in force applies and no forbid in force applies (engine.py)."""
    plan = plan_for(u.rs, u.action, u.day)
    permits = [(r, applies(enc, r)) for r in plan.permits]
    forbids = [(r, applies(enc, r)) for r in plan.forbids]
    allow = z3.And(z3.Or([p for _, p in permits]) if permits else z3.BoolVal(False),
                   z3.Not(z3.Or([f for _, f in forbids])) if forbids else TRUE)
    return Decision(allow, permits, forbids)


# --------------------------------------------------------------------------- consistent cases


@dataclass
class Consistent:
    """"No fact contradicts another" (consistency.py) over the symbolic case: the engine refuses
    an inconsistent case, so a proof ranges over consistent cases only.  A constraint the
    encoder cannot translate is left out (``skipped``): the universe is then larger than the
    engine's, a proof (unsat) still holds, but a case the solver finds may be one the engine
    refuses — ``refuses`` says so and the caller reports "not proved" instead of printing it."""

    assertions: list
    skipped: dict[str, str]  # constraint id → what the encoder could not translate
    rs: RuleSet | None = None

    def refuses(self, case: dict, judge: RuleSet | None = None) -> list[str]:
        """The ids of the left-out constraints that ``case`` contradicts (with the parameter
        values of ``judge``, a copy holding a counterexample's symbolic parameters)."""
        rs = judge or self.rs
        cons = rs.consistency if rs is not None else None
        if not self.skipped or rs is None or cons is None:
            return []
        from ..consistency import Consistency

        params = rs.params_on(_dt.date.fromisoformat(case["date"]))
        return [c.id for c in cons.constraints
                if c.id in self.skipped and Consistency([c], cons.source, cons.calendar).problems(case, params)]

    def note(self, ids: list[str]) -> str:
        return "；".join(f"{i}（{self.skipped[i]}）" for i in ids)


def consistent(enc: Encoder, u: Universe) -> Consistent:
    """Assertions that no consistency constraint of ``u.action`` fires on the symbolic case.
    Call before ``enc.finish()`` (a constraint may name strings and read new facts)."""
    rs = u.rs
    cons = rs.consistency
    out: list = []
    skipped: dict[str, str] = {}
    for c in cons.for_action(u.action) if cons is not None else ():
        try:
            out.append(_no_contradiction(enc, c))
        except Unsupported as e:
            skipped[c.id] = str(e)
    return Consistent(out, skipped, rs)


def _no_contradiction(enc: Encoder, c) -> z3.BoolRef:
    """``each`` as ``_each_problems`` in consistency.py: one instance per element present (two
    variables over one list: per ordered pair of different positions; over two lists: per pair)."""
    if not c.each:
        return z3.Not(enc.cond(c.contradiction_ast))
    slots: list[list[tuple[z3.BoolRef, Val]]] = []
    for each in c.each:
        lv = enc.expr(each.ast)
        if lv.kind == "null":
            return TRUE  # a list that is never there: nothing to contradict
        if lv.kind != "list":
            raise Unsupported(f"each over a {lv.kind}")
        lst: SList = lv.v
        ok = lv.ok if not isinstance(lv.ok, bool) else z3.BoolVal(lv.ok)
        slots.append([(z3.And(ok, i < lst.length), it) for i, it in enumerate(lst.items)])
    same = len(c.each) == 2 and c.each[0].path == c.each[1].path
    terms = []
    for idx in itertools.product(*(range(len(s)) for s in slots)):
        if same and idx[0] == idx[1]:
            continue
        env = {each.var: slots[k][i][1] for k, (each, i) in enumerate(zip(c.each, idx))}
        there = z3.And([slots[k][i][0] for k, i in enumerate(idx)])
        terms.append(z3.Implies(there, z3.Not(enc.cond(c.contradiction_ast, env))))
    return z3.And(terms) if terms else TRUE


# --------------------------------------------------------------------------- solving


@dataclass
class Outcome:
    status: str  # proved | refuted | unknown
    model: Any = None
    seconds: float = 0.0
    reason: str = ""


def solve(assertions: list, timeout_ms: int = TIMEOUT_MS, nice: list | None = None) -> Outcome:
    """unsat → proved; sat → refuted with a model (preferring one with round numbers)."""
    t0 = time.perf_counter()
    s = z3.Solver()
    s.set("timeout", timeout_ms)
    s.add(*assertions)
    r = s.check()
    if r == z3.sat and nice:
        s.push()
        s.add(*nice)
        if s.check() == z3.sat:
            return Outcome("refuted", s.model(), time.perf_counter() - t0)
        s.pop()
        s.check()
    dt = time.perf_counter() - t0
    if r == z3.unsat:
        return Outcome("proved", None, dt)
    if r == z3.sat:
        return Outcome("refuted", s.model(), dt)
    return Outcome("unknown", None, dt, s.reason_unknown())


def nice_numbers(enc: Encoder) -> list:
    """Prefer counterexamples a person reads easily: numbers in halves, free text either a string
    parameter's value (营口市) or "其他N" — not an unrelated enum value."""
    from .encode import OTHER_BASE

    out = [z3.Or(t >= OTHER_BASE, *[t == c for c in sorted(enc.named_strings)]) for t in enc.free_strings]
    for var in enc.vars.values():
        if var.role == "val" and z3.is_real(var.term):
            k = z3.Int(f"{var.term}!half")
            out.append(var.term * 2 == z3.ToReal(k))
    return out


# --------------------------------------------------------------------------- models → cases


def _value(model, term):
    return model.evaluate(term, model_completion=True)


def _scalar(enc: Encoder, model, val: Val, s: Shape):
    present = val.ok if isinstance(val.ok, bool) else z3.is_true(_value(model, val.ok))
    if not present:
        return None
    x = _value(model, val.v)
    if s.kind == "boolean":
        return z3.is_true(x)
    if s.kind == "integer":
        return x.as_long()
    if s.kind == "number":
        f = x.as_fraction()
        return int(f) if f.denominator == 1 else float(f)
    if s.kind == "date":
        return _dt.date.fromordinal(x.as_long()).isoformat()
    return enc.string_of(x.as_long())


def _obj(enc: Encoder, model, o: SymObj, s: Shape) -> dict:
    out: dict = {}
    for name, fs in s.props.items():
        val = o._fields.get(name)
        if val is None:
            if name in s.required:
                out[name] = filler(fs, name)
            continue
        has_var = enc.vars.get((f"{o.key}.{name}", "has"))  # v2: none — a complete case states every field read
        if name not in s.required and has_var is not None:
            if not z3.is_true(_value(model, has_var.term)):
                continue
        out[name] = concrete_value(enc, model, val, fs)
    return out


def concrete_value(enc: Encoder, model, val: Val, s: Shape):
    if val.kind == "obj":
        if not isinstance(val.ok, bool) and not z3.is_true(_value(model, val.ok)):
            return None
        return _obj(enc, model, val.v, s)
    if val.kind == "list":
        if not isinstance(val.ok, bool) and not z3.is_true(_value(model, val.ok)):
            return None
        lst: SList = val.v
        n = _value(model, lst.length).as_long()
        assert s.items is not None
        return [concrete_value(enc, model, lst.items[i], s.items) for i in range(n)]
    return _scalar(enc, model, val, s)


def filler(s: Shape, name: str):
    """A valid value for a required field no rule reads."""
    if s.kind == "object":
        return {k: filler(v, k) for k, v in s.props.items() if k in s.required}
    if s.kind == "array":
        return []
    if s.kind == "enum":
        return s.values[0]
    if s.kind == "date":
        return "2024-09-01"
    if s.kind in ("integer", "number"):
        return int(s.minimum or 0)
    if s.kind == "boolean":
        return False
    if name in _ID_FIELDS:
        return "F0000001"  # a foreign document number: never an ID number (第三十二条)
    return {"name": "某某", "province": "某省", "city": "某市"}.get(name, "甲")


# The fields that hold an ID number, from the schema's ``format: gb11643`` (contract.py).
_ID_PATHS = sorted(id_number_paths())
_ID_FIELDS = frozenset(p[-1] for p in _ID_PATHS)


def concretise(enc: Encoder, model) -> dict:
    case = _obj(enc, model, enc.root.v, enc.shape)
    student = case.get("student")
    if isinstance(student, dict) and ("student.id_type", "val") not in enc.vars:
        student["id_type"] = "foreign"  # no rule read it: keep ID numbers out of the output
    for path in _ID_PATHS:  # an ID number no rule read: well-formed, in the unassigned test region
        holder: Any = case
        for step in path[:-1]:
            holder = holder.get(step) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and holder.get("id_type") == "resident_id" \
                and (".".join(path), "val") not in enc.vars:
            first17 = TEST_REGION_PREFIX + "080220080101001"  # synthetic, names nobody; masked whenever shown
            holder[path[-1]] = first17 + gb11643_check_char(first17)
    case["case_id"] = "verify-counterexample"
    return case


# --------------------------------------------------------------------------- re-checking with the engine


def engine_decision(rs: RuleSet, case: dict) -> str:
    from ..engine import evaluate_dict

    rs.validate(case)
    return evaluate_dict(case, ruleset=rs)["decision"]


def holds(rs: RuleSet, expr: A.Expr | None, case: dict) -> bool:
    """A condition on a concrete case, by the project's own compiler (closures)."""
    if expr is None:
        return True
    from ..lang.compile import Compiler

    cache = rs.__dict__.setdefault("_verify_closures", {})
    hit = cache.get(id(expr))
    if hit is None or hit[0] is not expr:
        hit = cache[id(expr)] = (expr, Compiler(rs.calendar).compile(expr))
    day = _dt.date.fromisoformat(case["date"])
    return truth(hit[1](case, rs.params_on(day), {})) is True  # v2: a given that hangs on an unstated fact does not hold


@dataclass
class Timing:
    encode: float = 0.0
    solve: float = 0.0
    details: list = field(default_factory=list)


def bound_note() -> str:
    return f"列表长度 ≤ {LIST_BOUND}（枚举值的列表 ≤ 其枚举值个数）"


__all__ = ["Universe", "universes", "encoder", "consistent", "Consistent", "decision", "solve", "concretise", "engine_decision", "holds",
           "Unsupported", "EncodingBug", "nice_numbers", "applies", "bound_note"]
