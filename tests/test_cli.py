"""The command line, run as a user would run it: exit codes, output, no tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from leakscan import record_output

from xueji_policy.ruleset import packaged_schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
DECISION = jsonschema.Draft202012Validator(packaged_schema("decision.schema.json"))


def cli(*args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "xueji_policy", *args], input=stdin, capture_output=True,
                          cwd=ROOT, timeout=120)
    assert b"Traceback" not in proc.stderr + proc.stdout, proc.stderr.decode()
    record_output(" ".join(args), proc.stdout, proc.stderr)
    return proc


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_evaluate_prints_a_valid_decision_for_every_example(path):
    proc = cli("evaluate", str(path))
    decision = json.loads(proc.stdout)
    DECISION.validate(decision)
    assert proc.returncode == (0 if decision["decision"] == "allow" else 1)


def test_evaluate_reads_stdin_and_prints_chinese_text():
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    case["transfer"]["to_school"]["enrollment"] = 3000
    proc = cli("evaluate", "-", "--format", "text", stdin=json.dumps(case, ensure_ascii=False).encode())
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert "不予办理" in out and "第十三条第（一）项第4目" in out


@pytest.mark.parametrize("payload,code", [
    (b"{not json", "malformed_json"),
    (b"", "malformed_json"),
    (b"[1, 2]", "invalid_case"),
    (b'{"action": "teleport", "date": "2025-01-01", "student": {}}', "invalid_case"),
])
def test_bad_input_exits_2_with_a_clear_message(payload, code):
    proc = cli("evaluate", "-", stdin=payload)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("错误：")


def test_case_before_the_rules_are_in_force_exits_2():
    case = json.loads((ROOT / "examples" / "registration.json").read_text(encoding="utf-8"))
    case["date"] = "2024-08-01"
    proc = cli("evaluate", "-", stdin=json.dumps(case).encode())
    assert proc.returncode == 2 and "2024-08-16" in proc.stderr.decode()


def test_check_passes_on_the_shipped_rules():
    proc = cli("check")
    assert proc.returncode == 0 and "规则检查通过" in proc.stdout.decode()


@pytest.mark.parametrize("old,new,expect", [
    ("transfer.to_school.enrollment >= params.school_cap", "transfer.to_shcool.enrollment >= params.school_cap",
     "未知字段 'transfer.to_shcool.enrollment'（是否应为 'to_school'？）"),
    ("when: date < window_start or date > window_end", "when: date < window_start or date > 14",
     "不能比较日期与整数"),
    ("cite: 第十三条第（一）项第4目", "cite: 第十三条第（一）项第14目", "第十三条第（一）项没有第14目"),
])
def test_check_reports_file_line_column_and_exits_nonzero(tmp_path, old, new, expect):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    f = rules / "13.yaml"
    text = f.read_text(encoding="utf-8")
    assert old in text
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    proc = cli("check", "--rules", str(rules))
    err = proc.stderr.decode()
    assert proc.returncode == 2
    line_no = text[: text.index(old)].count("\n") + 1
    assert f"rules/13.yaml:{line_no}:" in err and expect in err
    assert "^" in err


def test_test_command_prints_a_table_per_article():
    proc = cli("test")
    out = proc.stdout.decode()
    assert "第十三条" in out and "合计" in out
    assert proc.returncode == 0, out


def test_coverage_command_passes():
    proc = cli("coverage")
    assert proc.returncode == 0, proc.stdout.decode()[-3000:]
    assert "第三十八条" in proc.stdout.decode()


def test_explain_shows_the_failing_sub_conditions_with_their_values():
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    case["transfer"]["to_school"]["enrollment"] = 3000
    case["date"], case["transfer"]["semester_start"] = "2025-09-26", "2025-09-15"
    proc = cli("explain", "-", stdin=json.dumps(case, ensure_ascii=False).encode())
    out = proc.stdout.decode()
    assert proc.returncode == 1
    assert "● 禁止 第十三条第（一）项第4目 [transfer.target_full] —— 适用" in out
    assert "transfer.to_school.enrollment = 3000 ≥ params.school_cap = 3000 → 成立" in out
    assert case["student"]["id_number"] not in out
    proc = cli("explain", "-", "--format", "json", stdin=json.dumps(case, ensure_ascii=False).encode())
    trace = json.loads(proc.stdout)["trace"]
    full = next(t for t in trace if t["rule"] == "transfer.target_full")
    assert full["applied"] and full["when"]["children"][0]["value"] is True
    # On an allowed case each due date is explained with the holidays and 调休 days it skipped.
    case["transfer"]["to_school"]["enrollment"] = 2000
    allowed = cli("explain", "-", stdin=json.dumps(case, ensure_ascii=False).encode()).stdout.decode()
    assert "2025-10-01 国庆节" in allowed and "2025-09-28 调休上班" in allowed and "= 2025-10-16" in allowed


def test_test_coverage_reports_rules_and_sub_conditions():
    proc = cli("test", "--coverage", "--json")
    out = json.loads(proc.stdout)
    cov = out["coverage"]["transfer.target_full"]
    assert cov["applies"] > 0 and cov["does_not_apply"] > 0
    assert {b["where"] for b in cov["branches"]} >= {"when/0", "when/1"}
    text = cli("test", "--coverage").stdout.decode()
    assert "子条件" in text and "覆盖" in text
