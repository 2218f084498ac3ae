"""Adding a forbid rule never turns a deny into an allow (and keeps every reason it had)."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import cases

from xueji_policy.cites import Cite
from xueji_policy.engine import default_ruleset, evaluate_dict
from xueji_policy.errors import XuejiError
from xueji_policy.lang.check import Scope, check_expr
from xueji_policy.lang.compile import Compiler
from xueji_policy.lang.parse import Source, parse_expr
from xueji_policy.lang.types import BOOL, ENUM, INT, OBJECT, PARAM_TYPES
from xueji_policy.ruleset import Rule


def _leaves(t, prefix):
    for name, ft in t.fields:
        path = f"{prefix}.{name}"
        if ft.kind == OBJECT:
            yield from _leaves(ft, path)
        elif ft.kind in (BOOL, ENUM, INT):
            yield path, ft


@st.composite
def forbid_conditions(draw, rs, action):
    section = rs.sections[action]
    leaves = list(_leaves(rs.case_type.field(section), section)) + list(_leaves(rs.case_type.field("student"), "student"))
    path, t = draw(st.sampled_from(leaves))
    if t.kind == BOOL:
        return f"{path} == {draw(st.sampled_from(['true', 'false']))}"
    if t.kind == ENUM:
        return f'{path} == "{draw(st.sampled_from(list(t.values)))}"'
    return f"{path} {draw(st.sampled_from(['>=', '<', '==']))} {draw(st.integers(0, 4))}"


def with_forbid(rs, action: str, text: str):
    scope = Scope(case=rs.case_type, params={n: PARAM_TYPES[p.type] for n, p in rs.params.items()},
                  sections=rs.sections, actions=(action,))
    src = Source(text)
    ast = parse_expr(text, src)
    check_expr(ast, scope, src)
    cite = Cite(article=13)
    rule = Rule(id="extra.forbid", article=13, cite=cite, actions=(action,), effect="forbid", message="额外的禁止",
                when_src=text, when_ast=ast, when=Compiler(rs.calendar).compile(ast))
    return dataclasses.replace(rs, rules=rs.rules + [rule], _by_action={}, plans={},
                               _reason_models={}, _validator=rs._validator, _fast_validator=rs._fast_validator)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_adding_a_forbid_never_turns_a_deny_into_an_allow(data):
    rs = default_ruleset()
    case = data.draw(cases())
    condition = data.draw(forbid_conditions(rs, case["action"]))
    stricter = with_forbid(rs, case["action"], condition)
    try:
        before = evaluate_dict(case, ruleset=rs)
    except XuejiError:
        return
    after = evaluate_dict(case, ruleset=stricter)
    if before["decision"] == "deny":
        assert after["decision"] == "deny"
    forbid_reasons = {r["rule"] for r in before["reasons"] if rs.rule(r["rule"]).effect == "forbid"}
    assert forbid_reasons <= {r["rule"] for r in after["reasons"]}
    if after["decision"] == "allow":
        assert before["decision"] == "allow" and "extra.forbid" not in {r["rule"] for r in after["reasons"]}
