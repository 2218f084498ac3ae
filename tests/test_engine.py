"""Decision semantics, errors and the facade — on the shipped rules and on a different policy."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from xueji_policy import Decision, evaluate, load_ruleset
from xueji_policy.contract import schema as packaged_schema
from xueji_policy.engine import evaluate_dict
from xueji_policy.errors import CalendarError, CaseError, NotInForceError, RuleSetError
from xueji_policy.models import Case

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
LIBRARY = Path(__file__).parent / "fixtures" / "library_rules"
DECISION_VALIDATOR = jsonschema.Draft202012Validator(packaged_schema("decision.schema.json"))


def example(name: str) -> dict:
    return json.loads((ROOT / "examples" / f"{name}.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- shipped rules


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_gets_a_valid_decision(path):
    case = json.loads(path.read_text(encoding="utf-8"))
    d = evaluate(case)
    assert isinstance(d, Decision)
    DECISION_VALIDATOR.validate(d.to_dict())
    assert d.ruleset.sha256 == load_ruleset().sha256


def test_ruleset_lists_rules_with_their_cites():
    rs = load_ruleset()
    assert len(rs.rules) >= 50
    r = rs.rule("transfer.target_full")
    assert (r.article, r.cite.item, r.cite.subitem, r.effect) == (13, 1, 4, "forbid")
    assert r.cite.display() == "第十三条第（一）项第4目"
    assert set(r.actions) == {"transfer_in", "transfer_out"}


def test_every_forbid_that_applies_is_reported():
    case = example("transfer_in")
    case["transfer"]["to_school"]["enrollment"] = 3000   # 第4目
    case["student"]["gaokao_registered"] = True           # 第5目
    case["date"] = "2025-10-20"                           # 学期中途 + outside the window
    d = evaluate(case)
    assert d.decision == "deny"
    cites = {r.cite for r in d.reasons}
    assert {"第十三条第（一）项第4目", "第十三条第（一）项第5目", "第十三条第（一）项第6目", "第十三条第（三）项"} <= cites
    assert d.basis == [] and d.obligations == [] and d.approvals == [] and d.outcome is None


def test_failed_permits_are_the_reasons_when_no_permit_applies():
    case = example("transfer_in")
    case["transfer"]["reason"] = "other"
    d = evaluate(case)
    assert d.decision == "deny"
    assert "transfer.grounds" in {r.rule for r in d.reasons}


def test_obligations_have_working_day_due_dates():
    case = example("transfer_in")
    case["date"] = "2025-09-26"  # 09-28(Sun, 调休) 09-29 09-30 | 10-01..10-08 off | 10-09 10-10 10-11(Sat, 调休) 10-13 10-14 10-15 10-16
    case["transfer"]["semester_start"] = "2025-09-15"
    d = evaluate(case)
    due = {o.rule: o.due for o in d.obligations}
    assert str(due["transfer.complete_within_workdays"]) == "2025-10-16"


def test_outcome_and_approvals():
    d = evaluate(example("withdrawal"))
    assert d.decision == "allow" and d.outcome == "incomplete_certificate"
    assert d.approvals == ["school", "school_council", "city_bureau"]


def test_a_case_before_the_rules_are_in_force_is_an_error_not_a_deny():
    case = example("transfer_in")
    case["date"] = "2024-08-15"
    with pytest.raises(NotInForceError) as ei:
        evaluate(case)
    assert "2024-08-16" in ei.value.message


def test_a_year_far_past_the_holiday_data_is_an_error():
    # The year right after the last schedule is decided where it can be (tests/test_calendar_edge.py).
    case = example("transfer_in")
    case["date"] = "2099-03-01"
    case["transfer"]["semester_start"] = "2099-03-01"
    with pytest.raises(CalendarError) as ei:
        evaluate(case)
    assert ei.value.year == 2099 and "2099" in ei.value.message


def test_schema_invalid_case_lists_every_failing_path():
    case = example("transfer_in")
    case["transfer"]["to_shcool"] = case["transfer"].pop("to_school")
    case["date"] = "2025-02-30"
    with pytest.raises(CaseError) as ei:
        evaluate(case)
    paths = {p.path for p in ei.value.problems}
    assert "$.date" in paths
    assert any(p.startswith("$.transfer") for p in paths)
    assert len(ei.value.problems) >= 2


def test_case_model_input_gives_the_same_decision():
    case = example("resumption")
    assert evaluate(Case.model_validate(case)).to_dict() == evaluate(case).to_dict()


def test_evaluate_does_not_modify_the_case():
    case = example("suspension")
    before = copy.deepcopy(case)
    evaluate(case)
    assert case == before


def test_explain_adds_a_trace_of_every_rule():
    case = example("transfer_in")
    case["transfer"]["to_school"]["enrollment"] = 3000
    d = evaluate_dict(case, explain=True)
    entry = next(t for t in d["trace"] if t["rule"] == "transfer.target_full")
    assert entry["applied"] is True
    assert entry["when"]["children"][0]["operands"][0] == {"expr": "transfer.to_school.enrollment", "value": 3000}
    DECISION_VALIDATOR.validate(d)


# --------------------------------------------------------------------------- the engine is generic


def library_case(**kw) -> dict:
    case = {"action": "borrow", "date": "2025-03-03", "reader": {"kind": "student", "books_out": 0},
            "loan": {"due": "2025-03-31"}}
    case.update(kw)
    return case


def test_another_policy_with_its_own_schema_runs_on_the_same_engine():
    rs = load_ruleset(LIBRARY)
    assert rs.name.startswith("图书馆")
    assert evaluate_dict(library_case(), ruleset=rs)["decision"] == "allow"
    d = evaluate_dict(library_case(reader={"kind": "student", "books_out": 3}), ruleset=rs)
    assert d["decision"] == "deny" and d["reasons"][0]["cite"] == "第一条第一款"


def test_dated_parameters_pick_the_value_in_force_on_the_case_date():
    rs = load_ruleset(LIBRARY)
    four = {"kind": "student", "books_out": 4}
    assert evaluate_dict(library_case(date="2025-06-30", reader=four), ruleset=rs)["decision"] == "deny"
    assert evaluate_dict(library_case(date="2025-07-01", reader=four), ruleset=rs)["decision"] == "allow"


def test_schema_defaults_outcomes_and_obligations_on_another_policy():
    rs = load_ruleset(LIBRARY)
    d = evaluate_dict({"action": "renew", "date": "2025-09-26", "reader": {"kind": "teacher"},
                       "loan": {"due": "2025-09-30"}}, ruleset=rs)
    assert d["decision"] == "allow" and d["outcome"] == "next_grade_allowed"
    assert d["obligations"][0]["due"] == "2025-10-14"  # 5 working days after 09-30 across 国庆 2025
    d = evaluate_dict({"action": "renew", "date": "2025-10-02", "reader": {"kind": "student"},
                       "loan": {"due": "2025-09-30"}}, ruleset=rs)
    assert d["decision"] == "deny" and d["reasons"][0]["message"] == "已过期或已续借过"


def test_cases_are_validated_against_the_policys_own_schema():
    rs = load_ruleset(LIBRARY)
    with pytest.raises(CaseError):
        evaluate_dict(library_case(reader={"kind": "alien"}), ruleset=rs)


def test_a_broken_rule_set_never_loads_half(tmp_path):
    import shutil

    shutil.copytree(LIBRARY, tmp_path / "rules")
    p = tmp_path / "rules" / "1.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("reader.banned == true", "reader.bannned == true"),
                 encoding="utf-8")
    with pytest.raises(RuleSetError) as ei:
        load_ruleset(tmp_path / "rules")
    assert "reader.bannned" in str(ei.value) and "banned" in ei.value.errors[0].render()


# --------------------------------------------------------------------------- effective dates


def test_a_case_is_judged_by_the_rules_in_force_on_its_date():
    rs = load_ruleset(LIBRARY)
    renew = {"action": "renew", "reader": {"kind": "teacher", "banned": True}, "loan": {"due": "2025-12-31"}}
    before = evaluate_dict({**renew, "date": "2025-06-30"}, ruleset=rs)
    after = evaluate_dict({**renew, "date": "2025-07-01"}, ruleset=rs)
    assert before["decision"] == "deny" and before["reasons"][0]["rule"] == "borrow.banned"
    assert after["decision"] == "allow"


def test_as_of_judges_a_case_by_the_rules_in_force_on_another_day():
    rs = load_ruleset(LIBRARY)
    case = {"action": "renew", "date": "2025-06-30", "reader": {"kind": "teacher", "banned": True},
            "loan": {"due": "2025-12-31"}}
    import datetime as dt

    assert evaluate_dict(case, ruleset=rs, as_of=dt.date(2025, 7, 1))["decision"] == "allow"


def test_an_effective_to_before_effective_from_is_refused(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(LIBRARY, rules)
    p = rules / "1.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("effective_from: 2025-07-01", "effective_from: 2025-07-01\n    effective_to: 2025-01-01"),
                 encoding="utf-8")
    with pytest.raises(RuleSetError) as ei:
        load_ruleset(rules)
    assert "失效日期" in str(ei.value)


def test_the_typed_facade_works_for_another_policy_too():
    """The Decision model's enums are the 细则's; a policy with its own actions still gets a Decision."""
    rs = load_ruleset(LIBRARY)
    d = evaluate(library_case(), ruleset=rs)
    assert d.decision == "allow" and d.action == "borrow" and d.basis[0].rule == "borrow.allowed"
    assert d.to_dict() == evaluate_dict(library_case(), ruleset=rs)
    explained = evaluate(library_case(), ruleset=rs, explain=True)
    assert explained.trace and explained.to_dict()["trace"][0]["rule"]
