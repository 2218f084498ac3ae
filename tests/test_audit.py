"""Decision records: no personal data, whole lines even when the writer is killed, replayable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from xueji_policy.audit import DecisionLog, read_log
from xueji_policy.engine import default_ruleset, evaluate, evaluate_dict
from xueji_policy.generate import generated_cases

ROOT = Path(__file__).resolve().parent.parent


def example(name):
    return json.loads((ROOT / "examples" / f"{name}.json").read_text(encoding="utf-8"))


def test_a_record_holds_the_decision_and_only_salted_hashes(tmp_path, monkeypatch):
    monkeypatch.delenv("XUEJI_POLICY_LOG_SALT", raising=False)
    case = example("transfer_in")
    case["case_id"] = f"申请-{case['student']['id_number']}"  # an ID number inside the caller's id
    with DecisionLog(tmp_path / "d.log") as log:
        d = evaluate(case, on_decision=log)
    text = (tmp_path / "d.log").read_text(encoding="utf-8")
    assert case["student"]["id_number"] not in text and case["student"]["name"] not in text
    (n, rec), = list(read_log(tmp_path / "d.log"))
    assert rec["decision"] == d.decision and rec["basis"] == [r.rule for r in d.basis]
    assert rec["ruleset_sha256"] == d.ruleset.sha256 and len(rec["student_id_hash"]) == 64
    assert "**********" in rec["case_id"]
    assert (tmp_path / "d.log.salt").stat().st_mode & 0o077 == 0  # the salt is private


def test_the_same_id_hashes_the_same_under_one_salt_and_differently_under_another(tmp_path, monkeypatch):
    case = example("suspension")
    monkeypatch.setenv("XUEJI_POLICY_LOG_SALT", "salt-a")
    a = DecisionLog(tmp_path / "a.log").record_for(case, evaluate_dict(case))
    b = DecisionLog(tmp_path / "b.log").record_for(case, evaluate_dict(case))
    monkeypatch.setenv("XUEJI_POLICY_LOG_SALT", "salt-b")
    c = DecisionLog(tmp_path / "c.log").record_for(case, evaluate_dict(case))
    assert a["student_id_hash"] == b["student_id_hash"] != c["student_id_hash"]


def test_a_log_written_while_the_process_is_killed_has_no_torn_line(tmp_path):
    rs = default_ruleset()
    src = tmp_path / "in.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for _ in range(8):
            for case in generated_cases(rs, 2500, seed=9):
                f.write(json.dumps(case, ensure_ascii=False) + "\n")
    log = tmp_path / "d.log"
    proc = subprocess.Popen([sys.executable, "-m", "xueji_policy", "evaluate", "--batch", str(src), "--jobs", "2",
                             "--log", str(log)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                            start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and (not log.exists() or log.stat().st_size < 200_000):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its worker processes, mid-run
    proc.wait(timeout=30)
    lines = log.read_bytes().split(b"\n")
    # Every line but the last is whole.  The last is whole too unless SIGKILL landed inside a
    # write() (Linux may stop a write between pages): such a torn tail is ended by the next writer.
    records = [json.loads(x) for x in lines[:-1]]
    assert len(records) > 100 and all("case_hash" in r for r in records)
    with DecisionLog(log) as again:
        again(example("transfer_in"), evaluate_dict(example("transfer_in")))
    got = list(read_log(log))
    assert got[-1][1] is not None and all(rec is not None for _, rec in got[:len(records)])
    assert len(got) == len(records) + 1 + (lines[-1] != b"")


def test_replay_reports_decisions_that_would_now_differ(tmp_path):
    import shutil

    cases = [example("registration"), example("transfer_in")]
    src = tmp_path / "cases.jsonl"
    src.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n", encoding="utf-8")
    log = tmp_path / "d.log"
    run = lambda *a: subprocess.run([sys.executable, "-m", "xueji_policy", *a], capture_output=True, cwd=ROOT,
                                    timeout=120)
    assert run("evaluate", "--batch", str(src), "--log", str(log)).returncode == 0
    same = run("replay", str(log), str(src))
    assert same.returncode == 0 and "0 个有变化" in same.stdout.decode()
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    p = rules / "parameters.yaml"
    lines = p.read_text(encoding="utf-8").split("\n")
    i = lines.index("  class_cap:")
    j = next(k for k in range(i, len(lines)) if "value:" in lines[k])
    lines[j] = lines[j].replace("value: 50", "value: 20")
    p.write_text("\n".join(lines), encoding="utf-8")
    changed = run("replay", str(log), str(src), "--rules", str(rules), "--json")
    report = json.loads(changed.stdout)
    # class sizes of 48 (registration) and 44–48 (the transfer's grade) are all over a cap of 20
    assert changed.returncode == 1 and [c["action"] for c in report["changed"]] == ["registration", "transfer_in"]
    log.write_bytes(log.read_bytes() + b'{"time": "2026-')  # a torn last line is skipped and reported
    torn = json.loads(run("replay", str(log), str(src), "--json").stdout)
    assert torn["torn_lines"] == [3] and torn["replayed"] == 2
