"""Every kind of output, for every example and golden case: no full ID number anywhere (第三十二条)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from leakscan import find_leaks, record_output

from xueji_policy.audit import DecisionLog
from xueji_policy.engine import default_ruleset, evaluate, evaluate_dict
from xueji_policy.errors import XuejiError
from xueji_policy.explain import decision_text
from xueji_policy.golden import discover

ROOT = Path(__file__).resolve().parent.parent


def _all_cases() -> list[dict]:
    out = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").glob("*.json"))]
    out += [json.loads(p.read_text(encoding="utf-8"))["case"] for p in discover(ROOT / "cases")]
    return out


def test_decisions_explanations_errors_and_logs_never_show_an_id_number(tmp_path):
    rs = default_ruleset()
    texts = []
    with DecisionLog(tmp_path / "d.log") as log:
        for case in _all_cases():
            case = dict(case, case_id=f"案件 {case['student']['id_number']}")  # even when the caller puts it there
            try:
                d = evaluate_dict(case, ruleset=rs, explain=True, on_decision=log)
                texts += [json.dumps(d, ensure_ascii=False), decision_text(d, rs), evaluate(case).model_dump_json()]
            except XuejiError as e:
                texts += [str(e), json.dumps(e.to_dict(), ensure_ascii=False)]
            # The same case made invalid in the ID itself: the error must mask it.
            bad = json.loads(json.dumps(case))
            bad["student"]["id_number"] = bad["student"]["id_number"][:17] + ("0" if bad["student"]["id_number"][-1] != "0" else "1")
            try:
                evaluate_dict(bad, ruleset=rs)
            except XuejiError as e:
                texts += [str(e), e.message_en, json.dumps(e.to_dict(), ensure_ascii=False)]
    texts.append((tmp_path / "d.log").read_text(encoding="utf-8"))
    for t in texts:
        record_output("privacy", t)
    assert find_leaks([("privacy", t) for t in texts]) == []


def test_cli_outputs_never_show_an_id_number(tmp_path):
    src = tmp_path / "cases.jsonl"
    src.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in _all_cases()) + "\n", encoding="utf-8")
    outputs = []
    for args in (["evaluate", "--batch", str(src)], ["explain", str(ROOT / "examples" / "transfer_in.json")],
                 ["evaluate", str(ROOT / "examples" / "sanction.json"), "--format", "text", "--explain"],
                 ["report", "-o", str(tmp_path / "r.html")], ["test", "--coverage", "--json"]):
        proc = subprocess.run([sys.executable, "-m", "xueji_policy", *args], capture_output=True, cwd=ROOT, timeout=300)
        outputs += [proc.stdout.decode(), proc.stderr.decode()]
    outputs.append((tmp_path / "r.html").read_text(encoding="utf-8"))
    for t in outputs:
        record_output("privacy-cli", t)
    assert find_leaks([("cli", t) for t in outputs]) == []


def test_the_scanner_finds_a_planted_number():
    assert find_leaks([("x", "学生 99010420081103018X 的决定")]) != []
    assert find_leaks([("x", "学生 9901**********018X 的决定")]) == []


# --------------------------------------------------------------------------- as an attacker (issue 10, class 7)

import shutil  # noqa: E402

import pytest  # noqa: E402
from leakscan import ids_in  # noqa: E402

from xueji_policy.pipeline import load_ruleset  # noqa: E402
from xueji_policy.privacy import gb11643_check_char, mask_ids_in_text, scrub  # noqa: E402

_FIRST17 = "99080220080315123"
SECRET = _FIRST17 + gb11643_check_char(_FIRST17)  # valid, in the unassigned test region
REAL_REGION = "11010519491231002X"  # the standard's own example: a real region code
_FW = str.maketrans("0123456789", "０１２３４５６７８９")

# Every way of writing one ID number that a reader still reads as that number.
DISGUISES = {
    "plain": SECRET,
    "inside_longer_run": SECRET + "2025",
    "after_longer_run": "2025" + SECRET,
    "x_then_digits": REAL_REGION + "2025",
    "spaced_6_8_4": f"{SECRET[:6]} {SECRET[6:14]} {SECRET[14:]}",
    "spaced_every_digit": " ".join(SECRET),
    "hyphenated_4s": "-".join(SECRET[i:i + 4] for i in range(0, 18, 4)),
    "dotted": ".".join(SECRET[i:i + 6] for i in range(0, 18, 6)),
    "ideographic_space": "\u3000".join(SECRET[i:i + 6] for i in range(0, 18, 6)),
    "zero_width_space": "\u200b".join(SECRET),
    "zero_width_joiner": "\u200d".join(SECRET),
    "word_joiner": "\u2060".join(SECRET),
    "bom": "\ufeff".join(SECRET),
    "soft_hyphen": "\u00ad".join(SECRET),
    "combining_mark": "\u0301".join(SECRET),
    "fullwidth": SECRET.translate(_FW),
    "fullwidth_spaced": " ".join(SECRET.translate(_FW)),
    "mixed_width": SECRET[:9] + SECRET[9:].translate(_FW),
    "lowercase_x": REAL_REGION[:-1] + "x",
    "old_15_digits": "990802080315123",
    "xueji_number": "G" + SECRET,
}


@pytest.mark.parametrize("name", sorted(DISGUISES))
def test_mask_ids_in_text_defeats_every_disguise(name):
    text = f"案件{DISGUISES[name]}号"
    masked = mask_ids_in_text(text)
    assert "*" in masked
    assert not ids_in(masked, {SECRET, REAL_REGION, "990802080315123"})
    assert ids_in(text, {SECRET, REAL_REGION, "990802080315123"})  # and the scanner sees the disguise


def test_ordinary_numbers_are_left_alone():
    for text in ("2025-TI-0001", "办理期限 2025-09-01 2025-09-15", "班额 [46, 47, 45, 48, 44]", "电话 138 0013 8000",
                 "第十三条第（一）项第4目：校额上限3000人", "sha256 3f2a9b8c7d6e5f4a3b2c1d0e9f8a7b6c"):
        assert mask_ids_in_text(text) == text


def test_scrub_masks_every_string_key_and_big_int_but_not_digests():
    value = {"a": [f"x{SECRET}", int(SECRET[:17]), (SECRET,)], SECRET: {"n": 5, "sha256": "1" * 64},
             "nested": {"deep": [[{"k": " ".join(SECRET)}]]}}
    out = scrub(value)
    assert not ids_in(json.dumps(out, ensure_ascii=False, default=str), {SECRET})
    assert out[mask_ids_in_text(SECRET)]["sha256"] == "1" * 64 and out[mask_ids_in_text(SECRET)]["n"] == 5
    assert isinstance(out["a"][2], tuple)


def _case(case_id: str) -> dict:
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    case["case_id"] = case_id
    return case


@pytest.mark.parametrize("name", sorted(DISGUISES))
def test_a_disguised_id_in_case_id_never_comes_out(name, tmp_path):
    case = _case(f"案件{DISGUISES[name]}"[:64])
    rs = default_ruleset()
    texts = []
    with DecisionLog(tmp_path / "d.log") as log:
        d = evaluate_dict(case, ruleset=rs, explain=True, on_decision=log)
    texts += [json.dumps(d, ensure_ascii=False), decision_text(d, rs), (tmp_path / "d.log").read_text("utf-8")]
    bad = dict(case, date="2025-02-30")  # an error that echoes nothing but must not leak either
    try:
        evaluate_dict(bad, ruleset=rs)
    except XuejiError as e:
        texts += [str(e), e.message_en, json.dumps(e.to_dict(), ensure_ascii=False)]
    for t in texts:
        record_output("privacy-attack", t)
        assert not ids_in(t, {SECRET, REAL_REGION, "990802080315123"}), t[:300]


def test_a_disguised_id_in_case_id_never_comes_out_of_the_cli(tmp_path):
    lines = [json.dumps(_case(f"案件{d}"[:64]), ensure_ascii=False) for d in DISGUISES.values()]
    src = tmp_path / "cases.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = tmp_path / "one.json"
    one.write_text(lines[1], encoding="utf-8")
    outputs = []
    for args in (["evaluate", "--batch", str(src), "--log", str(tmp_path / "d.log")],
                 ["evaluate", str(one), "--format", "text", "--explain"], ["explain", str(one), "--format", "json"]):
        proc = subprocess.run([sys.executable, "-m", "xueji_policy", *args], capture_output=True, cwd=ROOT, timeout=300)
        assert proc.returncode in (0, 1), proc.stderr.decode()[-2000:]
        outputs += [proc.stdout.decode(), proc.stderr.decode()]
    outputs.append((tmp_path / "d.log").read_text("utf-8"))
    for t in outputs:
        record_output("privacy-attack-cli", t)
        assert not ids_in(t, {SECRET, REAL_REGION, "990802080315123"})


def _hostile_rules(tmp_path: Path, *, broken: bool = False) -> Path:
    """A copy of rules/ (in a directory whose name is an ID number) with ID numbers written
    into a rule's message, message_unmet, reading and a literal of its condition."""
    root = tmp_path / f"规则{SECRET}" / "rules"
    shutil.copytree(ROOT / "rules", root)
    shutil.copytree(ROOT / "cases", root.parent / "cases")
    p = root / "13.yaml"
    text = p.read_text(encoding="utf-8")
    old = '    when: transfer.reason in ["hukou_move", "residence_move", "guardian_job_transfer"]\n'
    assert old in text
    field = "student.nmae" if broken else "student.name"
    text = text.replace(old, '    when: transfer.reason in ["hukou_move", "residence_move", "guardian_job_transfer"]'
                             f' and {field} != "{SECRET}"\n'
                             f'    reading: 参见 {DISGUISES["fullwidth"]} 与 {DISGUISES["zero_width_space"]}\n', 1)
    text = text.replace("message: 因家庭户籍跨省", f"message: 如学生{DISGUISES['spaced_6_8_4']}，因家庭户籍跨省", 1)
    text = text.replace("message_unmet: 转学须因", f"message_unmet: {SECRET}2025 转学须因", 1)
    p.write_text(text, encoding="utf-8")
    return root


def test_ids_in_rule_text_never_reach_decisions_explanations_reports_or_rule_listings(tmp_path):
    rules = _hostile_rules(tmp_path)
    rs = load_ruleset(rules, cache=False)
    assert rs.rule("transfer.grounds").when(_case("x"), rs.params_on(__import__("datetime").date(2025, 8, 25)), {}) is not None
    texts = []
    case = _case("2025-TI-0001")
    d = evaluate_dict(case, ruleset=rs, explain=True)
    texts += [json.dumps(d, ensure_ascii=False), decision_text(d, rs)]
    unmet = dict(case, transfer=dict(case["transfer"], reason="other"))
    d2 = evaluate_dict(unmet, ruleset=rs, explain=True)
    assert d2["decision"] == "deny"
    texts += [json.dumps(d2, ensure_ascii=False), decision_text(d2, rs)]
    # The literal still decides: a student named by that very number is refused the permit.
    named = dict(case, student=dict(case["student"], name=SECRET))
    assert evaluate_dict(named, ruleset=rs)["decision"] == "deny"
    for args in (["evaluate", "--rules", str(rules), str(ROOT / "examples" / "transfer_in.json"), "--explain"],
                 ["explain", "--rules", str(rules), str(ROOT / "examples" / "transfer_in.json")],
                 ["report", "--rules", str(rules), "-o", str(tmp_path / "r.html")],
                 ["lint", "--rules", str(rules)], ["coverage", "--rules", str(rules), "--json"]):
        proc = subprocess.run([sys.executable, "-m", "xueji_policy", *args], capture_output=True, cwd=ROOT, timeout=300)
        assert proc.returncode in (0, 1), (args, proc.stderr.decode()[-2000:])
        texts += [proc.stdout.decode(), proc.stderr.decode()]
    texts.append((tmp_path / "r.html").read_text("utf-8"))
    for t in texts:
        record_output("privacy-rules", t)
        assert not ids_in(t, {SECRET}), t[:300]


def test_ids_in_a_rules_path_and_a_broken_rule_line_never_reach_load_errors(tmp_path):
    rules = _hostile_rules(tmp_path, broken=True)
    texts = []
    try:
        load_ruleset(rules, cache=False)
    except XuejiError as e:
        texts += [str(e), e.message_en, json.dumps(e.to_dict(), ensure_ascii=False)]
    else:
        pytest.fail("a misspelt field must not load")
    for args in (["check", "--rules", str(rules)], ["check", "--rules", str(rules), "--json"],
                 ["evaluate", "--rules", str(rules), str(ROOT / "examples" / "transfer_in.json")]):
        proc = subprocess.run([sys.executable, "-m", "xueji_policy", *args], capture_output=True, cwd=ROOT, timeout=300)
        assert proc.returncode == 2, (args, proc.stderr.decode()[-2000:])
        texts += [proc.stdout.decode(), proc.stderr.decode()]
    assert any("nmae" in t for t in texts)  # the error is there, located …
    for t in texts:
        record_output("privacy-load-errors", t)
        assert not ids_in(t, {SECRET}), t[:500]  # … without the number in its path or its source line


def test_an_old_form_id_typed_into_a_numeric_field_is_masked_in_the_trace():
    old_form = 990802080315123  # 15 digits: within the integers a case may hold
    case = _case("2025-TI-0001")
    case["transfer"]["to_school"]["enrollment"] = old_form
    rs = default_ruleset()
    d = evaluate_dict(case, ruleset=rs, explain=True)
    texts = [json.dumps(d, ensure_ascii=False), decision_text(d, rs)]
    for t in texts:
        record_output("privacy-numeric", t)
        assert str(old_form) not in t
    assert "9908*******5123" in texts[0]


def test_shipped_data_holds_only_test_region_id_numbers():
    """Examples, golden cases and test inputs name nobody: region codes 99xxxx are unassigned."""
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "test_region_ids.py"), "--check"],
                          capture_output=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout.decode()[-2000:]
