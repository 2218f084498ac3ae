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
from collections.abc import Iterator
from typing import Any, Protocol

from .privacy import gb11643_check_char

_AREAS = ["210802", "210803", "210811", "210881", "220104", "110101", "210102"]
_CITIES = ["营口市", "大连市", "沈阳市", "鞍山市", "长春市", "北京市"]
_PROVINCES = ["辽宁省", "吉林省", "北京市"]
_NAMES = ["王子涵", "李浩然", "张欣怡", "刘宇轩", "陈思远", "杨雨桐"]


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
    """Builds schema-shaped cases; ``interesting`` numbers are tried often."""

    def __init__(self, schema: dict, *, start: _dt.date = _dt.date(2024, 8, 16),
                 end: _dt.date = _dt.date(2026, 12, 31), interesting: list[int] | None = None):
        self.schema = schema
        self.defs = schema.get("$defs", {})
        self.sections = schema.get("x-action-sections", {})
        self.start, self.end = start, end
        base = [0, 1, 2, 3] + list(interesting or [])
        self.interesting = sorted({n for v in base for n in (v - 1, v, v + 1) if n >= 0})

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
            return self.value(ch, ch.choice(node.get("anyOf") or node.get("oneOf")), name, depth)
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
            lo, hi = node.get("minimum", 0), node.get("maximum", 3100)
            picks = [n for n in self.interesting if lo <= n <= hi]
            return ch.choice(picks) if picks and ch.boolean() else ch.integer(lo, hi)
        if t == "number":
            lo = node.get("minimum", 0)
            return ch.choice([float(n) for n in self.interesting if n >= lo] or [float(lo)]) if ch.boolean() \
                else ch.number(lo, 200)
        if t == "string":
            if node.get("format") == "date":
                return self.date(ch).isoformat()
            if node.get("format") == "gb11643" or name == "id_number":
                return self.resident_id(ch)
            if name in ("city",) or name.endswith("_city"):
                return ch.choice(_CITIES)
            if name == "province":
                return ch.choice(_PROVINCES)
            if name == "name":
                return ch.choice(_NAMES)
            return ch.choice(["甲", "乙", "A1", "第一中学"])
        if t == "array":
            n = ch.integer(0, min(node.get("maxItems", 4), 4))
            return [self.value(ch, node.get("items", {}), name, depth + 1) for _ in range(n)]
        if t == "object" or "properties" in node:
            required = set(node.get("required", ()))
            return {k: self.value(ch, sub, k, depth + 1) for k, sub in node.get("properties", {}).items()
                    if k in required or ch.boolean()}
        return None

    def date(self, ch: Chooser) -> _dt.date:
        return self.start + _dt.timedelta(days=ch.integer(0, (self.end - self.start).days))

    def resident_id(self, ch: Chooser) -> str:
        birth = _dt.date(2005, 1, 1) + _dt.timedelta(days=ch.integer(0, 365 * 7))
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


def generated_cases(rs, n: int, seed: int = 0, actions: list[str] | None = None) -> Iterator[dict]:
    """``n`` schema-valid, consistent cases for the rule set, the same for the same seed."""
    gen = CaseGenerator(rs.case_schema, interesting=_interesting_numbers(rs))
    ch = RandomChooser(seed)
    validator = rs.validator
    made = 0
    attempts = 0
    while made < n and attempts < n * 20:
        attempts += 1
        action = ch.choice(actions) if actions else None
        case = gen.case(ch, action)
        case["case_id"] = f"gen-{seed}-{made}"
        # Keep the student consistent with the common contract: a resident ID where the type says so.
        student = case.get("student")
        if isinstance(student, dict) and student.get("id_type") == "resident_id":
            student["id_number"] = gen.resident_id(ch)
        if validator.is_valid(case) and _consistent(rs, case):
            made += 1
            yield case


def _consistent(rs, case: dict) -> bool:
    """No facts that contradict each other (consistency.py): such a case is refused, not decided."""
    import datetime as _dt

    from .errors import XuejiError

    try:
        params = rs.params_on(_dt.date.fromisoformat(case["date"]))
    except (XuejiError, ValueError):
        return True  # refused for its date anyway
    return not rs.consistency.problems(case, params)


def _interesting_numbers(rs) -> list[int]:
    nums = set()
    for p in rs.params.values():
        for _, v in p.values:
            if isinstance(v, int) and not isinstance(v, bool):
                nums.add(v)
    return sorted(nums)
