"""``xueji-policy replay LOG --rules DIR CASES…``: re-evaluate logged decisions, report any that would now differ."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("log", metavar="LOG", help="evaluate --log 写下的决定记录")
    p.add_argument("cases", nargs="+", metavar="CASES", help="案例：JSON 文件、目录（含黄金案例）或 JSON Lines 文件")
    p.add_argument("--rules", metavar="DIR", help="用于重新评估的规则目录（默认：随包发布的规则，或环境变量 XUEJI_POLICY_RULES）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def _docs(f: Path):
    """The JSON texts of one cases file: a ``.json`` file is one, anything else JSON Lines (bounded lines)."""
    from ..batch import MAX_LINE_BYTES
    from ..ioerrors import bounded_lines
    from ..validate import DEFAULT_MAX_BYTES

    with open(f, "rb") as fp:
        if f.suffix == ".json":
            yield fp.read(DEFAULT_MAX_BYTES + 1)
        else:
            for _, raw in bounded_lines(fp, MAX_LINE_BYTES):
                yield raw


def _cases(paths: list[Path]):
    from ..errors import XuejiError
    from ..ioerrors import IOFailure
    from ..validate import parse_case_json

    for root in paths:
        files = sorted(root.rglob("*.json*")) if root.is_dir() else [root]
        for f in files:
            try:
                for doc in _docs(f):
                    if not doc.strip():
                        continue
                    try:  # parsed as evaluation parses it: what it refuses was never logged
                        obj = parse_case_json(doc)
                    except XuejiError:
                        continue
                    case = obj.get("case", obj) if isinstance(obj, dict) else None
                    if isinstance(case, dict):
                        yield case
            except OSError as e:
                raise IOFailure(f"无法读取案例 {f}", f"cannot read cases {f}", e) from None


def run(args) -> int:
    from ..audit import DecisionLog, read_log, salt_for
    from ..engine import evaluate_dict
    from ..errors import XuejiError
    from ..ioerrors import IOFailure
    from ..pipeline import load_ruleset

    rs = load_ruleset(args.rules)
    hasher = DecisionLog.__new__(DecisionLog)  # hashing only: never opens (or creates) the log or its salt
    hasher.path = Path(args.log)
    if not hasher.path.is_file():
        raise IOFailure(f"无法读取决定记录 {args.log}", f"cannot read the decision log {args.log}",
                        FileNotFoundError(2, "No such file or directory"))
    hasher.salt = salt_for(hasher.path, create=False)
    by_hash = {hasher.case_hash(c): c for c in _cases([Path(p) for p in args.cases])}

    torn, replayed, missing, changed = [], 0, 0, []
    for n, rec in _records(read_log(args.log), args.log):
        if rec is None:
            torn.append(n)
            continue
        case = by_hash.get(rec["case_hash"]) if isinstance(rec["case_hash"], str) else None
        if case is None:
            missing += 1
            continue
        replayed += 1
        try:
            d = evaluate_dict(case, ruleset=rs)
            now = {"decision": d["decision"], "outcome": d["outcome"], "reasons": [r["rule"] for r in d["reasons"]],
                   "basis": [r["rule"] for r in d["basis"]],
                   "obligations": [[o["rule"], o["due"]] for o in d["obligations"]]}
        except XuejiError as e:
            now = {"error": e.code}
        then = {k: rec.get(k) for k in now}
        if now != then:
            changed.append({"line": n, "case_id": rec.get("case_id"), "action": rec.get("action"),
                            "logged": then, "now": now})
    if args.json:
        print(json.dumps({"replayed": replayed, "without_case": missing, "torn_lines": torn, "changed": changed},
                         ensure_ascii=False, indent=2))
    else:
        for c in changed:
            print(f"第 {c['line']} 行（{c['case_id'] or '无编号'}，{c['action']}）：记录为 {c['logged']}，现在为 {c['now']}")
        if torn:
            print(f"注意：第 {'、'.join(map(str, torn))} 行不完整或无法读取，已跳过", file=sys.stderr)
        print(f"重新评估 {replayed} 个决定，{len(changed)} 个有变化；{missing} 个记录没有给出案例。")
    return 1 if changed else 0


def _records(pairs, path: str):
    """The log's records; a read failure is the user's error (exit 2)."""
    from ..ioerrors import IOFailure

    try:
        yield from pairs
    except OSError as e:
        raise IOFailure(f"无法读取决定记录 {path}", f"cannot read the decision log {path}", e) from None
