"""Change impact: exactly the cases an amendment flips, and nothing else."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

from xueji_policy.diff import collect_cases, diff, grouped
from xueji_policy.pipeline import load_ruleset

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = Path(__file__).parent / "fixtures" / "library_rules"


def _copy_with(tmp_path: Path, param: str, value: int) -> Path:
    """A copy of rules/ with one parameter's value changed (its values line rewritten)."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    p = rules / "parameters.yaml"
    lines = p.read_text(encoding="utf-8").split("\n")
    start = lines.index(f"  {param}:")
    i = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("- {effective_from:"))
    lines[i] = lines[i].rsplit("value:", 1)[0] + f"value: {value}}}"
    p.write_text("\n".join(lines), encoding="utf-8")
    return rules


def test_changing_the_class_cap_flips_exactly_the_cases_near_the_cap(tmp_path):
    old = load_ruleset(ROOT / "rules")
    new = load_ruleset(_copy_with(tmp_path, "class_cap", 45))
    assert new.params["class_cap"].values[0][1] == 45
    cases = collect_cases([ROOT / "cases"], new, generated=600, seed=3)
    changes = diff(old, new, cases)
    assert changes
    for ch in changes:
        touched = {r for k in ("reasons", "basis") for r, _ in ch.new[k]} ^ {r for k in ("reasons", "basis") for r, _ in ch.old[k]}
        assert touched & {"registration.class_cap", "transfer.target_full"}, ch.summary
    # Independently: a case changes iff some class size it carries lies in [45, 50).
    def near_cap(case):
        sizes = [case.get("registration", {}).get("class_size")]
        for side in ("to_school",):
            sizes += case.get("transfer", {}).get(side, {}).get("grade_class_sizes") or []
        return any(s is not None and 45 <= s < 50 for s in sizes)
    changed = {label for label, *_ in ((c.label,) for c in changes)}
    for label, case in cases:
        if label in changed:
            assert near_cap(case), label
    assert set(grouped(changes)) <= {"4", "13"}


def test_an_unchanged_copy_changes_nothing(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    old, new = load_ruleset(ROOT / "rules"), load_ruleset(rules)
    assert diff(old, new, collect_cases([ROOT / "cases"], new, generated=200, seed=1)) == []


def test_dates_compare_the_rules_in_force_on_two_days():
    rs = load_ruleset(LIBRARY)
    cases = [("banned-teacher", {"action": "renew", "date": "2025-03-03",
                                 "reader": {"kind": "teacher", "banned": True}, "loan": {"due": "2025-12-31"}})]
    changes = diff(rs, rs, cases, old_date=dt.date(2025, 3, 3), new_date=dt.date(2025, 8, 1))
    assert [c.label for c in changes] == ["banned-teacher"]
    assert changes[0].old["decision"] == "deny" and changes[0].new["decision"] == "allow"


def test_cli_diff_on_two_directories_and_on_git_revisions(tmp_path):
    new = _copy_with(tmp_path, "school_cap", 2999)
    proc = subprocess.run([sys.executable, "-m", "xueji_policy", "diff", str(ROOT / "rules"), str(new),
                           "--generated", "100"], capture_output=True, cwd=ROOT, timeout=300)
    out = proc.stdout.decode()
    assert proc.returncode == 1 and "第四条" in out and "共比较" in out, proc.stderr.decode()
    proc = subprocess.run([sys.executable, "-m", "xueji_policy", "diff", "--git", "HEAD", "HEAD",
                           "--generated", "50"], capture_output=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode() + proc.stdout.decode()
    assert "0 个的决定有变化" in proc.stdout.decode()
