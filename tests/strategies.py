"""Hypothesis strategies built from ``case.schema.json`` itself (not hand-listed examples).

The schema walker is the package's own ``CaseGenerator``; here its choices come from
Hypothesis (so failures shrink), while ``xueji-policy diff`` drives the same walker
with a seeded ``random.Random``.  Dates mostly fall in the years the holiday calendar
covers; now and then before the rules are in force or in a year with no calendar.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools

from hypothesis import strategies as st

from xueji_policy.engine import default_ruleset
from xueji_policy.generate import case_generator
from xueji_policy.validate import load_case_schema

SCHEMA = load_case_schema()
RULESET = default_ruleset()


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


_GENERATOR = case_generator(RULESET)
_FIRST_DAY = RULESET.effective_from
_LAST_YEAR = RULESET.calendar.last_year()


@st.composite
def cases(draw, actions=None):
    ch = HypothesisChooser(draw)
    case = _GENERATOR.case(ch, draw(st.sampled_from(actions)) if actions else None)
    # Now and then a date the rules or the calendar do not cover: those must be clean errors.
    when = draw(st.sampled_from(["in", "in", "in", "in", "in", "in", "before", "after"]))
    if when == "before":
        case["date"] = draw(st.dates(_FIRST_DAY.replace(month=1, day=1) - dt.timedelta(days=366), _FIRST_DAY - dt.timedelta(days=1))).isoformat()
    elif when == "after":
        case["date"] = draw(st.dates(dt.date(_LAST_YEAR + 1, 1, 1), dt.date(_LAST_YEAR + 1, 12, 31))).isoformat()
    return case


# --------------------------------------------------------------------------- aimed at the validators' edges
#
# A valid case with one value replaced by one that sits on an edge where two regex
# dialects, two format checkers or two type systems could disagree: anchors and
# newlines, Unicode and fullwidth digits, the date range, min/max, maxLength, maxItems,
# bool vs int, 2.0 vs 2 — and Python values that are not JSON at all.

_FW = str.maketrans("0123456789", "０１２３４５６７８９")
_AR = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _id(first17: str) -> str:
    from xueji_policy.privacy import gb11643_check_char

    return first17 + gb11643_check_char(first17)


_GOOD_ID = _id("99080220080315123")
_X_ID = next(i for i in (_id(f"990802200803151{n:02d}") for n in range(100)) if i.endswith("X"))

ID_EDGES = [
    _GOOD_ID, _X_ID, _X_ID[:-1] + "x", _GOOD_ID + "\n", _GOOD_ID + "\r\n", "\n" + _GOOD_ID, _GOOD_ID + " ",
    _GOOD_ID[:-1] + "\n", _GOOD_ID.translate(_FW), _GOOD_ID.translate(_AR), _GOOD_ID[:17], _GOOD_ID + "0",
    _GOOD_ID[:-1] + ("0" if _GOOD_ID[-1] != "0" else "1"), "000000000000000000\n", "000000000000000000",
    _id("99080219000229000"), _id("99080220000229000"), _id("99080220251301000"), _GOOD_ID[:15],
    _GOOD_ID[:6] + "\u200b" + _GOOD_ID[6:], "",
]

DATE_EDGES = [
    "2025-08-25", "0000-01-01", "0001-01-01", "1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01",
    "9999-12-31", "2025-02-29", "2024-02-29", "2025-13-01", "2025-00-10", "2025-8-25", "2025-08-25\n",
    "2025-08-25T00:00:00", "2025/08/25", "２０２５-08-25", "2025-08-25".translate(_AR), " 2025-08-25", "20250825",
    "+2025-08-25", "",
]

INT_EDGES = [0, 1, -1, 2, 3, 4, 2.0, 2.5, 1.0, 0.0, -0.0, True, False, 2**53 - 1, 2**53, -(2**53), 10**20, 1e300,
             float("nan"), float("inf"), 10**5000, "2", None]

ANY_EDGES: list = [None, True, False, 0, 1.5, "", "x", [], {}, [None], {"x": 1}, ("t",),
                   b"bytes", dt.date(2025, 8, 25), {1, 2}, "\ud800", "\n", "x" * 201, "李" * 51]


def _slots(value, parts=()):
    """Every (container, key) in a JSON value, parents before children."""
    if isinstance(value, dict):
        for k in list(value):
            yield value, k, (*parts, k)
            yield from _slots(value[k], (*parts, k))
    elif isinstance(value, list):
        for i in range(len(value)):
            yield value, i, (*parts, i)
            yield from _slots(value[i], (*parts, i))


@st.composite
def edge_cases(draw):
    """A generated case with 1–3 values moved onto an edge (see above)."""
    case = draw(cases())
    for _ in range(draw(st.integers(1, 3))):
        slots = list(_slots(case))
        parent, key, parts = draw(st.sampled_from(slots))
        old = parent[key]
        pools: list[list] = [ANY_EDGES]
        if key == "id_number":
            pools.append(ID_EDGES)
        if isinstance(old, str) and len(old) == 10 and old[4:5] == "-":
            pools.append(DATE_EDGES)
        if isinstance(old, (int, float)) and not isinstance(old, bool):
            pools.append(INT_EDGES)
        if isinstance(old, bool):
            pools.append([0, 1, "true", None])
        if isinstance(old, str):
            pools.append([old + "\n", old * 20, old[:0], old.upper(), old.translate(_FW), "a" * 50, "a" * 51,
                          "a" * 200, "a" * 201])
        if isinstance(old, list):
            pools.append([old * 8, old * 20, old * 64, old + old[:1], [], (old or [None]) * 17])
        pool = draw(st.sampled_from(pools))
        # A copy: the edge lists are shared by every example, and a later edge written into a
        # shared value would change the lists themselves (or tie a value into a cycle).
        parent[key] = copy.deepcopy(draw(st.sampled_from(pool)))
    if draw(st.booleans()):  # now and then an unknown or deep key
        case[draw(st.sampled_from(["extra", "Student", "action "]))] = draw(
            st.sampled_from([1, {"a": {"b": {}}}, functools.reduce(lambda a, _: [a], range(70), [])]))
    return case
