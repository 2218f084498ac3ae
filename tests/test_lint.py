"""Lint flags a planted dead rule, an unused parameter, conflicting permits and a changed cite."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from xueji_policy.golden import run_all
from xueji_policy.lint import lint
from xueji_policy.pipeline import load_ruleset

ROOT = Path(__file__).resolve().parent.parent

PLANTED = """
  - id: transfer.planted_dead
    cite: 第十三条第（一）项
    actions: [transfer_in]
    effect: forbid
    when: transfer.reason == "other" and transfer.reason == "hukou_move"
    message: 永不适用的规则（测试）

  - id: transfer.planted_same_grade
    cite: 第十三条第（二）项
    actions: [transfer_in]
    effect: permit
    when: transfer.from_abroad == true
    message: 测试
    outcome: same_grade

  - id: transfer.planted_next_grade
    cite: 第十三条第（二）项
    actions: [transfer_in]
    effect: permit
    when: transfer.reason == "hukou_move"
    message: 测试
    outcome: next_grade_allowed
"""

UNUSED = """
  planted_unused:
    title: 无人使用的参数
    type: int
    cite: 第四条第一款
    values:
      - {effective_from: 2024-08-16, value: 7}
"""


def _kinds(warnings) -> dict[str, list]:
    out: dict[str, list] = {}
    for w in warnings:
        out.setdefault(w.kind, []).append(w)
    return out


def test_the_shipped_rules_lint_clean():
    rs = load_ruleset()
    warnings = lint(rs, run_all(ROOT / "cases", rs))
    assert warnings == [], "\n".join(w.render() for w in warnings)


def test_lint_flags_planted_problems(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "13.yaml").write_text((rules / "13.yaml").read_text(encoding="utf-8") + PLANTED, encoding="utf-8")
    (rules / "parameters.yaml").write_text((rules / "parameters.yaml").read_text(encoding="utf-8") + UNUSED,
                                           encoding="utf-8")
    text13 = (rules / "13.yaml").read_text(encoding="utf-8")
    (rules / "13.yaml").write_text(text13.replace("4.转入学校已达到校额上限3000人的", "4.转入学校已达到校额上限3200人的"),
                                   encoding="utf-8")
    rs = load_ruleset(rules)
    k = _kinds(lint(rs, run_all(ROOT / "cases", rs)))
    assert [w.rule for w in k["never_applies"]] == ["transfer.planted_dead"]
    assert [w.message.split("（")[0] for w in k["unused_parameter"]] == ["参数 planted_unused"]
    conflicts = k["conflicting_permits"]
    assert len(conflicts) == 1 and "transfer.planted_same_grade" in conflicts[0].message \
        and "transfer.planted_next_grade" in conflicts[0].message
    assert {w.rule for w in k["cite_text_changed"]} >= {"transfer.target_full"}
    assert {w.rule for w in k["untested_rule"]} >= {"transfer.planted_dead"}
    # The file positions point at the rules.
    dead = k["never_applies"][0]
    assert dead.loc.file.endswith("13.yaml") and dead.loc.line > 200


def test_accept_records_the_review_and_silences_the_warning(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    p = rules / "13.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("4.转入学校已达到校额上限3000人的", "4.转入学校已达到校额上限3200人的"),
                 encoding="utf-8")
    run = lambda *a: subprocess.run([sys.executable, "-m", "xueji_policy", "lint", "--rules", str(rules),
                                     "--cases", str(ROOT / "cases"), "--json", *a], capture_output=True, cwd=ROOT,
                                    timeout=300)
    before = json.loads(run().stdout)
    assert any(w["kind"] == "cite_text_changed" for w in before)
    after = json.loads(run("--accept").stdout)
    assert not any(w["kind"] == "cite_text_changed" for w in after)
