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
    assert find_leaks([("x", "学生 22010420081103035X 的决定")]) != []
    assert find_leaks([("x", "学生 2201**********035X 的决定")]) == []
