"""Cases generated from a case JSON Schema — reproducibly, for ``diff``, ``lint`` and benchmarks.

One walker, two sources of choices: ``RandomChooser`` (``random.Random(seed)``: the same
seed gives the same cases on every machine) and, in the tests, a Hypothesis-backed
chooser (``tests/strategies.py``), so property tests and change-impact runs explore the
same space.  Values lean towards the numbers rules care about (the parameters'
values and their neighbours) so that boundaries are crossed.
"""

from __future__ import annotations

import datetime as _dt
import random
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from .lang import ast as A
from .privacy import gb11643_check_char

if TYPE_CHECKING:
    from .ruleset import RuleSet

# Nothing here is regulation knowledge: the numbers, places and dates rules care about come
# from the rule set (``case_generator``); these are neutral fillers for every other string.
_AREAS = ["990802", "990803", "990811", "990881", "990104", "990101", "990102"]  # unassigned region codes (privacy.TEST_REGION_PREFIX)
_NAMES = ["王子涵", "李浩然", "张欣怡", "刘宇轩", "陈思远", "杨雨桐"]
_FILLERS = ["甲", "乙", "A1", "第一中学"]
_SPAN_YEARS = 2  # without a calendar year to stop at: this many years after the start
_HEADROOM = 100  # integers without a maximum go this far past the largest interesting number
_STUDENT_AGES = (13, 20)  # birth dates of generated resident IDs: this many years before the start


class Chooser(Protocol):
    def boolean(self) -> bool: ...
    def choice(self, options: list) -> Any: ...
    def integer(self, lo: int, hi: int) -> int: ...
    def number(self, lo: float, hi: float) -> float: ...


class RandomChooser:
    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)

    def boolean(self) -> bool:
        return self.rng.random() < 0.5

    def choice(self, options: list) -> Any:
        return self.rng.choice(options)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def number(self, lo: float, hi: float) -> float:
        return round(self.rng.uniform(lo, hi), 1)


class CaseGenerator:
    """Builds schema-shaped cases between ``start`` and ``end``.

    ``interesting`` numbers and ``dates`` are tried often; ``strings`` maps a field name to
    the values rules compare it with (a string field of that name draws from them and from
    neutral fillers, so that both sides of the comparison are seen).
    """

    def __init__(self, schema: dict, *, start: _dt.date, end: _dt.date | None = None,
                 interesting: Iterable[int] = (), strings: dict[str, list[str]] | None = None,
                 dates: Iterable[_dt.date] = ()):
        self.schema = schema
        self.defs = schema.get("$defs", {})
        self.sections = schema.get("x-action-sections", {})
        self.start = start
        self.end = end if end is not None and end >= start else _add_years(start, _SPAN_YEARS)
        base = [0, 1, 2, 3, *interesting]
        self.interesting = sorted({n for v in base for n in (v - 1, v, v + 1) if n >= 0})
        self.top = self.interesting[-1] + _HEADROOM
        self.strings = {k: sorted(set(v)) for k, v in (strings or {}).items()}
        self.dates = sorted({d + _dt.timedelta(days=k) for d in dates for k in (-1, 0, 1)
                             if start <= d + _dt.timedelta(days=k) <= self.end})

    # -- the walker -----------------------------------------------------------
    def case(self, ch: Chooser, action: str | None = None) -> dict:
        props = self.schema["properties"]
        actions = props["action"]["enum"]
        action = action or ch.choice(actions)
        out = {}
        for key, sub in props.items():
            if key == "action":
                out[key] = action
            elif key in self.sections.values():
                if self.sections.get(action) == key:
                    out[key] = self.value(ch, sub, key)
            elif key in self.schema.get("required", ()) or ch.boolean():
                out[key] = self.value(ch, sub, key)
        return out

    def value(self, ch: Chooser, node: dict, name: str = "", depth: int = 0) -> Any:
        node = self._deref(node)
        if depth > 8:
            return None
        if "anyOf" in node or "oneOf" in node:
            return self.value(ch, ch.choice(node.get("anyOf") or node["oneOf"]), name, depth)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return ch.choice(list(node["enum"]))
        t = node.get("type")
        if isinstance(t, list):
            t = ch.choice(t)
        if t == "null":
            return None
        if t == "boolean":
            return ch.boolean()
        if t == "integer":
            lo, hi = node.get("minimum", 0), node.get("maximum", self.top)
            picks = [n for n in self.interesting if lo <= n <= hi]
            return ch.choice(picks) if picks and ch.boolean() else ch.integer(lo, hi)
        if t == "number":
            lo = node.get("minimum", 0)
            return ch.choice([float(n) for n in self.interesting if n >= lo] or [float(lo)]) if ch.boolean() \
                else ch.number(lo, max(lo, node.get("maximum", self.top)))
        if t == "string":
            if node.get("format") == "date":
                return self.date(ch).isoformat()
            if node.get("format") == "gb11643":
                return self.resident_id(ch)
            if name in self.strings:
                return ch.choice(self.strings[name] + _FILLERS)
            if name == "name":
                return ch.choice(_NAMES)
            return ch.choice(_FILLERS)
        if t == "array":
            n = ch.integer(0, min(node.get("maxItems", 4), 4))
            return [self.value(ch, node.get("items", {}), name, depth + 1) for _ in range(n)]
        if t == "object" or "properties" in node:
            required = set(node.get("required", ()))
            obj = {k: self.value(ch, sub, k, depth + 1) for k, sub in node.get("properties", {}).items()
                   if k in required or ch.boolean()}
            # The schema's if/then (a resident ID when id_type says so): the fields the "then"
            # narrows are drawn again from its narrower schema.
            for cond in node.get("allOf", ()):
                if "if" in cond and _holds(cond["if"], obj):
                    for k, sub in cond.get("then", {}).get("properties", {}).items():
                        if k in obj:
                            obj[k] = self.value(ch, sub, k, depth + 1)
            return obj
        return None

    def date(self, ch: Chooser) -> _dt.date:
        if self.dates and ch.boolean() and ch.boolean():  # a quarter of the dates sit on an edge
            return ch.choice(self.dates)
        return self.start + _dt.timedelta(days=ch.integer(0, (self.end - self.start).days))

    def resident_id(self, ch: Chooser) -> str:
        oldest, youngest = (_add_years(self.start, -age) for age in reversed(_STUDENT_AGES))
        birth = oldest + _dt.timedelta(days=ch.integer(0, (youngest - oldest).days))
        first17 = f"{ch.choice(_AREAS)}{birth:%Y%m%d}{ch.integer(0, 999):03d}"
        return first17 + gb11643_check_char(first17)

    def _deref(self, node: dict) -> dict:
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not ref:
            return node
        target = dict(self.defs[ref.rsplit("/", 1)[-1]])
        for k, v in node.items():
            if k != "$ref":
                target.setdefault(k, v)
        return target


def case_generator(rs: RuleSet) -> CaseGenerator:
    """The generator for a rule set: its schema, its dates and the values its rules compare with."""
    return CaseGenerator(rs.case_schema, start=rs.effective_from, end=_dt.date(rs.calendar.last_year(), 12, 31),
                         interesting=_interesting_numbers(rs), strings=_compared_strings(rs),
                         dates=_interesting_dates(rs))


def generated_cases(rs: RuleSet, n: int, seed: int = 0, actions: list[str] | None = None) -> Iterator[dict]:
    """``n`` schema-valid, consistent cases for the rule set, the same for the same seed."""
    gen = case_generator(rs)
    ch = RandomChooser(seed)
    validator = rs.validator
    made = 0
    attempts = 0
    while made < n and attempts < n * 20:
        attempts += 1
        action = ch.choice(actions) if actions else None
        case = gen.case(ch, action)
        case["case_id"] = f"gen-{seed}-{made}"
        if validator.is_valid(case) and _consistent(rs, case):
            made += 1
            yield case


def _consistent(rs: RuleSet, case: dict) -> bool:
    """No facts that contradict each other (consistency.py): such a case is refused, not decided."""
    from .errors import XuejiError

    try:
        params = rs.params_on(_dt.date.fromisoformat(case["date"]))
    except (XuejiError, ValueError):
        return True  # refused for its date anyway
    return not rs.consistency.problems(case, params)


def _holds(cond: dict, obj: dict) -> bool:
    """Whether an object meets an ``if`` made of ``required`` and ``const``/``enum`` properties
    (anything else in it counts as not met: the generator then keeps the general schema)."""
    if set(cond) - {"properties", "required"}:
        return False
    if any(k not in obj for k in cond.get("required", ())):
        return False
    for k, sub in cond.get("properties", {}).items():
        if k not in obj:
            continue
        if set(sub) - {"const", "enum"}:
            return False
        if ("const" in sub and obj[k] != sub["const"]) or ("enum" in sub and obj[k] not in sub["enum"]):
            return False
    return True


def _add_years(day: _dt.date, years: int) -> _dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def _rule_asts(rs: RuleSet) -> Iterator[A.Expr]:
    """Every node of every rule condition, named conditions (lets) expanded once each."""
    seen: set[int] = set()
    stack: list[A.Expr] = []
    for r in rs.rules:
        stack += [e for e in (r.when_ast, r.unless_ast, r.due_ast) if e is not None]
        stack += [o.when_ast for o in r.outcomes if o.when_ast is not None]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack.extend(A.children(e))
        if isinstance(e, A.Path) and e.expansion is not None:
            stack.append(e.expansion)


def _is_number(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _interesting_numbers(rs: RuleSet) -> list[int]:
    """The parameters' integer values and the integer literals of the rules."""
    nums = {v for p in rs.params.values() for _, v in p.values if _is_number(v)}
    nums |= {e.value for e in _rule_asts(rs) if isinstance(e, A.Literal) and _is_number(e.value)}
    return sorted(nums)


def _interesting_dates(rs: RuleSet) -> list[_dt.date]:
    """When the rules, a rule or a parameter value starts or stops, and the parameters' dates and
    month-days (in every year the generator covers)."""
    days = {rs.effective_from}
    days |= {d for r in rs.rules for d in (r.effective_from, r.effective_to) if d is not None}
    years = range(rs.effective_from.year, rs.calendar.last_year() + 1)
    for p in rs.params.values():
        for since, v in p.values:
            days.add(since)
            if isinstance(v, _dt.date):
                days.add(v)
            elif p.type == "monthday" and isinstance(v, tuple):  # (month, day)
                for y in years:
                    try:
                        days.add(_dt.date(y, *v))
                    except ValueError:  # 29 February in a common year
                        pass
    return sorted(days)


def _leaf(e: A.Expr) -> str | None:
    """The field name an expression reads last (``transfer.to_school.city`` → ``city``)."""
    if isinstance(e, A.Path) and e.root != "param" and not (e.root == "let" and len(e.parts) == 1):
        return e.parts[-1]
    if isinstance(e, A.Field):
        return e.name
    return None


def _strings_of(e: A.Expr, rs: RuleSet) -> list[str]:
    """The strings an expression stands for: a literal, a list of literals or a parameter's values."""
    if isinstance(e, A.Literal) and isinstance(e.value, str):
        return [e.value]
    if isinstance(e, A.ListLit):
        return [s for item in e.items for s in _strings_of(item, rs)]
    if isinstance(e, A.Path) and e.root == "param" and len(e.parts) == 2 and e.parts[1] in rs.params:
        return [v for _, v in rs.params[e.parts[1]].values if isinstance(v, str)]
    return []


def _compared_strings(rs: RuleSet) -> dict[str, list[str]]:
    """Field name → the strings rules compare that field with (``x.city == params.home_city``)."""
    out: dict[str, set[str]] = {}
    for e in _rule_asts(rs):
        if isinstance(e, (A.Compare, A.In)):
            for field, other in ((e.left, e.right), (e.right, e.left)):
                name = _leaf(field)
                values = _strings_of(other, rs)
                if name is not None and values:
                    out.setdefault(name, set()).update(values)
    return {k: sorted(v) for k, v in out.items()}
