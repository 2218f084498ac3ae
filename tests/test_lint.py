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
    # z3 is installed with the test extra: dead rules and conflicts are proved, never sampled.
    assert all(w.method == "proof" for w in k["never_applies"] + conflicts)
    assert conflicts[0].message.startswith("已证明")
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
                                     "--cases", str(ROOT / "cases"), "--json", "--sample", *a], capture_output=True, cwd=ROOT,
                                    timeout=300)
    before = json.loads(run().stdout)
    assert any(w["kind"] == "cite_text_changed" for w in before)
    after = json.loads(run("--accept").stdout)
    assert not any(w["kind"] == "cite_text_changed" for w in after)


def _planted(tmp_path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "13.yaml").write_text((rules / "13.yaml").read_text(encoding="utf-8") + PLANTED, encoding="utf-8")
    return rules


def test_without_z3_lint_samples_and_says_so(tmp_path, monkeypatch, capsys):
    import xueji_policy.lint as lint_module
    from xueji_policy.cli.main import main

    monkeypatch.setattr(lint_module, "proofs_available", lambda: False)
    rules = _planted(tmp_path)
    assert main(["lint", "--rules", str(rules), "--cases", str(ROOT / "cases"), "--json"]) == 1
    captured = capsys.readouterr()
    assert "未安装 z3-solver" in captured.err and "未经证明" in captured.err
    warnings = json.loads(captured.out)
    sampled = [w for w in warnings if w["kind"] in ("never_applies", "conflicting_permits")]
    # Sampling finds the planted problems; it may also flag a rule whose true cases are rare among
    # the samples (the graduation permits need five grades at once) — hence "未经证明".
    assert {w["rule"] for w in sampled} >= {"transfer.planted_dead", "transfer.planted_next_grade"}
    assert all(w["method"] == "sample" for w in sampled)
    assert all(w["message"].startswith("抽样所得（未经证明）") for w in sampled if w["kind"] == "never_applies")
    assert all("抽样找到" in w["message"] for w in sampled if w["kind"] == "conflicting_permits")
    # --prove insists on a proof: without z3 that is an error (exit 2), in Chinese, no traceback.
    assert main(["lint", "--rules", str(rules), "--cases", str(ROOT / "cases"), "--prove"]) == 2
    err = capsys.readouterr().err
    assert "z3-solver" in err and "Traceback" not in err
