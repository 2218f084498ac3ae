"""The SMT encoding means what the language means: every row of the hand-written semantics table
(tests/test_semantics.py — null, empty lists, date and 调休 edges, every built-in and operator) is
proved by the solver to have exactly the table's value on the table's case."""

from __future__ import annotations

import datetime as dt

import pytest
import z3

from tests.test_semantics import CASE, PARAMS, SCHEMA, TABLE, _type_of
from xueji_policy.verify.encode import Encoder, eq
from xueji_policy.verify.repair import pin_case
from xueji_policy.verify.shape import to_shape
from xueji_policy.verify.tables import Tables
from xueji_policy.workdays import default_calendar


@pytest.fixture(scope="module")
def tables():
    return Tables(default_calendar(None), 2015, 2030, 2015, 2026)


@pytest.mark.parametrize(("expr", "expected"), TABLE, ids=[e for e, _ in TABLE])
def test_the_encoding_gives_the_tables_value(tables, expr, expected):
    ast = _type_of(expr)
    enc = Encoder(to_shape(SCHEMA, {}), tables, dict(PARAMS), {"cap": "int", "md": "monthday"}, "", 0, 0)
    got = enc.expr(ast)
    want = enc.const(expected, kind="real" if isinstance(expected, float) else None)
    s = z3.Solver()
    s.add(*enc.finish(), *pin_case(enc, CASE))
    assert s.check() == z3.sat, f"{expr}: the table's case is outside the encoding's domain"
    s.add(z3.Not(eq(got, want)))
    assert s.check() == z3.unsat, f"{expr}: the encoding can differ from {expected!r}: {s.model() if s.check() == z3.sat else ''}"


def test_dates_are_day_numbers_in_the_tables(tables):
    assert tables.day_lo == dt.date(2015, 1, 1).toordinal() and len(tables.work) > 2000
