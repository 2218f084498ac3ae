"""Hypothesis strategies built from ``case.schema.json`` itself (not hand-listed examples).

The schema walker is the package's own ``CaseGenerator``; here its choices come from
Hypothesis (so failures shrink), while ``xueji-policy diff`` drives the same walker
with a seeded ``random.Random``.  Dates mostly fall in the years the holiday calendar
covers; now and then before the rules are in force or in a year with no calendar.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from xueji_policy.engine import default_ruleset
from xueji_policy.generate import CaseGenerator, _interesting_numbers
from xueji_policy.validate import load_case_schema

SCHEMA = load_case_schema()


class HypothesisChooser:
    def __init__(self, draw):
        self.draw = draw

    def boolean(self) -> bool:
        return self.draw(st.booleans())

    def choice(self, options: list):
        return self.draw(st.sampled_from(options))

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def number(self, lo: float, hi: float) -> float:
        return self.draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))


_GENERATOR = CaseGenerator(SCHEMA, interesting=_interesting_numbers(default_ruleset()))


@st.composite
def cases(draw, actions=None):
    ch = HypothesisChooser(draw)
    case = _GENERATOR.case(ch, draw(st.sampled_from(actions)) if actions else None)
    student = case["student"]
    if student.get("id_type") == "resident_id":
        student["id_number"] = _GENERATOR.resident_id(ch)
    # Now and then a date the rules or the calendar do not cover: those must be clean errors.
    when = draw(st.sampled_from(["in", "in", "in", "in", "in", "in", "before", "after"]))
    if when == "before":
        case["date"] = draw(st.dates(dt.date(2023, 1, 1), dt.date(2024, 8, 15))).isoformat()
    elif when == "after":
        case["date"] = draw(st.dates(dt.date(2027, 1, 1), dt.date(2027, 12, 31))).isoformat()
    return case
