"""Unknown is not false (issue 13): properties over complete cases with facts removed at random.

The bases are the golden cases that decide allow or deny and the shipped examples; hypothesis
removes a few keys (anywhere below the top level, list elements included).  A removal the schema
or the consistency check refuses is not a case and is skipped.

* removing facts never turns allow into deny or deny into allow — only into ``undetermined``,
  or no change (facts with a definitional fallback — ``stated_or``/``known`` in the rules, each
  with its reading — are not removed: leaving one out *chooses* the fallback);
* every path in ``needs`` is absent from the case, and ``needs`` is never empty on undetermined;
* filling in exactly the ``needs`` with the original values gives back the original decision;
* the removal experiment of the issue: no allow rests on an unstated fact the rules read.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from xueji_policy.engine import default_ruleset, evaluate_dict
from xueji_policy.errors import CaseError

ROOT = Path(__file__).resolve().parent.parent
_STEP = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


def _bases() -> list[tuple[str, dict, str]]:
    out = []
    for f in sorted((ROOT / "cases").glob("*/*.json")):
        doc = json.loads(f.read_text("utf-8"))
        if doc.get("expect", {}).get("decision") in ("allow", "deny"):
            out.append((f"{f.parent.name}/{f.name}", doc["case"], doc["expect"]["decision"]))
    for f in sorted((ROOT / "examples").glob("*.json")):
        case = json.loads(f.read_text("utf-8"))
        out.append((f.name, case, evaluate_dict(copy.deepcopy(case))["decision"]))
    return out


BASES = _bases()
# The removal experiment is a script of its own; its helpers are used here too (one copy).
_spec = importlib.util.spec_from_file_location("removal_experiment", ROOT / "scripts" / "removal_experiment.py")
assert _spec is not None and _spec.loader is not None
EXPERIMENT = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(EXPERIMENT)


def _fallback_fields() -> frozenset[str]:
    """The fields the rules read with a definitional fallback (``stated_or(x, …)``, ``known(x)``)."""
    from xueji_policy.lang import ast as A

    out: set[str] = set()
    rs = default_ruleset()

    def visit(e, seen):
        for n in A.walk(e):
            if isinstance(n, A.Call) and n.name in ("stated_or", "known"):
                first = n.args[0]
                if isinstance(first, (A.Path, A.Field)):
                    out.add(first.parts[-1] if isinstance(first, A.Path) else first.name)
            if isinstance(n, A.Path) and n.root == "let" and n.expansion is not None and id(n.expansion) not in seen:
                seen.add(id(n.expansion))
                visit(n.expansion, seen)

    for r in rs.rules:
        for e in (r.when_ast, r.unless_ast, r.due_ast):
            if e is not None:
                visit(e, set())
    return frozenset(out)


FALLBACK_FIELDS = _fallback_fields()


def _walk(case: dict, path: str):
    """(the object holding the last key, that key); raises KeyError/IndexError when absent."""
    steps = path.split(".")
    x = case
    for s in steps[:-1]:
        m = _STEP.match(s)
        assert m, s
        x = x[m.group(1)]
        if m.group(2) is not None:
            x = x[int(m.group(2))]
    return x, steps[-1]


def _get(case: dict, path: str):
    holder, last = _walk(case, path)
    m = _STEP.match(last)
    assert m, last
    v = holder[m.group(1)]
    return v[int(m.group(2))] if m.group(2) is not None else v


def _absent(case: dict, path: str) -> bool:
    try:
        _get(case, path)
    except (KeyError, IndexError, TypeError):
        return True
    return False


def _decide(case: dict) -> dict | None:
    try:
        return evaluate_dict(case)
    except CaseError:
        return None  # not a valid case once the key is gone (required, or contradictions)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_removing_facts_only_ever_leaves_the_decision_open(data):
    name, base, decided = data.draw(st.sampled_from(BASES), label="base")
    paths = EXPERIMENT.leaf_paths(base)
    assume(paths)
    removed = data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=4, unique=True), label="removed")
    # A fact with a definitional fallback (the first argument of stated_or, the argument of known)
    # is not a precondition: leaving it out chooses the fallback, so it may change the answer.
    assume(not any(p.rsplit(".", 1)[-1] in FALLBACK_FIELDS for p in removed))
    case = copy.deepcopy(base)
    for p in removed:
        EXPERIMENT.remove(case, p)
    d = _decide(copy.deepcopy(case))
    assume(d is not None)
    assert d["decision"] in (decided, "undetermined"), (name, removed, d["decision"], decided)
    if d["decision"] != "undetermined":
        return
    needs = [n["path"] for n in d["needs"]]
    assert needs, (name, removed)
    assert d["undecided"], (name, removed)
    for p in needs:
        assert _absent(case, p), (name, removed, p)
    # Fill in exactly the needs, with the original values: the original decision comes back.
    # (A need the original did not state either was not needed there: another fact settled it.)
    filled = copy.deepcopy(case)
    for p in needs:
        if not _absent(base, p):
            holder, last = _walk(filled, p)
            holder[last] = copy.deepcopy(_get(base, p))
    again = evaluate_dict(filled)
    assert again["decision"] == decided, (name, removed, needs, again.get("needs"))


def test_the_removal_experiment_finds_no_allow_resting_on_an_unstated_fact():
    """The issue's experiment on every allowed shipped example, one key left out at a time: some
    removals leave the decision open, and no allow rests on a fact the rules needed."""
    counts, resting = EXPERIMENT.run()
    assert counts["undetermined"] > 0 and counts["deny"] == 0, counts
    assert resting == []


UNDETERMINED = ROOT / "tests" / "fixtures" / "undetermined_transfer_in.json"


def test_the_typed_facade_carries_needs_and_residuals():
    from xueji_policy import evaluate

    case = json.loads(UNDETERMINED.read_text("utf-8"))
    d = evaluate(case)
    assert d.decision == "undetermined" and not d.allowed
    assert [n.path for n in d.needs] == ["transfer.other_policy_violation"]
    assert d.undecided[0].residual == "transfer.other_policy_violation == true"
    assert d.to_dict() == evaluate_dict(case)


def test_the_text_says_it_cannot_decide_yet_and_what_to_provide_in_chinese_labels():
    from xueji_policy.explain import decision_text

    text = decision_text(evaluate_dict(json.loads(UNDETERMINED.read_text("utf-8"))))
    assert "尚不能决定" in text
    assert "请补充以下事实" in text
    assert "其他违反政策规定的情形（transfer.other_policy_violation）" in text  # the schema's Chinese title


def test_an_obligation_that_hangs_on_an_unstated_fact_is_conditional(tmp_path):
    """On an allow, an obligation whose condition reads an unstated fact is listed with what is
    left of its condition and the facts it needs — never guessed either way."""
    import shutil

    root = tmp_path / "rules"
    shutil.copytree(ROOT / "tests" / "fixtures" / "library_rules", root)
    rule = root / "2.yaml"
    rule.write_text(rule.read_text("utf-8").replace(
        "  - id: renew.new_due", "  - id: renew.teacher_note\n    cite: 第二条\n    actions: [renew]\n"
        "    effect: obligation\n    when: loan.renewals == 0\n    message: 登记续借\n"
        "  - id: renew.new_due"), "utf-8")
    from xueji_policy.pipeline import load_ruleset

    rs = load_ruleset(root, cache=False)
    d = evaluate_dict({"action": "renew", "date": "2025-09-26", "reader": {"kind": "teacher"},
                       "loan": {"due": "2025-09-30"}}, ruleset=rs)
    assert d["decision"] == "allow"
    owed = {o["rule"]: o for o in d["obligations"]}
    assert owed["renew.teacher_note"]["condition"] == "loan.renewals == 0"
    assert owed["renew.teacher_note"]["needs"] == ["loan.renewals"]
    assert [n["path"] for n in d["needs"]] == ["loan.renewals"]


def test_a_residual_reaching_a_decision_is_masked_and_bounded():
    """What is left of a condition puts known facts in as literals: an ID number among them is
    masked (第三十二条), and a residual of thousands of terms is cut to fit the decision schema."""
    from xueji_policy import engine
    from xueji_policy.lang import ast as A
    from xueji_policy.lang.kleene import Residual
    from xueji_policy.privacy import gb11643_check_char

    first17 = "99010420080304003"
    idn = first17 + gb11643_check_char(first17)
    shown = engine._shown(Residual(A.Compare("==", A.Path(("u", "x")), A.Literal(idn)), ("u.x",)))
    assert idn not in shown and shown.startswith("u.x == ")
    wide = Residual(A.BoolOp("or", tuple(A.Path(("student", f"s{i}")) for i in range(2000))), ())
    text = engine._shown(wide)
    assert len(text) == engine.RESIDUAL_MAX and text.endswith("…")
    schema_max = json.loads((ROOT / "xueji_policy" / "schemas" / "decision.schema.json").read_text("utf-8"))[
        "properties"]["undecided"]["items"]["properties"]["residual"]["maxLength"]
    assert engine.RESIDUAL_MAX <= schema_max
