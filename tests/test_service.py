"""Reload safety: a broken rule set never replaces a working one; readers never see half a set."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from xueji_policy.service import PolicyService

ROOT = Path(__file__).resolve().parent.parent


def test_a_broken_reload_keeps_the_old_rules_serving(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    svc = PolicyService(rules)
    before = svc.ruleset.sha256
    f = rules / "13.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("params.school_cap", "params.school_capp", 1), encoding="utf-8")
    result = svc.reload()
    assert not result.ok and result.sha256 == before and svc.ruleset.sha256 == before
    assert "school_capp" in result.error.errors[0].render()
    assert result.to_dict()["errors"][0]["line"] > 0
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    assert svc.evaluate(case)["decision"] == "allow"
    f.write_text(f.read_text(encoding="utf-8").replace("params.school_capp", "params.school_cap"), encoding="utf-8")
    assert svc.reload().ok and svc.last_error is None


def test_reloads_under_concurrent_evaluations(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    svc = PolicyService(rules)
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    failures, stop = [], threading.Event()

    def worker():
        while not stop.is_set():
            try:
                d = svc.evaluate(case)
                assert d["decision"] == "allow", d
            except Exception as e:  # noqa: BLE001 - any failure is the test's finding
                failures.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    p = rules / "parameters.yaml"
    good = p.read_text(encoding="utf-8")
    for i in range(6):
        p.write_text(good if i % 2 else good.replace("parameters:", "parameters:\n\tbroken", 1), encoding="utf-8")
        svc.reload()
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
