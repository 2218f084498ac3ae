"""The command line, run as a user would run it: exit codes, output, no tracebacks."""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from leakscan import record_output

from xueji_policy.contract import schema as packaged_schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
DECISION = jsonschema.Draft202012Validator(packaged_schema("decision.schema.json"))


def cli(*args, stdin: bytes | None = None, env: dict | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "xueji_policy", *args], input=stdin, capture_output=True,
                          cwd=cwd, timeout=120, env={**os.environ, **(env or {})})
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
    ("when: started < window_start or started > window_end", "when: started < window_start or started > 14",
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


# --------------------------------------------------------------------------- --version


def test_version_names_the_package_and_the_rule_set_with_its_sha256():
    from xueji_policy import __version__
    from xueji_policy.engine import default_ruleset

    rs = default_ruleset()
    proc = cli("--version")
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert f"xueji-policy {__version__}" in out
    assert f"版本 {rs.version}" in out and rs.sha256 in out and rs.name in out


def test_version_says_so_when_the_rule_set_does_not_load(tmp_path):
    proc = cli("--version", env={"XUEJI_POLICY_RULES": str(tmp_path / "missing")})
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert "默认规则集无法加载" in err and "规则目录不存在" in err


def test_version_is_the_installed_distributions():
    from importlib.metadata import version

    import xueji_policy

    assert xueji_policy.__version__ == version("xueji-policy")


# --------------------------------------------------------------------------- test [PATH …]


def test_test_takes_an_articles_folder():
    proc = cli("test", "cases/4")
    out = proc.stdout.decode()
    n = len(list((ROOT / "cases" / "4").glob("*.json")))
    assert proc.returncode == 0, out
    assert n > 0 and f"合计 {n} 个黄金案例" in out
    assert "黄金案例：cases/4" in proc.stderr.decode()


def test_test_takes_single_files_and_several_paths():
    proc = cli("test", "cases/4/on_time_report.json", "cases/13", "cases/4/on_time_report.json")
    n = 1 + len(list((ROOT / "cases" / "13").glob("*.json")))
    assert proc.returncode == 0 and f"合计 {n} 个黄金案例" in proc.stdout.decode()


def test_test_of_a_path_that_does_not_exist_is_an_error():
    proc = cli("test", "/nonexistent")
    assert proc.returncode == 2
    assert "/nonexistent：路径不存在" in proc.stderr.decode()


def test_test_finding_no_case_is_an_error_saying_where_it_looked(tmp_path):
    (tmp_path / "4").mkdir()
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    proc = cli("test", str(tmp_path))
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert "没有找到黄金案例" in err and str(tmp_path) in err and "*.json" in err


def _golden_copy(tmp_path, edit) -> Path:
    folder = tmp_path / "cases" / "4"
    folder.mkdir(parents=True)
    doc = json.loads((ROOT / "cases" / "4" / "on_time_report.json").read_text(encoding="utf-8"))
    text = edit(doc)
    (folder / "edited.json").write_text(text if isinstance(text, str) else json.dumps(doc, ensure_ascii=False, indent=2),
                                        encoding="utf-8")
    return folder / "edited.json"


def test_an_unknown_key_in_expect_is_an_error_naming_it(tmp_path):
    def typo(doc):
        doc["expect"]["decison"] = doc["expect"].pop("decision")
    path = _golden_copy(tmp_path, typo)
    line = path.read_text(encoding="utf-8").splitlines().index(next(
        s for s in path.read_text(encoding="utf-8").splitlines() if '"decison"' in s)) + 1
    proc = cli("test", str(path))
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert f"{path}:{line}:" in err
    assert '"decison"（是否应为 "decision"？）' in err


def test_a_golden_file_with_bad_json_is_reported_in_chinese_with_line_and_column(tmp_path):
    path = _golden_copy(tmp_path, lambda doc: '{"case": {},\n  "expect": {"decision": "allow",}}')
    proc = cli("test", str(path))
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert f"{path}:2:" in err and "JSON 格式错误：第 2 行" in err and "逗号" in err
    assert "Expecting" not in err


def test_a_golden_files_keys_are_masked_when_they_hold_an_id_number(tmp_path):
    id_number = json.loads((ROOT / "tests" / "bad_inputs" / "id_number_as_key.json").read_text(encoding="utf-8"))
    key = next(k for k in id_number if k.isdigit() or k[:-1].isdigit())

    def with_id(doc):
        doc["expect"][key] = True
    path = _golden_copy(tmp_path, with_id)
    proc = cli("test", str(path))
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "未知的键" in err
    assert key not in err and key[:4] in err  # 第三十二条: masked, still recognisable


def test_a_failing_golden_case_exits_1(tmp_path):
    def wrong(doc):
        doc["expect"]["decision"] = "deny"
    path = _golden_copy(tmp_path, wrong)
    proc = cli("test", str(path))
    assert proc.returncode == 1 and "决定应为 deny" in proc.stdout.decode()


def test_golden_cases_beside_copied_rules_only_in_the_projects_layout(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (tmp_path / "cases" / "drafts").mkdir(parents=True)  # a cases folder, but not of article folders
    (tmp_path / "cases" / "drafts" / "x.json").write_text("{}", encoding="utf-8")
    for command in ("test", "lint", "report"):
        extra = ("-o", str(tmp_path / "r.html")) if command == "report" else ()
        proc = cli(command, "--rules", str(rules), *extra)
        err = proc.stderr.decode()
        assert "没有本项目的 cases/" in err, (command, err)
        assert proc.returncode == (2 if command == "test" else proc.returncode)
    # Laid out as here (article folders of JSON files): used, and said so.
    shutil.rmtree(tmp_path / "cases" / "drafts")
    shutil.copytree(ROOT / "cases" / "4", tmp_path / "cases" / "4")
    proc = cli("test", "--rules", str(rules))
    assert proc.returncode == 0 and f"黄金案例：{tmp_path / 'cases'}" in proc.stderr.decode()
    proc = cli("lint", "--rules", str(rules), "--cases", str(ROOT / "cases"))
    assert f"黄金案例：{ROOT / 'cases'}" in proc.stderr.decode()


# --------------------------------------------------------------------------- --help in Chinese, exit codes


def _run_main(capsys, *argv) -> tuple[int, str]:
    from xueji_policy.cli.main import main

    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 2
    out, err = capsys.readouterr()
    return code, out + err


def _argparse_english() -> list[str]:
    """The English fragments of every message argparse would show a user (format fields cut out)."""
    from xueji_policy.cli.argparse_zh import english_strings

    frags = []
    for s in english_strings():
        for part in re.split(r"%\(\w+\)[sr]|%[sr]", s):
            part = part.strip(" \n:()")
            if re.search(r"[a-z]{3}", part):
                frags.append(part)
    return frags


def test_the_translation_table_covers_every_user_facing_string_of_this_pythons_argparse():
    import argparse

    from xueji_policy.cli.argparse_zh import english_strings

    developer_only = {"'required' is an invalid argument for positionals", "%r is not callable",
                      ".__call__() not defined", 'argument "-" with mode %r', "cannot have multiple subparser arguments",
                      "cannot merge actions - two groups are named %r", "conflicting subparser alias: %s",
                      "conflicting subparser: %s", "dest= is required for options like %r",
                      "invalid conflict_resolution value: %r", "mutually exclusive arguments must be optional",
                      "conflicting option string: %s"}
    src = inspect.getsource(argparse)
    used = {eval(m) for m in re.findall(r"""_\(((?:'[^']*'|"[^"]*"))\)""", src)}  # noqa: S307 — string literals only
    used |= {eval(m) for m in re.findall(r"""ngettext\(((?:'[^']*'|"[^"]*"))""", src)}  # noqa: S307
    assert used - developer_only <= set(english_strings())


COMMAND_NAMES = ["evaluate", "explain", "check", "lint", "test", "diff", "replay", "serve", "report", "coverage",
                 "template"]


@pytest.mark.parametrize("argv", [[], *([c] for c in COMMAND_NAMES)], ids=lambda a: a[0] if a else "top")
def test_help_is_in_chinese_and_ends_with_the_exit_codes(capsys, argv):
    from xueji_policy.cli.main import EXIT_CODES

    code, text = _run_main(capsys, *argv, "--help")
    assert code == 0
    assert text.startswith("用法：") and "显示本帮助并退出" in text
    leftovers = [f for f in _argparse_english() if f in text]
    assert not leftovers, leftovers
    key = argv[0] if argv else "--version"
    assert "退出码" in text
    for c, zh, _ in EXIT_CODES[key]:
        assert f"  {c}  {zh}" in text


@pytest.mark.parametrize("argv", [
    ["evaluate", "--nope"], ["evaluate", "--jobs", "x", "-"], ["evaluate", "--format", "xml", "-"], ["replay"],
    ["diff", "--dates", "2025-01-01"], ["bogus"], ["serve", "--time-budget", "nan"], ["test", "--c"],
])
def test_usage_errors_are_in_chinese_and_exit_2(capsys, argv):
    code, text = _run_main(capsys, *argv)
    assert code == 2
    assert "错误：" in text and text.startswith("用法：")
    leftovers = [f for f in _argparse_english() if f in text]
    assert not leftovers, leftovers


def test_usage_errors_without_the_translation_would_be_english(capsys):
    """The check above can fail: argparse alone says these in English."""
    import argparse

    parser = argparse.ArgumentParser(prog="x")
    parser.add_argument("need")
    with pytest.raises(SystemExit):
        parser.parse_args([])
    text = capsys.readouterr().err
    assert any(f in text for f in _argparse_english())


def test_argparse_is_english_again_after_the_command_line(capsys):
    import argparse

    _run_main(capsys, "--help")
    assert argparse._("usage: ") == "usage: "


# Every documented exit code, produced by the command (the README's table and --help say the same).
def _replay_fixture(tmp_path) -> list[str]:
    log = tmp_path / "decisions.log"
    cli("evaluate", "examples/transfer_in.json", "--log", str(log))
    return ["replay", str(log), "examples/transfer_in.json"]


EXIT_CASES = [
    ("evaluate", lambda tmp: ["evaluate", "examples/transfer_in.json"], 0),
    ("evaluate", lambda tmp: ["evaluate", "/nonexistent.json"], 2),
    ("evaluate --batch", lambda tmp: ["evaluate", "--batch", "examples/batch.jsonl"], 1),  # two examples are denied
    ("evaluate --batch", lambda tmp: ["evaluate", "--batch", "/nonexistent.jsonl"], 2),
    ("evaluate", lambda tmp: ["evaluate", "tests/fixtures/undetermined_transfer_in.json"], 4),
    ("evaluate --batch", lambda tmp: ["evaluate", "--batch", "tests/fixtures/undetermined_batch.jsonl"], 4),
    ("explain", lambda tmp: ["explain", "examples/transfer_in.json"], 0),
    ("explain", lambda tmp: ["explain", "tests/fixtures/undetermined_transfer_in.json"], 4),
    ("explain", lambda tmp: ["explain", "-", "--format", "yaml"], 2),
    ("check", lambda tmp: ["check", "--rules", "/nonexistent"], 2),
    ("lint", lambda tmp: ["lint", "--rules", "tests/fixtures/library_rules"], 1),
    ("lint", lambda tmp: ["lint", "--cases", "/nonexistent"], 2),
    ("test", lambda tmp: ["test", "/nonexistent"], 2),
    ("coverage", lambda tmp: ["coverage", "--rules", "tests/fixtures/library_rules"], 1),
    ("coverage", lambda tmp: ["coverage", "--rules", "/nonexistent"], 2),
    ("diff", lambda tmp: ["diff", "rules", "rules", "cases/4", "--generated", "0"], 0),
    ("diff", lambda tmp: ["diff", "rules", "rules", "/nonexistent", "--generated", "0"], 2),
    ("replay", _replay_fixture, 0),
    ("replay", lambda tmp: ["replay", "/nonexistent.log", "examples"], 2),
    ("serve", lambda tmp: ["serve", "--port", "x"], 2),
    ("report", lambda tmp: ["report", "-o", str(tmp / "r.html"), "--cases", "cases/4"], 0),
    ("report", lambda tmp: ["report", "-o", str(tmp / "missing" / "r.html")], 2),
    ("--version", lambda tmp: ["--version"], 0),
    ("template", lambda tmp: ["template", "transfer_in", "-o", str(tmp / "t.xlsx")], 0),
    ("template", lambda tmp: ["template", "transfer", "-o", str(tmp / "t.xlsx")], 2),
]


@pytest.mark.parametrize("key,argv,code", EXIT_CASES, ids=[f"{k}-{c}-{i}" for i, (k, _, c) in enumerate(EXIT_CASES)])
def test_each_command_returns_its_documented_exit_codes(tmp_path, key, argv, code):
    from xueji_policy.cli.main import EXIT_CODES

    assert code in {c for c, _, _ in EXIT_CODES[key]}
    proc = cli(*argv(tmp_path))
    assert proc.returncode == code, proc.stderr.decode()[-2000:]
    if code == 2:
        assert "错误" in proc.stderr.decode() and "内部错误" not in proc.stderr.decode()


def test_the_exit_code_cases_cover_every_documented_code():
    from xueji_policy.cli.main import EXIT_CODES

    # Shown elsewhere: allow/deny/check/test/coverage 0 and diff/replay 1 (tests above and test_diff),
    # serve 0 (tests/test_docs_commands.py stops a served port with Ctrl-C), --version 2 (above).
    # Batch 0 and 3: tests/test_batch_edges.py::test_batch_exit_code_is_the_worst_record and ..._3_when_a_line_hit_a_bug.
    elsewhere = {("evaluate", 1), ("explain", 1), ("check", 0), ("test", 0), ("test", 1), ("coverage", 0),
                 ("lint", 0), ("diff", 1), ("replay", 1), ("serve", 0), ("--version", 2),
                 ("evaluate --batch", 0), ("evaluate --batch", 3),
                 # tests/test_verify_cli.py: proved (0), refuted (1), a typo in a property (2).
                 ("verify", 0), ("verify", 1), ("verify", 2)}
    exercised = {(k, c) for k, _, c in EXIT_CASES} | elsewhere
    documented = {(k, c) for k, codes in EXIT_CODES.items() for c, _, _ in codes}
    assert documented <= exercised, documented - exercised


def test_a_path_that_cannot_be_written_is_exit_2_not_an_internal_error(tmp_path):
    proc = cli("report", "-o", str(tmp_path / "no" / "such" / "dir" / "r.html"), "--cases", "cases/4")
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "无法写入报告" in err and "文件或目录不存在" in err
