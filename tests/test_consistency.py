"""Facts that contradict each other (``xueji_policy/schemas/case.consistency.yaml``).

A case whose facts cannot all be true is a ``CaseError`` naming every path involved, not a
decision; a consistent case is never refused by this stage; an unstated fact is never a
contradiction; a broken constraints file is a located load error like a rule's.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import cases

from xueji_policy.consistency import Consistency
from xueji_policy.engine import default_ruleset, evaluate_dict
from xueji_policy.errors import CalendarError, CaseError, NotInForceError, RuleSetError, XuejiError
from xueji_policy.pipeline import load_ruleset

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "bad_inputs"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fixtures() -> list[dict]:
    entries = yaml.safe_load((BAD / "expected.yaml").read_text("utf-8"))
    return [e for e in entries if e["file"].startswith("contradiction_")]


def _load(name: str) -> dict:
    return json.loads((BAD / name).read_text("utf-8"))


def _fired(case: dict, rs=None) -> list[str]:
    """Ids of the constraints a (schema-valid) case breaks, one per problem."""
    rs = rs or default_ruleset()
    return [p.message_en.rsplit("constraint ", 1)[1].rstrip(")") for p in rs.consistency.problems(case, {})]


def _reference(case: dict, rs) -> set[str]:
    """The constraints that fire, by the closures alone (no generated detector)."""
    out = set()
    k: Consistency = rs.consistency
    for c in k.for_action(case["action"]):
        if not c.each:
            if c.contradiction(case, {}, {}) is True:
                out.add(c.id)
            continue
        lists = [x if isinstance(x, list) else [] for x in (e.get(case, {}, {}) for e in c.each)]  # unknown: none
        same = len(c.each) == 2 and c.each[0].path == c.each[1].path
        import itertools

        for idx in itertools.product(*(range(len(x)) for x in lists)):
            if same and idx[0] == idx[1]:
                continue
            env = {e.var: lst[i] for e, lst, i in zip(c.each, lists, idx)}
            if c.contradiction(case, {}, env) is True:
                out.add(c.id)
    return out


# --------------------------------------------------------------------------- shipped data


def _shipped_cases() -> list[tuple[str, dict]]:
    out = []
    for p in sorted((ROOT / "cases").glob("*/*.json")) + sorted((ROOT / "examples").glob("*.json")):
        doc = json.loads(p.read_text("utf-8"))
        out.append((str(p.relative_to(ROOT)), doc.get("case", doc)))
    return out


def test_every_golden_case_and_example_is_consistent():
    rs = default_ruleset()
    checked = 0
    for name, case in _shipped_cases():
        try:
            rs.validate(case)
        except CaseError:
            continue  # a golden case of an invalid input is refused before this stage
        assert rs.consistency.problems(case, {}) == [], name
        checked += 1
    assert checked > 250


def test_the_packaged_constraints_are_loaded_with_the_shipped_rules():
    ids = [c.id for c in default_ruleset().consistency.constraints]
    assert len(ids) == len(set(ids)) >= 15
    assert "transfer.current_grade_vs_grade" in ids


# --------------------------------------------------------------------------- each constraint


def test_every_constraint_has_a_fixture_that_breaks_it_alone():
    rs = default_ruleset()
    seen: set[str] = set()
    for e in _fixtures():
        fired = set(_fired(_load(e["file"]), rs))
        assert len(fired) == 1, (e["file"], fired)
        seen |= fired
    assert seen == {c.id for c in rs.consistency.constraints}


def test_issue_example_grade_1_semester_1_with_current_grade_2_is_an_error_naming_both_paths():
    case = _load("contradiction_grade_vs_current_grade.json")
    with pytest.raises(CaseError) as ei:
        evaluate_dict(case)
    (problem,) = ei.value.problems
    assert problem.paths == ("$.transfer.current_grade", "$.student.grade")
    assert problem.message.startswith("转学的现就读年级与学生所在年级不一致")
    assert problem.to_dict()["paths"] == ["$.transfer.current_grade", "$.student.grade"]
    assert "$.student.grade" in ei.value.message and "$.transfer.current_grade" in ei.value.message
    # The consistent case (grade 1, semester 1 everywhere) is decided: deny, 第6目.
    case["transfer"]["current_grade"] = case["transfer"]["target_grade"] = 1
    decision = evaluate_dict(case)
    assert decision["decision"] == "deny"
    assert "第十三条第（一）项第6目" in [r["cite"] for r in decision["reasons"]]


_PATH = re.compile(r"\.([a-z_]+)|\[(\d+)\]")


def _without(case: dict, path: str, how: str) -> dict | None:
    """``case`` with the fact at ``path`` removed (or set to null); None when it cannot be."""
    steps = [m.group(1) if m.group(1) else int(m.group(2)) for m in _PATH.finditer(path[1:])]
    out = copy.deepcopy(case)
    node = out
    for s in steps[:-1]:
        node = node[s]
    last = steps[-1]
    if not isinstance(node, dict) or last not in node:
        return None
    if how == "delete":
        del node[last]
    else:
        node[last] = None
    return out


def test_an_unstated_fact_is_never_a_contradiction():
    """Removing (or nulling) any one fact a contradiction names makes that constraint silent —
    or the case invalid: an unknown fact is not held against the case."""
    rs = default_ruleset()
    tried = 0
    for e in _fixtures():
        case = _load(e["file"])
        (cid,) = set(_fired(case, rs))
        for problem in rs.consistency.problems(case, {}):
            for path in problem.paths:
                for how in ("delete", "null"):
                    variant = _without(case, path, how)
                    if variant is None:
                        continue
                    try:
                        rs.validate(variant)
                    except CaseError:
                        continue  # a required fact: the case is invalid, not contradictory
                    assert cid not in _fired(variant, rs), (e["file"], path, how)
                    tried += 1
    assert tried >= 15


def test_many_contradicting_entries_give_a_bounded_list_of_problems():
    case = _load("contradiction_suspensions_same_start.json")
    case["student"]["suspensions"] = [{"start": "2024-10-08", "end": "2024-10-09", "reason": "other"}] * 20
    with pytest.raises(CaseError) as ei:
        evaluate_dict(case)
    assert 1 <= len(ei.value.problems) <= 30


# --------------------------------------------------------------------------- properties


@SETTINGS
@given(cases())
def test_a_consistent_case_never_raises_from_the_constraints(case):
    rs = default_ruleset()
    try:
        rs.validate(case)
    except CaseError:
        return
    problems = rs.consistency.problems(case, {})
    # The generated detector (one call per case) agrees with the closures, element by element.
    assert {p.message_en.rsplit("constraint ", 1)[1].rstrip(")") for p in problems} == _reference(case, rs)
    try:
        evaluate_dict(case, ruleset=rs)
    except CaseError as e:
        assert problems, e  # only a case with a contradiction is refused after validation
        assert all(p.paths for p in e.problems)
        return
    except XuejiError:
        return  # not in force, no calendar …: raised before (or instead of) this stage
    assert not problems


_DAYS = st.dates(min_value=__import__("datetime").date(2024, 9, 1), max_value=__import__("datetime").date(2026, 6, 30))


@SETTINGS
@given(cases(), _DAYS, st.integers(1, 300))
def test_a_planted_suspension_that_ends_before_it_starts_is_always_caught(case, start, back):
    import datetime as dt

    rs = default_ruleset()
    try:
        rs.validate(case)
    except CaseError:
        return
    sus = case["student"].setdefault("suspensions", [])
    assume(len(sus) < 20)
    end = start - dt.timedelta(days=back)
    sus.append({"start": start.isoformat(), "end": end.isoformat(), "reason": "other"})
    i = len(sus) - 1
    problems = rs.consistency.problems(case, {})
    assert any(p.paths == (f"$.student.suspensions[{i}].end", f"$.student.suspensions[{i}].start")
               for p in problems), problems


@SETTINGS
@given(cases(actions=["transfer_in", "transfer_out"]), st.integers(1, 3), st.integers(1, 2))
def test_a_planted_grade_contradiction_is_always_caught(case, grade, shift):
    rs = default_ruleset()
    case["student"]["grade"] = grade
    case["transfer"]["current_grade"] = (grade - 1 + shift) % 3 + 1
    try:
        rs.validate(case)
    except CaseError:
        return
    assert any(set(p.paths) == {"$.student.grade", "$.transfer.current_grade"}
               for p in rs.consistency.problems(case, {}))
    try:
        evaluate_dict(case, ruleset=rs)
    except (NotInForceError, CalendarError):
        return  # a date outside the rules is refused first (the constraints may read parameters)
    except CaseError as e:
        assert any(set(p.paths) == {"$.student.grade", "$.transfer.current_grade"} for p in e.problems)
        return
    pytest.fail("a contradiction was decided")


# --------------------------------------------------------------------------- a rule set's own constraints


def _rules_with(tmp_path: Path, text: str | None, name: str = "consistency.yaml") -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    meta = rules / "ruleset.yaml"
    meta.write_text(meta.read_text("utf-8").rstrip("\n") + f"\ncase_consistency: {name}\n", encoding="utf-8")
    if text is not None:
        (rules / name).write_text(text, encoding="utf-8")
    return rules


_GOOD = """\
constraints:
  - id: custom.grade_vs_semester
    paths: [student.semester, student.grade]
    contradiction: student.grade == 3 and student.semester == 2 and action == "transfer_in"
    message: 测试约束
    message_en: a test constraint
    reading: 测试用
"""


def test_a_rule_set_brings_its_own_constraints_and_the_cache_keeps_them(tmp_path, monkeypatch):
    monkeypatch.setenv("XUEJI_POLICY_CACHE_DIR", str(tmp_path / "cache"))
    rules = _rules_with(tmp_path, _GOOD)
    fresh = load_ruleset(rules)
    assert [c.id for c in fresh.consistency.constraints] == ["custom.grade_vs_semester"]
    monkeypatch.setattr("xueji_policy.assemble.Assembler.load", lambda self: pytest.fail("must come from the cache"))
    cached = load_ruleset(rules)
    # Carried compiled (through the cache's strict decoder): no parser needed to decide.
    assert [c.id for c in cached.consistency.constraints] == ["custom.grade_vs_semester"]
    case = _load("base_case.json")
    case["student"].update(grade=3, semester=2)
    case["transfer"].update(current_grade=3, target_grade=3)
    with pytest.raises(CaseError) as ei:
        evaluate_dict(case, ruleset=cached)
    assert ei.value.problems[0].paths == ("$.student.semester", "$.student.grade")
    # The packaged constraints are replaced, not added to.
    assert evaluate_dict(_load("contradiction_grade_vs_current_grade.json"), ruleset=cached)


def test_a_cached_shipped_rule_set_has_the_packaged_constraints(tmp_path, monkeypatch):
    monkeypatch.setenv("XUEJI_POLICY_CACHE_DIR", str(tmp_path / "cache"))
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    load_ruleset(rules)
    monkeypatch.setattr("xueji_policy.assemble.Assembler.load", lambda self: pytest.fail("must come from the cache"))
    cached = load_ruleset(rules)
    with pytest.raises(CaseError):
        evaluate_dict(_load("contradiction_grade_vs_current_grade.json"), ruleset=cached)


def test_a_rule_set_with_its_own_case_schema_and_no_constraints_file_has_none():
    rs = load_ruleset(ROOT / "benchmarks" / "policy", cache=False)
    assert rs.consistency.constraints == ()


_BROKEN = [
    # (the constraint's lines, located message fragment, line, column)
    ("    paths: [student.grade, transfer.current_grade]\n    contradiction: student.grde != transfer.current_grade\n",
     "未知字段 'student.grde'", 4, 28),
    ("    paths: [student.grade, transfer.current_grade]\n    contradiction: student.grade !=\n",
     "语法错误", 4, 34),
    ("    paths: [student.enrolled_on, date]\n    contradiction: student.enrolled_on > 3\n",
     "不能比较日期", 4, 40),
    ("    paths: [student.grde, transfer.current_grade]\n    contradiction: student.grade != transfer.current_grade\n",
     "路径 'student.grde' 中的未知字段 'grde'", 3, 13),
    ("    each: s of student.suspensions\n    paths: [s.start, date]\n    contradiction: s.start > date\n",
     "each 应写作", 3, 11),
    ("    actions: [transfer_inn]\n    paths: [student.grade, date]\n    contradiction: student.grade > 1\n",
     "未知操作 'transfer_inn'", 3, 15),
    ("    paths: [student.grade, date]\n    when: student.grade > 1\n",
     "未知的键 'when'", 4, 5),
]


@pytest.mark.parametrize("body, fragment, line, column", _BROKEN)
def test_a_broken_constraint_is_a_located_error(tmp_path, body, fragment, line, column):
    head = "constraints:\n  - id: custom.broken\n"
    tail = "    message: 测试\n    message_en: test\n    reading: 测试\n"
    rules = _rules_with(tmp_path, head + body + tail)
    with pytest.raises(RuleSetError) as ei:
        load_ruleset(rules, cache=False)
    errors = ei.value.errors
    assert errors, ei.value
    err = errors[0]
    assert err.loc is not None and err.loc.file == "rules/consistency.yaml", err.render()
    assert fragment in err.message, err.render()
    assert (err.loc.line, err.loc.column) == (line, column), err.render()


def test_a_misspelt_field_gets_a_did_you_mean(tmp_path):
    text = _GOOD.replace("student.grade == 3", "student.grde == 3")
    with pytest.raises(RuleSetError) as ei:
        load_ruleset(_rules_with(tmp_path, text), cache=False)
    assert "是否应为 'grade'" in ei.value.message


def test_a_constraints_file_outside_the_rules_directory_is_refused(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text(_GOOD, encoding="utf-8")
    rules = _rules_with(tmp_path, None, name="linked.yaml")
    (rules / "linked.yaml").symlink_to(outside)
    with pytest.raises(RuleSetError) as ei:
        load_ruleset(rules, cache=False)
    assert "指向规则目录之外" in ei.value.message  # refused when the directory is read (rulefiles.py)
    assert "custom.grade_vs_semester" not in ei.value.message  # the file's content is never echoed


def test_a_constraints_path_with_a_directory_is_refused(tmp_path):
    rules = _rules_with(tmp_path, None, name="../outside.yaml")
    with pytest.raises(RuleSetError) as ei:
        load_ruleset(rules, cache=False)
    assert "case_consistency" in ei.value.message


def test_check_reports_a_broken_constraints_file_with_exit_2(tmp_path):
    rules = _rules_with(tmp_path, _GOOD.replace("student.grade == 3", "student.grade == 'x'"))
    run = subprocess.run([sys.executable, "-m", "xueji_policy", "check", "--rules", str(rules)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stdout + run.stderr
    out = run.stdout + run.stderr
    assert "rules/consistency.yaml:4:" in out and "Traceback" not in out, out


# --------------------------------------------------------------------------- every entry point


def test_http_single_explain_and_batch_refuse_a_contradiction_naming_both_paths():
    from fastapi.testclient import TestClient

    from xueji_policy.server.app import create_app

    case = _load("contradiction_grade_vs_current_grade.json")
    good = _load("base_case.json")
    both = ["$.transfer.current_grade", "$.student.grade"]
    with TestClient(create_app(), base_url="http://127.0.0.1") as client:  # an allowed Host
        for endpoint in ("/v1/evaluate", "/v1/explain"):
            r = client.post(endpoint, json=case)
            assert r.status_code == 422, r.text
            body = r.json()
            assert body["code"] == "invalid_case"
            assert [e["paths"] for e in body["errors"]] == [both]
            assert "转学的现就读年级与学生所在年级不一致" in body["detail"]
        r = client.post("/v1/evaluate:batch", json=[good, case, good])
        assert r.status_code == 200, r.text
        records = [json.loads(line) for line in r.text.splitlines()]
        assert [x.get("decision") for x in records] == ["allow", None, "allow"]
        assert records[1]["problems"][0]["paths"] == both


def test_batch_from_python_answers_a_contradiction_with_an_error_record():
    from xueji_policy.batch import evaluate_many

    out = list(evaluate_many([_load("base_case.json"), _load("contradiction_suspensions_overlap.json")]))
    assert out[0]["decision"] == "allow"
    assert out[1]["error"] == "invalid_case"
    assert out[1]["problems"][0]["paths"] == ["$.student.suspensions[1].start", "$.student.suspensions[0].start",
                                              "$.student.suspensions[0].end"]


def test_the_case_contract_lists_every_constraint():
    text = (ROOT / "docs" / "case-contract.md").read_text("utf-8")
    assert "## 相互矛盾的事实" in text
    for c in default_ruleset().consistency.constraints:
        assert f"`{c.id}`" in text, c.id
