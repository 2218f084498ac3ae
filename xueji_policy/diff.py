"""Change impact: which cases would be decided differently under an amended rule set?

Both rule sets (two directories, two git revisions, or one rule set as in force on two
dates) judge the same cases — the golden cases plus a reproducible set of generated
ones — and every case whose decision, outcome, reasons, basis, obligations (due dates
included) or approvals change is listed, grouped by the article the change comes from.
"""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .cites import int_to_cn
from .contract import decision_labels
from .engine import evaluate_dict
from .errors import XuejiError
from .privacy import mask_ids_in_text, scrub
from .ruleset import RuleSet


@dataclass
class Change:
    label: str  # where the case came from
    action: str
    article: str  # the article the change is attributed to ("13", or "错误")
    old: dict
    new: dict
    kinds: list[str] = field(default_factory=list)
    summary: str = ""

    def to_dict(self) -> dict:
        return {"case": self.label, "action": self.action, "article": self.article, "kinds": self.kinds,
                "summary": self.summary, "old": self.old, "new": self.new}


def signature(rs: RuleSet, case: dict, as_of: _dt.date | None = None) -> dict:
    """What of a decision a reviewer compares (not the rule set's own version and hash)."""
    try:
        d = evaluate_dict(case, ruleset=rs, as_of=as_of)
    except XuejiError as e:
        return {"error": e.code, "message": e.message}
    return {
        "decision": d["decision"],
        "outcome": d["outcome"],
        "reasons": sorted((r["rule"], r["cite"]) for r in d["reasons"]),
        "basis": sorted((r["rule"], r["cite"]) for r in d["basis"]),
        "obligations": sorted((o["rule"], o["cite"], o["due"] or "") for o in d["obligations"]),
        "approvals": d["approvals"],
    }


_KIND_ZH = {"decision": "决定", "outcome": "结果", "reasons": "理由", "basis": "依据", "obligations": "义务/期限",
            "approvals": "审批", "error": "错误"}
_DECISION_ZH = decision_labels()  # the decision schema's x-labels


def _describe(sig: dict) -> str:
    if "error" in sig:
        return f"错误 {sig['error']}"
    return _DECISION_ZH[sig["decision"]] + (f"（{sig['outcome']}）" if sig["outcome"] else "")


def _article_of(rule_cites: Iterable[tuple]) -> str | None:
    for item in rule_cites:
        cite = item[1]
        if cite.startswith("第") and "条" in cite:
            from .cites import parse_cite

            try:
                return str(parse_cite(cite).article)
            except ValueError:
                continue
    return None


def compare(label: str, case: dict, old: dict, new: dict) -> Change | None:
    if old == new:
        return None
    kinds = [k for k in ("error", "decision", "outcome", "reasons", "basis", "obligations", "approvals")
             if old.get(k) != new.get(k)]
    parts = []
    if "error" in old or "error" in new:
        article = "错误"
        parts.append(f"{_describe(old)} → {_describe(new)}")
    else:
        changed = []
        flipped = old["decision"] != new["decision"]
        # When the decision flips, what an allow carries (basis, obligations, approvals)
        # comes or goes with it: name only the rules that made the difference.
        keys = (("reasons",) if new["decision"] == "deny" else ("basis",)) if flipped else \
            ("reasons", "basis", "obligations")
        for k in keys:
            o, n = set(map(tuple, old[k])), set(map(tuple, new[k]))
            gone, added = sorted(o - n), sorted(n - o)
            changed += gone + added
            for item in added:
                parts.append(f"新增{_KIND_ZH[k]} {item[1]} [{item[0]}]" + (f" 期限 {item[2]}" if k == "obligations" and item[2] else ""))
            for item in gone:
                parts.append(f"去掉{_KIND_ZH[k]} {item[1]} [{item[0]}]" + (f" 期限 {item[2]}" if k == "obligations" and item[2] else ""))
        if "decision" in kinds or "outcome" in kinds:
            parts.insert(0, f"{_describe(old)} → {_describe(new)}")
        if "approvals" in kinds and not flipped:
            parts.append(f"审批 {old['approvals']} → {new['approvals']}")
        article = _article_of(changed) or "其他"
    summary = f"{label}（{case.get('action')}）：" + "；".join(parts)
    # 第三十二条: a case's label (its file path), its messages and the summary, masked once here.
    return Change(mask_ids_in_text(label), case.get("action", ""), article, scrub(old), scrub(new),  # type: ignore[arg-type]
                  kinds, mask_ids_in_text(summary))


def collect_cases(paths: list[Path], rs: RuleSet, generated: int, seed: int) -> list[tuple[str, dict]]:
    """Golden case files (or plain case files) under ``paths``, then ``generated`` generated cases."""
    from .generate import generated_cases

    out: list[tuple[str, dict]] = []
    for root in paths:
        files = sorted(root.rglob("*.json")) if root.is_dir() else [root]
        for f in files:
            try:
                doc = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            case = doc.get("case", doc) if isinstance(doc, dict) else None
            if isinstance(case, dict) and "action" in case:
                out.append((str(f), case))
    for case in generated_cases(rs, generated, seed=seed):
        out.append((f"generated#{case['case_id']}", case))
    return out


def diff(old: RuleSet, new: RuleSet, cases: list[tuple[str, dict]], *,
         old_date: _dt.date | None = None, new_date: _dt.date | None = None) -> list[Change]:
    changes = []
    for label, case in cases:
        ch = compare(label, case, signature(old, case, old_date), signature(new, case, new_date))
        if ch is not None:
            changes.append(ch)
    return changes


def grouped(changes: list[Change]) -> dict[str, list[Change]]:
    def key(a: str):
        return (0, int(a)) if a.isdigit() else (1, 0)

    out: dict[str, list[Change]] = {}
    for ch in sorted(changes, key=lambda c: (key(c.article), c.label)):
        out.setdefault(ch.article, []).append(ch)
    return out


def article_heading(article: str) -> str:
    return f"第{int_to_cn(int(article))}条" if article.isdigit() else article


def export_git_rules(rev: str, rules_path: str, dest: Path, repo: Path | None = None) -> Path:
    """The ``rules_path`` directory as of git revision ``rev``, extracted under ``dest``."""
    out = dest / rev.replace("/", "_")
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["git", "archive", "--format=tar", rev, rules_path], cwd=repo,
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise XuejiError(f"无法取出 git 版本 {rev} 的 {rules_path}：{proc.stderr.decode(errors='replace').strip()}",
                         f"cannot export {rules_path} at {rev}")
    with tempfile.TemporaryFile() as tmp:
        tmp.write(proc.stdout)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp) as tar:
            tar.extractall(out, filter="data")
    return out / rules_path
