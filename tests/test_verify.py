"""Proofs with z3 (xueji_policy.verify): every "proved" cross-checked by exhaustive enumeration on a
small rule set, every counterexample and witness re-run through ``evaluate``, planted mutants of the
shipped rules caught with valid counterexamples, amendments named, repairs re-checked."""

from __future__ import annotations

import copy
import datetime as _dt
import itertools
import json
import re
import shutil
from pathlib import Path

import pytest

from xueji_policy.engine import evaluate_dict
from xueji_policy.errors import RuleError
from xueji_policy.pipeline import load_ruleset
from xueji_policy.verify.compare import compare
from xueji_policy.verify.properties import check_property, load_properties
from xueji_policy.verify.repair import earliest_allowed, repairs

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
LIBRARY = Path(__file__).resolve().parent / "fixtures" / "library_rules"


@pytest.fixture(scope="module")
def shipped():
    return load_ruleset(RULES)


def _props(tmp_path: Path, rs, text: str):
    p = tmp_path / "props.yaml"
    p.write_text(text, encoding="utf-8")
    return load_properties(p, rs)


def _assert_counterexample(rs, result):
    """A refutation is only shown when the case validates and evaluate decides against the property."""
    assert result.status == "refuted", result.to_dict()
    case = result.counterexample
    rs.validate(case)  # raises if the case is not valid against case.schema.json
    _assert_consistent(rs, case)
    decided = evaluate_dict(case, ruleset=rs)["decision"]
    assert decided == result.decided
    if result.prop.expect in ("deny", "not allow"):
        assert decided == "allow"
    else:
        assert decided == "deny"


def _assert_consistent(rs, case):
    """No fact of a printed case contradicts another (consistency.py): the engine would refuse it."""
    if rs.consistency is not None:
        rs.consistency.check(case, rs.params_on(_dt.date.fromisoformat(case["date"])))


# --------------------------------------------------------------------------- exhaustive cross-check

LIBRARY_PROPS = """
properties:
  - id: student-cap-five
    action: borrow
    given: reader.kind == "student" and reader.books_out >= 5
    expect: deny
  - id: student-cap-three
    action: borrow
    given: reader.kind == "student" and reader.books_out >= 3
    expect: deny
  - id: banned-never-borrow
    action: borrow
    given: reader.banned == true
    expect: deny
  - id: banned-never-renew
    action: renew
    given: reader.banned == true
    expect: deny
  - id: teachers-may-borrow
    action: borrow
    given: reader.kind == "teacher" and not (reader.banned == true)
    expect: allow
  - id: renew-twice-never
    action: renew
    given: loan.renewals >= 1
    expect: not allow
"""


def _library_cases():
    """Every combination of small domains: kinds, counts (absent, 0–6), flags (absent, true, false),
    dates on both sides of the amendment, due dates, renewals."""
    absent = object()
    for action, kind, books, banned, date, due, renewals in itertools.product(
            ["borrow", "renew"], ["student", "teacher"], [absent, 0, 1, 2, 3, 4, 5, 6], [absent, True, False],
            ["2025-01-01", "2025-06-30", "2025-07-01", "2026-03-02"], ["2025-06-30", "2025-07-02"],
            [absent, 0, 1]):
        reader: dict = {"kind": kind}
        if books is not absent:
            reader["books_out"] = books
        if banned is not absent:
            reader["banned"] = banned
        loan: dict = {"due": due}
        if renewals is not absent:
            loan["renewals"] = renewals
        yield {"action": action, "date": date, "reader": reader, "loan": loan}


def test_every_proof_agrees_with_exhaustive_enumeration(tmp_path):
    from xueji_policy.verify.core import holds

    rs = load_ruleset(LIBRARY)
    props = _props(tmp_path, rs, LIBRARY_PROPS)
    cases = list(_library_cases())
    statuses = {}
    for prop in props:
        result = check_property(rs, prop)
        statuses[prop.id] = result.status
        # v2: proofs are over complete cases; a case that leaves a fact out may be undetermined
        # (never the opposite answer — tests/test_three_valued.py), which breaks no property here.
        decided = [(c, evaluate_dict(c, ruleset=rs)["decision"]) for c in cases
                   if c["action"] == prop.action and holds(rs, prop.given, c)]
        violations = [c for c, d in decided if d != "undetermined"
                      and (d == "allow") == (prop.expect in ("deny", "not allow"))]
        if result.status == "proved":
            assert not violations, (prop.id, violations[:1])
        else:
            _assert_counterexample(rs, result)
            assert violations, f"{prop.id}: refuted, and the enumeration finds a violation too"
    assert statuses == {"student-cap-five": "proved", "student-cap-three": "refuted", "banned-never-borrow": "proved",
                        "banned-never-renew": "refuted", "teachers-may-borrow": "proved",
                        "renew-twice-never": "proved"}


def test_a_parameter_date_splits_the_proof_into_stretches(tmp_path):
    rs = load_ruleset(LIBRARY)
    (prop,) = _props(tmp_path, rs, LIBRARY_PROPS.split("  - id: student-cap-three")[0])
    result = check_property(rs, prop)
    assert result.status == "proved" and len(result.stretches) >= 2


# --------------------------------------------------------------------------- the shipped guarantees


def test_the_shipped_properties_all_prove(shipped):
    results = [check_property(shipped, p) for p in load_properties(RULES / "properties.yaml", shipped)]
    assert len(results) >= 8
    assert [r.prop.id for r in results if r.status != "proved"] == []


def test_a_false_claim_is_refuted_with_a_case_the_engine_confirms(shipped, tmp_path):
    props = _props(tmp_path, shipped, """
properties:
  - id: transfers-never-allowed
    action: transfer_in
    expect: deny
  - id: suspensions-always-allowed
    action: suspension
    given: student.status == "enrolled"
    expect: allow
""")
    for prop in props:
        _assert_counterexample(shipped, check_property(shipped, prop))


# --------------------------------------------------------------------------- planted mutants


def _mutant(tmp_path: Path, file: str, old: str, new: str) -> Path:
    dst = tmp_path / "rules"
    shutil.copytree(RULES, dst)
    p = dst / file
    text = p.read_text(encoding="utf-8")
    assert old in text, old
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return dst


MUTANTS = [
    # a >= made >: a grade with every class at exactly the cap is no longer "full"
    ("13.yaml", "all(size in transfer.to_school.grade_class_sizes: size >= params.class_cap)",
     "all(size in transfer.to_school.grade_class_sizes: size > params.class_cap)", "no-transfer-into-a-full-grade"),
    # a forbid dropped: sanctions without the 校务会议
    ("21.yaml", "when: sanction.school_council_approved == false", "when: false", "sanction-needs-the-school-council"),
    # a parameter changed: the transfer window widened from 14 to 20 days
    ("parameters.yaml", None, None, "window-is-two-weeks"),
    # a forbid dropped: resumption with no suspension on record (found by verify, fixed in 14.yaml)
    ("14.yaml", "when: len(student.suspensions) == 0\n    message: 复学", "when: false\n    message: 复学",
     "resumption-needs-a-recorded-suspension"),
    # the cap on suspensions off by one
    ("14.yaml", "when: len(student.suspensions) >= params.suspension_max_times",
     "when: len(student.suspensions) > params.suspension_max_times", "no-third-suspension"),
]


@pytest.mark.parametrize(("file", "old", "new", "prop_id"), MUTANTS, ids=[m[3] for m in MUTANTS])
def test_planted_mutants_are_refuted_with_valid_counterexamples(tmp_path, file, old, new, prop_id):
    if file == "parameters.yaml":
        text = (RULES / file).read_text(encoding="utf-8")
        block = text[text.index("  transfer_window_days:"):]
        m = re.search(r"value: 14", block)
        assert m
        old, new = block[: m.end()], block[: m.start()] + "value: 20"
        rules = _mutant(tmp_path, file, old, new)
    else:
        rules = _mutant(tmp_path, file, old, new)
    rs = load_ruleset(rules)
    props = {p.id: p for p in load_properties(RULES / "properties.yaml", rs)}
    props.update({p.id: p for p in _props(tmp_path, rs, """
properties:
  - id: window-is-two-weeks
    action: transfer_in
    given: |
      coalesce(transfer.started_on, date) > add_days(transfer.semester_start, 14)
      or coalesce(transfer.started_on, date) < add_days(transfer.semester_start, -14)
    expect: deny
""")})
    # The property holds on the shipped rules …
    if prop_id == "window-is-two-weeks":
        shipped = load_ruleset(RULES)
        assert check_property(shipped, _props(tmp_path, shipped, """
properties:
  - id: window-is-two-weeks
    action: transfer_in
    given: |
      coalesce(transfer.started_on, date) > add_days(transfer.semester_start, 14)
      or coalesce(transfer.started_on, date) < add_days(transfer.semester_start, -14)
    expect: deny
""")[0]).status == "proved"
    # … and is refuted on the mutant, with a case that validates and that evaluate decides against it.
    _assert_counterexample(rs, check_property(rs, props[prop_id]))


# --------------------------------------------------------------------------- amendments


def _amended(tmp_path: Path, name: str, value: int) -> Path:
    text = (RULES / "parameters.yaml").read_text(encoding="utf-8")
    start = text.index(f"  {name}:")
    m = re.search(r"value: (\d+)", text[start:])
    assert m
    i = start + m.start()
    dst = tmp_path / f"rules-{name}-{value}"
    shutil.copytree(RULES, dst)
    (dst / "parameters.yaml").write_text(text[:i] + f"value: {value}" + text[start + m.end():], encoding="utf-8")
    return dst


@pytest.mark.parametrize(("name", "value", "relation"), [
    ("class_cap", 45, "stricter"), ("class_cap", 55, "looser"),
    ("transfer_window_days", 7, "stricter"), ("transfer_window_days", 21, "looser"),
])
def test_compare_names_the_relation_of_an_amendment(shipped, tmp_path, name, value, relation):
    new = load_ruleset(_amended(tmp_path, name, value))
    (c,) = compare(shipped, new, actions=["transfer_in"])
    assert c.relation == relation
    witness = c.newly_denied if relation == "stricter" else c.newly_allowed
    assert witness is not None
    _assert_consistent(shipped, witness)
    _assert_consistent(new, witness)
    old_d, new_d = (evaluate_dict(witness, ruleset=rs)["decision"] for rs in (shipped, new))
    assert (old_d, new_d) == (("allow", "deny") if relation == "stricter" else ("deny", "allow"))


def test_an_unchanged_action_is_equivalent(shipped, tmp_path):
    new = load_ruleset(_amended(tmp_path, "class_cap", 45))
    (c,) = compare(shipped, new, actions=["sanction"])
    assert c.relation == "equivalent"


# --------------------------------------------------------------------------- repairs and the earliest date


def _transfer_denied():
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    case["transfer"]["materials"] = case["transfer"]["materials"][:-1]
    case["transfer"]["to_school"]["grade_class_sizes"] = [50, 51]
    return case


def test_repairs_are_minimal_recheck_and_leave_immutable_facts_alone(shipped):
    case = _transfer_denied()
    assert evaluate_dict(case, ruleset=shipped)["decision"] == "deny"
    found = repairs(case, shipped)
    assert found
    sizes = [len(r.changes) for r in found]
    assert sizes == sorted(sizes) and sizes[0] == 2
    for r in found:
        _assert_consistent(shipped, r.case)
        assert evaluate_dict(r.case, ruleset=shipped)["decision"] == "allow"
        for c in r.changes:
            assert not c.path.startswith(("student.status", "student.suspensions", "transfer.semester_start",
                                          "transfer.from_school", "date"))
    # Minimal: no repair's changes include another's.
    sets = [frozenset(c.path for c in r.changes) for r in found]
    assert not any(a < b for a in sets for b in sets)


def test_earliest_allowed_is_the_next_transfer_window(shipped):
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    early = copy.deepcopy(case)
    early["date"] = "2025-07-01"  # before the window (开学前两周)
    assert evaluate_dict(early, ruleset=shipped)["decision"] == "deny"
    first = earliest_allowed(early, shipped)
    assert first is not None and first.isoformat() == "2025-08-18"
    late = copy.deepcopy(case)
    late["date"] = "2025-09-20"  # after the window: the same facts never become allowed again
    assert earliest_allowed(late, shipped) is None


# --------------------------------------------------------------------------- property-file errors


def test_a_wrong_given_is_one_located_chinese_error(shipped, tmp_path):
    with pytest.raises(RuleError) as e:
        _props(tmp_path, shipped, """
properties:
  - id: typo
    action: transfer_in
    given: transfer.to_shcool.enrollment >= 1
    expect: deny
""")
    assert e.value.loc is not None and e.value.loc.line == 5
    assert "to_school" in (e.value.message + str(e.value.hint or ""))


def test_a_wrong_expect_is_located(shipped, tmp_path):
    with pytest.raises(RuleError) as e:
        _props(tmp_path, shipped, "properties:\n  - id: x\n    action: transfer_in\n    expect: maybe\n")
    assert e.value.loc is not None and e.value.loc.line == 4 and "expect" in e.value.message


# --------------------------------------------------------------------------- lint by proof


def test_lint_proves_a_dead_rule_and_leaves_intentional_double_permits_alone(tmp_path):
    from xueji_policy.verify.lintproofs import prove_rules

    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    p = rules / "29.yaml"
    p.write_text(p.read_text(encoding="utf-8") + """
  - id: reissue.planted_dead
    cite: 第二十九条
    actions: [certificate_reissue]
    effect: forbid
    when: reissue.previous_reissues < 0
    message: 永不适用（测试）
""", encoding="utf-8")
    rs = load_ruleset(rules)
    proofs = prove_rules(rs)
    kinds = {(f.kind, f.rule) for f in proofs.findings}
    assert ("never_applies", "reissue.planted_dead") in kinds
    assert "reissue.planted_dead" in proofs.settled and not any(k == "never_applies" and r == "reissue.once_only"
                                                                for k, r in kinds)
    # The regulation grants these in two places (two articles in the basis), or the permit names an
    # outcome the other does not: none is shadowed.
    for rid in ("suspension.grounds", "suspension.granted", "suspension.graduating_exception", "appeal.to_school",
                "appeal.school_accepts", "withdrawal.incomplete_certificate"):
        assert ("shadowed_permit", rid) not in kinds
    assert ("graduation.completion", "graduation.graduate") in proofs.settled_pairs


def test_symbolic_parameters_prove_for_every_value_or_name_the_values_needed(shipped):
    props = {p.id: p for p in load_properties(RULES / "properties.yaml", shipped)}
    assert check_property(shipped, props["no-transfer-into-a-full-grade"], symbolic=True).status == "proved"
    # "Not within six months" holds for probation (1 year) only while 1 year ≥ 6 months: with the
    # parameters as symbols, the solver names values that break it, and evaluate confirms them.
    r = check_property(shipped, props["no-revocation-within-six-months"], symbolic=True)
    assert r.status == "refuted" and r.params is not None
    assert r.params["revocation_probation_years"] * 12 < r.params["revocation_months"]
    assert set(r.params) <= {"revocation_months", "revocation_probation_years"}


# --------------------------------------------------------------------------- consistent cases only


# Each ``given`` holds only in cases whose facts contradict each other (consistency.py), which the
# engine refuses: over consistent cases no case satisfies it, so "deny" and "allow" both prove.
INCONSISTENT_ONLY = """
properties:
  - id: grade-mismatch-deny
    action: transfer_in
    given: transfer.current_grade is not null and student.grade is not null and transfer.current_grade != student.grade
    expect: deny
  - id: grade-mismatch-allow
    action: transfer_in
    given: transfer.current_grade is not null and student.grade is not null and transfer.current_grade != student.grade
    expect: allow
  - id: ends-before-start-deny
    action: suspension
    given: |
      any(s in student.suspensions: s.end is not null and s.end < s.start)
    expect: deny
  - id: ends-before-start-allow
    action: suspension
    given: |
      any(s in student.suspensions: s.end is not null and s.end < s.start)
    expect: allow
  - id: same-start-deny
    action: resumption
    given: len(student.suspensions) == 2 and first(student.suspensions).start == last(student.suspensions).start
    expect: deny
  - id: same-start-allow
    action: resumption
    given: len(student.suspensions) == 2 and first(student.suspensions).start == last(student.suspensions).start
    expect: allow
"""


def test_a_property_only_inconsistent_cases_break_is_proved(shipped, tmp_path, monkeypatch):
    import xueji_policy.verify.properties as vp
    from xueji_policy.verify.core import Consistent, EncodingBug

    props = _props(tmp_path, shipped, INCONSISTENT_ONLY)
    assert {p.id: check_property(shipped, p).status for p in props} == {p.id: "proved" for p in props}
    # Without the constraints the solver finds such cases, which the engine refuses (CaseError):
    # for each given, one of deny/allow is then "refuted" by a case that is no counterexample.
    monkeypatch.setattr(vp, "consistent", lambda enc, u: Consistent([], {}, u.rs))
    for deny, allow in zip(props[::2], props[1::2]):
        bugs = 0
        for p in (deny, allow):
            try:
                check_property(shipped, p)
            except EncodingBug:
                bugs += 1
        assert bugs >= 1, deny.id


def _example(name: str) -> dict:
    return json.loads((ROOT / "examples" / f"{name}.json").read_text(encoding="utf-8"))


def _consistency_cases():
    """Concrete cases, consistent or not, covering every ``each`` form: none, one list, a pair."""
    out = [_example(n) for n in ("transfer_in", "suspension", "resumption", "withdrawal", "suspension_extension")]
    c = _example("transfer_in")
    c["transfer"]["current_grade"] = 3  # student.grade is 2
    out.append(c)
    sus = [
        [{"start": "2024-03-01", "end": "2024-02-01", "reason": "other"}],  # ends before it starts
        [{"start": "2023-10-08", "end": "2024-03-01", "reason": "other"}],  # one, consistent
        [{"start": "2023-10-08", "end": "2024-03-01", "reason": "other"},
         {"start": "2024-03-01", "end": "2024-09-01", "reason": "illness"}],  # consecutive: consistent
        [{"start": "2023-10-08", "end": "2024-03-01", "reason": "other"},
         {"start": "2024-02-01", "end": "2024-09-01", "reason": "illness"}],  # overlap
        [{"start": "2024-02-01", "end": "2024-09-01", "reason": "illness"},
         {"start": "2023-10-08", "end": "2024-03-01", "reason": "other"}],  # overlap, the other order
        [{"start": "2023-10-08", "end": None, "reason": "other"},
         {"start": "2023-10-08", "end": "2024-03-01", "reason": "illness"}],  # same start
        [{"start": "2025-06-01", "end": None, "reason": "other"}],  # starts after the case's date
    ]
    for lst in sus:
        c = _example("suspension")
        c["student"]["suspensions"] = copy.deepcopy(lst)
        out.append(c)
    c = _example("withdrawal")
    c["student"]["enrolled_on"] = "2025-09-01"  # after the date: a guardian's request is the exception …
    out.append(c)
    c = copy.deepcopy(c)
    c["withdrawal"]["trigger"] = "truancy"  # … no other trigger is (transfer.from_abroad: absent section)
    out.append(c)
    return out


def test_the_encoded_constraints_agree_with_the_consistency_stage(shipped):
    """Each concrete case, pinned: its symbolic copy is consistent exactly when the stage finds no problem."""
    import z3

    from xueji_policy.verify.core import Universe, consistent, encoder
    from xueji_policy.verify.repair import pin_case

    seen = set()
    for case in _consistency_cases():
        shipped.validate(case)
        day = _dt.date.fromisoformat(case["date"])
        problems = shipped.consistency.problems(case, shipped.params_on(day))
        u = Universe(shipped, case["action"], day, day, day)
        enc = encoder(u)
        cons = consistent(enc, u)
        assert cons.skipped == {}
        s = z3.Solver()
        s.add(*enc.finish(), *pin_case(enc, case), *cons.assertions)
        assert (s.check() == z3.sat) == (not problems), (case["action"], case["student"].get("suspensions"), problems)
        seen.add(bool(problems))
        # The pinning alone is satisfiable: the case itself is in the universe before the constraints.
        s2 = z3.Solver()
        s2.add(*enc.finish(), *pin_case(enc, case))
        assert s2.check() == z3.sat
    assert seen == {True, False}


def test_a_constraint_the_encoder_cannot_translate_is_never_a_printed_counterexample(shipped, tmp_path, monkeypatch):
    import xueji_policy.verify.core as core
    from xueji_policy.verify.encode import Unsupported

    real = core._no_contradiction

    def partial(enc, c):
        if c.id == "transfer.current_grade_vs_grade":
            raise Unsupported("planted")
        return real(enc, c)

    monkeypatch.setattr(core, "_no_contradiction", partial)
    props = {p.id: p for p in _props(tmp_path, shipped, INCONSISTENT_ONLY)}
    results = [check_property(shipped, props[i]) for i in ("grade-mismatch-deny", "grade-mismatch-allow")]
    # Neither is proved without the constraint; the one the solver "refutes" is refused by the
    # engine, so it is reported as not proved (naming the constraint), never printed.
    assert all(r.status in ("proved", "unknown") for r in results)
    unknown = [r for r in results if r.status == "unknown"]
    assert unknown and all("transfer.current_grade_vs_grade" in r.message and r.counterexample is None
                           for r in unknown)
    # What does not need the constraint still proves.
    shipped_props = {p.id: p for p in load_properties(RULES / "properties.yaml", shipped)}
    assert check_property(shipped, shipped_props["no-transfer-into-a-full-grade"]).status == "proved"


# --------------------------------------------------------------------------- shadowed permits, by enumeration

# Planted permits of the library rules, with whether removing each alone changes any decision.
SHADOW_PLANTS = {
    # borrow.allowed (same article) applies whenever it does, and it adds nothing: shadowed
    "borrow.teacher_same_article": ("1.yaml", """
  - id: borrow.teacher_same_article
    cite: 第一条第一款
    actions: [borrow]
    effect: permit
    when: reader.kind == "teacher"
    message: 教师可以借书（测试）
""", True),
    # the same condition under another article: the basis cites both — an intentional double permit
    "borrow.teacher_other_article": ("1.yaml", """
  - id: borrow.teacher_other_article
    cite: 第一条第二款
    actions: [borrow]
    effect: permit
    when: reader.kind == "teacher"
    message: 教师可以借书（另一款，测试）
""", False),
    # adds an approval nobody else asks for: not shadowed
    "borrow.teacher_approval": ("1.yaml", """
  - id: borrow.teacher_approval
    cite: 第一条第一款
    actions: [borrow]
    effect: permit
    when: reader.kind == "teacher"
    message: 教师借书由学校审批（测试）
    approvals: [school]
""", False),
    # applies only where a forbid does: never allows anything, shadowed
    "borrow.banned_only": ("1.yaml", """
  - id: borrow.banned_only
    cite: 第一条第一款
    actions: [borrow]
    effect: permit
    when: reader.banned == true
    message: 被禁读者（测试）
""", True),
    # names the outcome for students that nobody else names: not shadowed
    "renew.student_outcome": ("2.yaml", """
  - id: renew.student_outcome
    cite: 第二条
    actions: [renew]
    effect: permit
    when: date <= loan.due and coalesce(loan.renewals, 0) == 0 and reader.kind == "student"
    message: 学生续借（测试）
    outcome: same_grade
""", False),
    # the outcome renew.allowed already gives first: shadowed
    "renew.teacher_outcome": ("2.yaml", """
  - id: renew.teacher_outcome
    cite: 第二条
    actions: [renew]
    effect: permit
    when: date <= loan.due and coalesce(loan.renewals, 0) == 0 and reader.kind == "teacher"
    message: 教师续借（测试）
    outcome: next_grade_allowed
""", True),
}


def _library_with(tmp_path: Path, name: str, plants: list[str]) -> Path:
    dst = tmp_path / name
    shutil.copytree(LIBRARY, dst)
    for pid in plants:
        file, text, _ = SHADOW_PLANTS[pid]
        p = dst / file
        p.write_text(p.read_text(encoding="utf-8") + text, encoding="utf-8")
    return dst


def _what_a_decision_says(d: dict):
    """What removing a permit must not change for it to be shadowed."""
    return (d["decision"], d["outcome"], tuple(d["approvals"]), tuple(o["rule"] for o in d["obligations"]),
            frozenset(b["cite"] for b in d["basis"]))


def test_shadowed_permits_agree_with_exhaustive_enumeration(tmp_path):
    from xueji_policy.verify.lintproofs import prove_rules

    rs = load_ruleset(_library_with(tmp_path, "all", list(SHADOW_PLANTS)))
    proofs = prove_rules(rs)
    shadowed = {f.rule for f in proofs.findings if f.kind == "shadowed_permit"}
    assert not any(f.kind == "not_proved" for f in proofs.findings)
    assert shadowed & set(SHADOW_PLANTS) == {p for p, (_, _, s) in SHADOW_PLANTS.items() if s}
    cases = list(_library_cases())
    full = [_what_a_decision_says(evaluate_dict(c, ruleset=rs)) for c in cases]
    for pid in SHADOW_PLANTS:
        without = load_ruleset(_library_with(tmp_path, f"without-{pid}", [p for p in SHADOW_PLANTS if p != pid]))
        differs = [c for c, d in zip(cases, full) if _what_a_decision_says(evaluate_dict(c, ruleset=without)) != d]
        assert (not differs) == (pid in shadowed), (pid, differs[:1])


def test_never_and_always_applying_rules_agree_with_exhaustive_enumeration(tmp_path):
    from xueji_policy.verify.lintproofs import prove_rules

    rules = _library_with(tmp_path, "dead", [])
    p = rules / "1.yaml"
    p.write_text(p.read_text(encoding="utf-8") + """
  - id: borrow.planted_dead
    cite: 第一条第一款
    actions: [borrow]
    effect: forbid
    when: reader.books_out < 0
    message: 永不适用（测试）
""", encoding="utf-8")
    rs = load_ruleset(rules)
    proofs = prove_rules(rs)
    found = {(f.kind, f.rule) for f in proofs.findings}
    assert ("never_applies", "borrow.planted_dead") in found
    assert ("always_applies", "borrow.allowed") in found  # every reader is a student or a teacher
    cases = list(_library_cases())
    for r in rs.rules:
        if r.effect == "obligation":
            continue
        seen = {r.applies(c, rs.params_on(_dt.date.fromisoformat(c["date"])), {}) for c in cases
                if c["action"] in r.actions and r.in_force(_dt.date.fromisoformat(c["date"]))}
        assert r.id in proofs.settled
        if ("never_applies", r.id) in found:
            assert seen == {False}, r.id
        elif ("always_applies", r.id) in found:
            assert seen == {True}, r.id
        else:  # proved to apply to some valid case and not to another: small domains show both here
            assert seen == {True, False}, r.id
