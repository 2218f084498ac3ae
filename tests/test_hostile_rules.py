"""Rule sets that pass ``check`` must evaluate (issue 10, class 2): deep, wide and odd rule sets,
written as an attacker (or an unlucky editor) would.  No timing assertions: sizes are measured."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xueji_policy import evaluate, load_ruleset
from xueji_policy.explain import trace
from xueji_policy.lang import ast as A
from xueji_policy.lang.codegen import CodegenError, build_function
from xueji_policy.lang.types import T_BOOL, T_INT
from xueji_policy.plan import build_plans

LIB = Path(__file__).parent / "fixtures" / "library_rules"
CASE = {"action": "borrow", "date": "2025-03-01", "reader": {"kind": "student", "books_out": 2},
        "loan": {"due": "2025-04-01"}}


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "rules"
    shutil.copytree(LIB, root)
    return root


def _add_lets(root: Path, lets: list[str], extra_when: str) -> None:
    f = root / "1.yaml"
    text = f.read_text(encoding="utf-8")
    block = "let:\n" + "".join(f"  {line}\n" for line in lets)
    text = text.replace("rules:\n", block + "rules:\n", 1)
    text = text.replace('when: reader.kind in ["student", "teacher"]',
                        f'when: reader.kind in ["student", "teacher"] and {extra_when}', 1)
    f.write_text(text, encoding="utf-8")


def _sources(rs) -> list[str]:
    build_plans(rs)
    return [fn.__source__ for plan in rs.plans.values() for fn in (plan.decide, plan.oblige, plan.match)]


@pytest.mark.parametrize("depth", [16, 24])
def test_a_let_used_twice_by_the_next_stays_linear(tmp_path, depth):
    # l_i = l_{i-1} and (l_{i-1} or …): fully expanded that is 2**depth copies.
    lets = ["l0: reader.books_out >= 1"] + [f"l{i}: l{i-1} and (l{i-1} or reader.banned == true)"
                                             for i in range(1, depth + 1)]
    root = _copy(tmp_path)
    _add_lets(root, lets, f"l{depth}")
    rs = load_ruleset(root, cache=False)
    assert max(len(s) for s in _sources(rs)) < 20_000  # linear in the rule text, not 2**depth
    assert evaluate(CASE, ruleset=rs).decision == "allow"
    assert evaluate({**CASE, "reader": {"kind": "student", "books_out": 0}}, ruleset=rs).decision == "deny"
    entries = trace(rs, CASE, rs.params_on(__import__("datetime").date(2025, 3, 1)))
    assert len(json.dumps(entries, ensure_ascii=False)) < 200_000  # each let spelled out once per rule


def test_fifty_and_two_hundred_chained_lets_evaluate(tmp_path):
    for n in (50, 99):
        root = _copy(tmp_path / str(n))
        lets = ["c0: reader.books_out >= 1"] + [f"c{i}: c{i-1} and reader.kind == \"student\"" for i in range(1, n)]
        _add_lets(root, lets, f"c{n - 1}")
        rs = load_ruleset(root, cache=False)
        assert evaluate(CASE, ruleset=rs).decision == "allow"


def test_lets_over_quantifier_variables_chain_without_blowing_up(tmp_path):
    root = _copy(tmp_path)
    lets = ["q0: x >= 1"] + [f"q{i}: q{i-1} and (q{i-1} or x > 100)" for i in range(1, 18)]
    lets.append("qq: " + json.dumps("any(x in [reader.books_out, 3]: q17)"))
    _add_lets(root, lets, "qq")
    rs = load_ruleset(root, cache=False)
    assert max(len(s) for s in _sources(rs)) < 20_000
    assert evaluate(CASE, ruleset=rs).decision == "allow"


def test_a_condition_at_the_nesting_limit_compiles_and_evaluates(tmp_path):
    root = _copy(tmp_path)
    deep = "reader.books_out >= 1"
    for _ in range(15):  # just under the parser's bracket limit
        deep = f"(not (not ({deep})))"
    # A left-deep sum just under the AST depth limit, no brackets at all.
    long_sum = "reader.books_out" + " + 0" * 58 + " >= 1"
    _add_lets(root, [f"deep: {json.dumps(deep)}", f"long: {json.dumps(long_sum)}"], "deep and long")
    rs = load_ruleset(root, cache=False)
    assert evaluate(CASE, ruleset=rs).decision == "allow"


def test_action_names_that_are_not_identifiers(tmp_path):
    root = _copy(tmp_path)
    schema = json.loads((root / "case.schema.json").read_text(encoding="utf-8"))
    names = ["borrow-book", "借书", "class", "1st"]
    schema["properties"]["action"]["enum"] = names + ["renew"]
    schema["x-action-sections"] = {n: "loan" for n in names + ["renew"]}
    schema.pop("allOf")
    (root / "case.schema.json").write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    for f in ("1.yaml", "2.yaml"):
        p = root / f
        p.write_text(p.read_text(encoding="utf-8").replace("actions: [borrow", "actions: [borrow-book, 借书, class, 1st"),
                     encoding="utf-8")
    rs = load_ruleset(root, cache=False)
    for n in names:
        d = evaluate({**CASE, "action": n}, ruleset=rs)
        assert d.decision == "allow", n


def test_a_wide_rule_set_evaluates(tmp_path):
    root = _copy(tmp_path)
    f = root / "1.yaml"
    rules = "".join(
        f"  - id: wide.r{i}\n    cite: 第一条第一款\n    actions: [borrow]\n    effect: forbid\n"
        f"    when: reader.books_out == {1000 + i}\n    message: 第{i}条\n" for i in range(190))
    f.write_text(f.read_text(encoding="utf-8") + rules, encoding="utf-8")
    rs = load_ruleset(root, cache=False)
    assert evaluate(CASE, ruleset=rs).decision == "allow"
    d = evaluate({**CASE, "reader": {"kind": "student", "books_out": 1189}}, ruleset=rs)
    assert d.decision == "deny" and "wide.r189" in {r.rule for r in d.reasons}


@pytest.mark.parametrize("node", [
    A.Compare("== __import__('os').system('true') ==", A.Literal(1, type=T_INT), A.Literal(1, type=T_INT), type=T_BOOL),
    A.BoolOp("or __import__('os')", (A.Literal(True, type=T_BOOL),), type=T_BOOL),
    A.Call("__import__", (A.Literal("os"),), type=T_BOOL),
    A.Literal(object(), type=T_BOOL),
    A.Path(("os",), root="builtins", type=T_BOOL),
])
def test_code_generation_refuses_anything_outside_its_closed_sets(node):
    # The AST may come from a cache file: an operator or name outside the closed sets never becomes code.
    with pytest.raises(CodegenError):
        build_function("decide", [node], None, {})
