"""The generated fast path decides exactly as the closures (which explain and lint use)."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from strategies import cases

from xueji_policy.engine import default_ruleset
from xueji_policy.errors import XuejiError
from xueji_policy.lang.kleene import Residual
from xueji_policy.plan import plan_for
from xueji_policy.validate import fast_validator, load_case_schema


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_generated_code_agrees_with_the_closures_rule_by_rule(case):
    rs = default_ruleset()
    try:
        rs.validate(case)
        day = dt.date.fromisoformat(case["date"])
        params = rs.params_on(day)
        plan = plan_for(rs, case["action"], day)
    except XuejiError:
        return
    env: dict = {}
    slow = []
    for r in plan.forbids + plan.permits + plan.obligations:
        try:
            slow.append(r.applies(case, params, env))
        except XuejiError:
            return
    try:
        applied = {i: due for i, due, _ in plan.oblige(case, params)}
        fast = list(plan.decide(case, params)) + [i in applied for i in range(len(plan.obligations))]
    except KeyError:
        # The fast path met a fact the case does not state and hands over: the engine decides by
        # the closures (which may still know the answer, e.g. ``unknown and false``).
        return
    except XuejiError:
        return
    # Every fact read was stated: the closures know every answer, and it is the same.
    assert not any(isinstance(x, Residual) for x in slow)
    assert [bool(x) for x in fast] == [bool(x) for x in slow]
    for i, due in applied.items():  # and the due dates agree
        r = plan.obligations[i]
        assert due == (r.due(case, params, {}) if r.due is not None else None)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_fast_validator_agrees_with_the_reference_validator(case):
    rs = default_ruleset()
    assert fast_validator(rs.case_schema).is_valid(case) == rs.validator.is_valid(case)


def test_fast_validator_agrees_on_mutated_cases():
    """Hand-made near misses: wrong dates, check digits, types, unknown keys, other sections."""
    import copy
    import json
    from pathlib import Path

    rs = default_ruleset()
    fast = fast_validator(load_case_schema())
    base = json.loads((Path(__file__).parent.parent / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    mutations = [
        ("date", "2025-02-30"), ("date", "2025/02/01"), ("date", "2024-02-29"), ("date", "20250201"),
        ("student.id_number", "22010420081103035X"), ("student.id_number", "220104200811030351"),
        ("student.id_number", "22010420081103035x"), ("student.id_number", "220104200813030359"),
        ("student.grade", 4), ("student.grade", True), ("transfer.to_school.enrollment", -1),
        ("transfer.reason", "hukou"), ("transfer.extra", 1), ("suspension", {"reason": "other", "start": "2025-01-01"}),
        ("action", "suspension"), ("student.suspensions", [{"start": "2025-01-01", "reason": "illness"}] * 30),
    ]
    for path, value in mutations:
        case = copy.deepcopy(base)
        *parents, last = path.split(".")
        obj = case
        for k in parents:
            obj = obj[k]
        obj[last] = value
        assert fast.is_valid(case) == rs.validator.is_valid(case), (path, value)
