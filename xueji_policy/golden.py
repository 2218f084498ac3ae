"""Golden cases: ``cases/<article>/<name>.json`` files that prove each rule.

A golden file is ``{"case": {…}, "expect": {…}}`` where ``expect`` holds

* ``decision``: ``allow`` | ``deny``;
* ``outcome`` (optional): the expected outcome, ``null`` included;
* ``cites``: cite strings that must appear among the reasons (deny) or the basis (allow);
* ``rules`` (optional): rule ids that must appear there;
* ``obligations`` (optional): ``[{"rule": id | "cite": cite, "due": "YYYY-MM-DD" | null}]`` that must
  be present (matched by rule id, or by cite when no id is given);
* ``approvals`` (optional): the exact approvals;
* or ``error``: the ``code`` of the error the case must raise (e.g. ``not_in_force``).

Used by pytest (``cases/conftest.py``), by ``xueji-policy test`` and by the rule
coverage check (every rule applies in one golden case and not in another).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

from .errors import XuejiError
from .ruleset import RuleSet


@dataclass
class GoldenResult:
    path: Path
    article: str
    name: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    applied: dict[str, bool] = field(default_factory=dict)  # rule id → applied in this case
    decision: dict | None = None
    case: dict | None = None


def default_cases_dir(rs: RuleSet) -> Path:
    return rs.path.parent / "cases"


def discover(root: Path) -> list[Path]:
    return sorted(root.glob("*/*.json"), key=lambda p: (_article_key(p.parent.name), p.name))


def _article_key(name: str):
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def rule_applications(rs: RuleSet, case: dict, decision: dict) -> dict[str, bool]:
    """For every rule of the case's action in force on its date: did it apply?

    An obligation is what must follow an allowed action, so it counts as applied
    only when the decision is allow and its condition holds.
    """
    day = _dt.date.fromisoformat(case["date"])
    params = rs.params_on(day)
    ar = rs.rules_for(case["action"])
    env: dict = {}
    out = {r.id: bool(r.applies(case, params, env)) for r in ar.permits + ar.forbids if r.in_force(day)}
    allowed = decision["decision"] == "allow"
    for r in ar.obligations:
        if r.in_force(day):
            out[r.id] = allowed and bool(r.applies(case, params, env))
    return out


def run_file(path: Path, rs: RuleSet) -> GoldenResult:
    from .engine import evaluate_dict

    res = GoldenResult(path, path.parent.name, path.stem, ok=False)
    from .validate import read_case_file

    try:
        doc = read_case_file(path)  # read as a case file is read: the same bounds and errors
        case, expect = doc["case"], doc["expect"]
    except XuejiError as e:
        res.problems.append(f"无法读取黄金案例：{e.message}")
        return res
    except (KeyError, TypeError) as e:
        res.problems.append(f"无法读取黄金案例：缺少 {e}")
        return res
    try:
        decision = evaluate_dict(case, ruleset=rs)
    except XuejiError as e:
        if expect.get("error") == e.code:
            res.ok = True
        else:
            res.problems.append(f"出错 {e.code}：{e.message}" + (f"（期望错误 {expect['error']}）" if "error" in expect else ""))
        return res
    if "error" in expect:
        res.problems.append(f"期望错误 {expect['error']}，实际得到决定 {decision['decision']}")
        return res
    res.decision = decision
    res.case = case
    res.applied = rule_applications(rs, case, decision)
    res.problems = compare(decision, expect)
    res.ok = not res.problems
    return res


def compare(decision: dict, expect: dict) -> list[str]:
    problems = []
    if decision["decision"] != expect.get("decision"):
        problems.append(f"决定应为 {expect.get('decision')}，实际为 {decision['decision']}")
    if "outcome" in expect and decision["outcome"] != expect["outcome"]:
        problems.append(f"结果应为 {expect['outcome']}，实际为 {decision['outcome']}")
    shown = decision["reasons"] if decision["decision"] == "deny" else decision["basis"]
    got_cites = {r["cite"] for r in shown}
    for c in expect.get("cites", []):
        if c not in got_cites:
            problems.append(f"缺少引用 {c}（实际：{'、'.join(sorted(got_cites)) or '无'}）")
    got_rules = {r["rule"] for r in shown}
    for r in expect.get("rules", []):
        if r not in got_rules:
            problems.append(f"缺少规则 {r}（实际：{'、'.join(sorted(got_rules)) or '无'}）")
    for ob in expect.get("obligations", []):
        key = "rule" if "rule" in ob else "cite"
        matches = [o for o in decision["obligations"] if o[key] == ob.get(key)]
        if not matches:
            problems.append(f"缺少义务 {ob.get(key)}")
        elif "due" in ob and all(o["due"] != ob["due"] for o in matches):
            problems.append(f"义务 {ob.get(key)} 的期限应为 {ob['due']}，实际为 {'、'.join(str(o['due']) for o in matches)}")
    if "approvals" in expect and sorted(decision["approvals"]) != sorted(expect["approvals"]):
        problems.append(f"审批应为 {expect['approvals']}，实际为 {decision['approvals']}")
    return problems


def run_all(root: Path, rs: RuleSet) -> list[GoldenResult]:
    return [run_file(p, rs) for p in discover(root)]


def rule_coverage(rs: RuleSet, results: list[GoldenResult]) -> dict[str, tuple[int, int]]:
    """rule id → (golden cases where it applied, where it was checked and did not)."""
    cov = {r.id: [0, 0] for r in rs.rules}
    for res in results:
        for rid, applied in res.applied.items():
            if rid in cov:
                cov[rid][0 if applied else 1] += 1
    return {k: (a, b) for k, (a, b) in cov.items()}
