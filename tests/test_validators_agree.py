"""The two case validators give the same verdict on every input (issue 10, class 4).

The fast path (jsonschema-rs, ``fastvalidate.py``) decides most cases; the reference
validator (Python jsonschema, ``validate.py``) names what is wrong.  If they disagree, a
case is either accepted by one door and refused by another, or — worse — accepted by
the fast path and then crashes later (a year-0 date did).  Hypothesis aims at the edges
where two implementations drift: regex anchors and newlines, Unicode and fullwidth
digits, the date range, numeric and length bounds, bool vs int, 2.0 vs 2, values that
are not JSON.
"""

from __future__ import annotations

import copy
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import DATE_EDGES, ID_EDGES, INT_EDGES, SCHEMA, cases, edge_cases

from xueji_policy.errors import CaseError
from xueji_policy.fastvalidate import fast_validator
from xueji_policy.validate import CaseValidator

FAST = fast_validator(SCHEMA)
REF = CaseValidator(SCHEMA)


def _verdicts(case) -> tuple[bool, bool]:
    fast = FAST.is_valid(copy.deepcopy(case))
    problems = REF.problems(copy.deepcopy(case))
    return fast, not problems


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(edge_cases())
def test_fast_and_reference_validators_agree(case):
    fast, ref = _verdicts(case)
    assert fast == ref


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_generated_cases_are_valid_for_both(case):
    assert _verdicts(case) == (True, True)


def _name(value: object) -> str:
    """A test id that never spells an ID number (the leak scanner reads test ids too)."""
    return f"{type(value).__name__}-{len(value) if isinstance(value, str) else ''}-{zlib.crc32(repr(value)[:80].encode('utf-8', 'replace')) % 10**6}" \
        if not isinstance(value, int) or abs(value) < 10**100 else "huge-int"


def _base() -> dict:
    import json
    from pathlib import Path

    return json.loads((Path(__file__).parent / "bad_inputs" / "base_case.json").read_text("utf-8"))


@pytest.mark.parametrize("value", ID_EDGES, ids=_name)
def test_every_id_number_edge(value):
    case = _base()
    case["student"]["id_number"] = value
    fast, ref = _verdicts(case)
    assert fast == ref
    if value.endswith("\n") or not value.isascii():
        assert not fast


@pytest.mark.parametrize("value", DATE_EDGES, ids=_name)
def test_every_date_edge_in_every_date_slot(value):
    for slot in (("date",), ("student", "enrolled_on"), ("transfer", "semester_start")):
        case = _base()
        node = case
        for k in slot[:-1]:
            node = node[k]
        node[slot[-1]] = value
        fast, ref = _verdicts(case)
        assert fast == ref, (slot, value)
        in_range = value.isascii() and len(value) == 10 and "1900" <= value[:4] <= "2199"
        if not in_range:
            assert not fast, (slot, value)


@pytest.mark.parametrize("value", INT_EDGES, ids=_name)
def test_every_number_edge(value):
    for slot in (("student", "grade"), ("transfer", "to_school", "enrollment"), ("transfer", "current_grade")):
        case = _base()
        node = case
        for k in slot[:-1]:
            node = node[k]
        node[slot[-1]] = value
        assert _verdicts(case)[0] == _verdicts(case)[1], (slot, value)


def test_a_refused_case_is_always_explained():
    """Whatever the fast path refuses, the reference validator names at least one path."""
    case = _base()
    case["student"]["id_number"] = "000000000000000000\n"
    assert not FAST.is_valid(case)
    with pytest.raises(CaseError) as info:
        REF.validate(case)
    assert info.value.problems and info.value.problems[0].path == "$.student.id_number"




def test_a_format_only_one_validator_knows_is_checked_by_neither():
    schema = {"type": "object", "properties": {"mail": {"type": "string", "format": "email"},
                                               "day": {"type": "string", "format": "date"}}}
    fast, ref = fast_validator(schema), CaseValidator(schema)
    for case in ({"mail": "not an address"}, {"mail": "a@b.cn"}, {"day": "0000-01-01"}, {"day": "2025-08-25"}):
        assert fast.is_valid(case) == ref.is_valid(case), case
    assert not fast.is_valid({"day": "0000-01-01"})


def test_dates_checked_natively_by_the_fast_validator_mean_what_is_iso_date_means():
    """The fast validator checks dates in Rust (its `date` format plus the year range as a
    pattern, fastvalidate._native_dates): on every edge it agrees with the one Python parser."""
    from xueji_policy.contract import is_iso_date
    from xueji_policy.fastvalidate import FastValidator

    v = FastValidator({"type": "string", "format": "date"})
    samples = [f"{y:04d}-{m:02d}-{d:02d}" for y in (0, 1899, 1900, 1999, 2000, 2024, 2100, 2199, 2200, 9999)
               for m in (0, 1, 2, 12, 13) for d in (0, 1, 28, 29, 30, 31, 32)]
    samples += ["2025-1-01", "２０２５-01-01", "2025-01-01\n", "2025/01/01", "20250101", "2025-W01-1",
                "2025-01-01T00:00", "", "2025-01-0١", " 2025-01-01"]
    assert [s for s in samples if v.is_valid(s) != is_iso_date(s)] == []


def test_the_schema_resolved_per_action_gives_the_schema_s_verdicts():
    """The fast validator checks a case against the schema with its per-action ``if``s resolved
    (fastvalidate.for_action): the same verdict as the whole schema for every example under
    every action's name (its section is allowed only for its own actions), and without it."""
    import json
    from pathlib import Path

    import jsonschema_rs

    from xueji_policy.fastvalidate import FORMATS, for_action

    whole = jsonschema_rs.validator_for(SCHEMA, formats=FORMATS, validate_formats=True)
    actions = SCHEMA["properties"]["action"]["enum"]
    resolved = {a: for_action(SCHEMA, a) for a in actions}
    assert all(s is not None and not any("if" in b for b in s.get("allOf", [])) for s in resolved.values())
    special = {a: jsonschema_rs.validator_for(s, formats=FORMATS, validate_formats=True) for a, s in resolved.items()}
    examples = [json.loads(p.read_text("utf-8")) for p in sorted((Path(__file__).parent.parent / "examples").glob("*.json"))]
    verdicts = []
    for example in examples:
        for action in actions:
            for case in ({**example, "action": action}, {k: v for k, v in example.items()
                                                           if k in ("case_id", "date", "student")} | {"action": action}):
                verdict = whole.is_valid(case)
                assert special[action].is_valid(case) == verdict, (example["action"], action)
                assert FAST.is_valid(case) == verdict
                verdicts.append(verdict)
    assert True in verdicts and False in verdicts
