"""Issue 14: what the text asks that contract v1 could not say — the new optional fields, 营口市's
divisions as a dated parameter, the start days of obligations and the ``deadline_passed`` warnings.

The golden cases (cases/4, 13, 14, 16, 22) prove each item allows and denies; these tests hold the
contract (fields optional, titled, without default), the parameter type, and properties over many
inputs that a handful of golden cases cannot.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji_policy import models
from xueji_policy.contract import schema as packaged_schema
from xueji_policy.engine import deadline_passed_warnings, default_ruleset, evaluate, evaluate_dict
from xueji_policy.errors import CaseError, RuleSetError
from xueji_policy.golden import compare
from xueji_policy.pipeline import load_ruleset

ROOT = Path(__file__).resolve().parents[1]
DIVISIONS = ["站前区", "西市区", "鲅鱼圈区", "老边区", "盖州市", "大石桥市"]

# (path in the case schema, JSON type) of every field issue 14 adds.
NEW_FIELDS = [
    (("properties", "transfer", "properties", "started_on"), "date"),
    (("properties", "transfer", "properties", "abroad_study_recognized"), "boolean"),
    (("$defs", "Household", "properties", "residence_city"), "string"),
    (("$defs", "Suspension", "properties", "applied_on"), "date"),
    (("properties", "suspension", "properties", "applied_on"), "date"),
    (("properties", "suspension", "properties", "approved_on"), "date"),
    (("properties", "appeal", "properties", "received_on"), "date"),
]


def _golden(rel: str) -> dict:
    return json.loads((ROOT / "cases" / rel).read_text("utf-8"))["case"]


# --------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("path,kind", NEW_FIELDS, ids=[p[-1] for p, _ in NEW_FIELDS])
def test_each_new_field_is_optional_titled_in_chinese_and_has_no_default(path, kind):
    schema = packaged_schema("case.schema.json")
    node = schema
    for key in path:
        node = node[key]
    parent = schema
    for key in path[:-2]:
        parent = parent[key]
    assert path[-1] not in parent.get("required", [])
    assert "default" not in node  # an unstated fact stays unstated (three-valued engine)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in node["title"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in node["description"])
    if kind == "date":
        assert node["$ref"] == "#/$defs/date"
    else:
        assert node["type"] == kind


def test_the_decision_schema_knows_separate_registration_and_deadline_passed():
    d = packaged_schema("decision.schema.json")["properties"]
    assert "separate_registration" in d["outcome"]["enum"]
    assert d["outcome"]["x-labels"]["separate_registration"]
    assert "deadline_passed" in d["warnings"]["items"]["properties"]["code"]["description"]


def test_the_generated_models_carry_the_new_fields_through_a_round_trip():
    case = _golden("14/resumption_term_from_applied_on_allow.json")
    model = models.Case.model_validate(case)
    assert model.model_dump(mode="json", exclude_unset=True) == case
    t = _golden("13/in_item3_started_on_due_from_start_allow.json")
    t["transfer"]["abroad_study_recognized"] = True
    t["transfer"]["household"]["residence_city"] = "营口市"
    assert models.Case.model_validate(t).model_dump(mode="json", exclude_unset=True) == t
    with pytest.raises(ValueError):  # strict: a date is a string, a boolean is a boolean
        models.Case.model_validate({**t, "transfer": {**t["transfer"], "abroad_study_recognized": "yes"}})


def test_the_typed_facade_decides_with_the_new_fields_and_returns_warnings():
    d = evaluate(_golden("16/proof_late_allow_with_warning.json"))
    assert d.decision == "allow"
    assert [w.code for w in d.warnings or []] == ["deadline_passed"]


# --------------------------------------------------------------------------- 营口市's divisions


def test_the_divisions_are_a_dated_string_list_parameter():
    rs = default_ruleset()
    p = rs.params["home_city_divisions"]
    assert p.type == "string_list"
    assert p.cite.display() == "第二条"
    assert list(rs.params_on(dt.date(2025, 9, 1))["home_city_divisions"]) == DIVISIONS


def test_a_string_list_parameter_that_is_not_a_list_is_a_located_chinese_error(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    p = rules / "parameters.yaml"
    text = p.read_text("utf-8")
    old = "value: [站前区, 西市区, 鲅鱼圈区, 老边区, 盖州市, 大石桥市]"
    assert old in text
    p.write_text(text.replace(old, "value: 站前区"), "utf-8")
    with pytest.raises(RuleSetError) as info:
        load_ruleset(rules, cache=False)
    msg = str(info.value)
    assert "parameters.yaml:" in msg and "home_city_divisions" in msg and "列表" in msg
    assert "Traceback" not in msg


home_city = st.sampled_from(["营口市", *DIVISIONS])


@settings(max_examples=25, deadline=None)
@given(a=home_city, b=home_city)
def test_any_two_yingkou_schools_may_not_transfer_between_them(a, b):
    case = copy.deepcopy(_golden("13/out_m1_both_schools_in_yingkou_deny.json"))
    case["transfer"]["from_school"]["city"] = a
    case["transfer"]["to_school"]["city"] = b
    case["student"]["school"]["city"] = a
    d = evaluate_dict(case)
    assert d["decision"] == "deny"
    assert "transfer.both_in_home_city" in {r["rule"] for r in d["reasons"]}


@settings(max_examples=25, deadline=None)
@given(student=st.one_of(home_city, st.sampled_from(["鞍山市", "大连市", "营口", "沈阳市"])),
       guardian=st.one_of(home_city, st.sampled_from(["鞍山市", "大连市", "营口", "沈阳市"])))
def test_annex1_hukou_content_decides_transfer_in(student, guardian):
    case = copy.deepcopy(_golden("13/in_allow_hukou_move_from_dalian.json"))
    case["transfer"]["household"].update(student_hukou_city=student, guardian_hukou_city=guardian)
    d = evaluate_dict(case)
    local = {"营口市", *DIVISIONS}
    fired = "transfer.hukou_not_local" in {r["rule"] for r in d["reasons"]}
    assert fired == (student not in local or guardian not in local)
    assert (d["decision"] == "allow") == (not fired)


# --------------------------------------------------------------------------- start days and warnings


@settings(max_examples=30, deadline=None)
@given(days=st.integers(min_value=0, max_value=60))
def test_a_late_cancellation_is_allowed_with_a_warning_exactly_when_its_due_date_has_passed(days):
    case = copy.deepcopy(_golden("16/proof_allow_due_10wd.json"))
    case["date"] = (dt.date(2025, 3, 10) + dt.timedelta(days=days)).isoformat()
    d = evaluate_dict(case)
    assert d["decision"] == "allow"
    due = next(o["due"] for o in d["obligations"] if o["rule"] == "cancellation.within_workdays")
    assert due == "2025-03-24"
    warned = [w for w in d.get("warnings", []) if w["code"] == "deadline_passed"]
    assert bool(warned) == (case["date"] > due)
    for w in warned:
        assert w["cite"] == "第十六条" and due in w["message"] and case["date"] in w["message"]


def test_deadline_passed_warnings_compare_due_dates_with_the_case_date_only():
    obligations = [
        {"rule": "a", "cite": "第一条", "message": "甲", "due": "2025-03-24"},
        {"rule": "b", "cite": "第二条", "message": "乙", "due": "2025-03-25"},
        {"rule": "c", "cite": "第三条", "message": "丙", "due": None},
        {"rule": "d", "cite": "第四条", "message": "丁", "due": "2025-03-26"},
    ]
    got = deadline_passed_warnings(obligations, "2025-03-25")
    assert [w["rule"] for w in got] == ["a"]  # due on the case's own date is not late
    assert got[0]["code"] == "deadline_passed" and "甲" in got[0]["message"]


def test_no_warning_on_deny():
    case = _golden("16/no_proof_late_deny.json")
    d = evaluate_dict(case)
    assert d["decision"] == "deny" and "warnings" not in d


@pytest.mark.parametrize("rel,field,value,rule,due", [
    ("13/in_allow_hukou_move_from_dalian.json", ("transfer", "started_on"), "2025-08-20",
     "transfer.complete_within_workdays", "2025-09-03"),
    ("14/suspension_illness_county_allow.json", ("suspension", "approved_on"), "2025-10-09",
     "suspension.upload_materials", "2025-10-22"),
    ("22/bureau_2nd_workday_allow.json", ("appeal", "received_on"), "2025-11-07",
     "appeal.bureau_answers", "2025-11-28"),
])
def test_each_obligation_counts_from_its_start_day_when_stated_else_from_the_case_date(rel, field, value, rule, due):
    case = copy.deepcopy(_golden(rel))
    without = next(o["due"] for o in evaluate_dict(case)["obligations"] if o["rule"] == rule)
    case[field[0]][field[1]] = value
    with_start = next(o["due"] for o in evaluate_dict(case)["obligations"] if o["rule"] == rule)
    assert with_start == due
    assert without != due  # the fallback is the case's date, a different day here


def test_a_recorded_suspension_applied_for_after_the_case_date_is_a_contradiction():
    case = copy.deepcopy(_golden("14/resumption_term_from_applied_on_allow.json"))
    case["student"]["suspensions"][0]["applied_on"] = "2025-09-13"  # the case is dated 2025-09-12
    with pytest.raises(CaseError) as info:
        evaluate_dict(case)
    assert "suspensions.applied_after_date" in info.value.message


# --------------------------------------------------------------------------- golden expectation


def test_golden_warnings_expectation_matches_by_any_key_and_empty_means_none():
    base = {"decision": "allow", "outcome": None, "reasons": [], "basis": [], "obligations": [], "approvals": []}
    warned = {**base, "warnings": [{"code": "deadline_passed", "rule": "r", "cite": "第十六条", "message": "m"}]}
    assert compare(warned, {"decision": "allow", "warnings": [{"cite": "第十六条"}]}) == []
    assert compare(warned, {"decision": "allow", "warnings": [{"code": "deadline_passed", "rule": "r"}]}) == []
    assert compare(warned, {"decision": "allow", "warnings": [{"rule": "other"}]})
    assert compare(warned, {"decision": "allow", "warnings": []})
    assert compare(base, {"decision": "allow", "warnings": []}) == []
    assert compare(base, {"decision": "allow", "warnings": [{"code": "deadline_passed"}]})
