"""``xueji-policy evaluate CASE.json|-``: print the decision; exit 0 allow, 1 deny, 2 error."""

from __future__ import annotations

import json
import sys


def add_arguments(p) -> None:
    p.add_argument("case", metavar="CASE.json", help="案例文件，或 - 表示标准输入")
    p.add_argument("--rules", metavar="DIR", help="规则目录（默认：随包发布的 rules/）")
    p.add_argument("--format", choices=("json", "text"), default="json", help="输出格式：json（默认）或 text（中文摘要）")
    p.add_argument("--explain", action="store_true", help="附上逐条规则的求值过程")


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def read_case(path: str):
    """The case JSON from a file or stdin, or a ``CaseError`` saying why not."""
    from ..errors import CaseError, CaseProblem
    from ..validate import parse_case_json

    try:
        raw = _read(path)
    except OSError as e:
        raise CaseError([CaseProblem("$", f"无法读取案例文件：{e.strerror}", f"cannot read case file: {e.strerror}")],
                        kind="unreadable") from None
    return parse_case_json(raw)


def run(args) -> int:
    case = read_case(args.case)

    from ..engine import evaluate_dict
    from ..ruleset import load_ruleset

    rs = load_ruleset(args.rules) if args.rules else None
    decision = evaluate_dict(case, ruleset=rs, explain=args.explain)
    if args.format == "text":
        from ..explain import decision_text

        print(decision_text(decision, rs))
    else:
        print(json.dumps(decision, ensure_ascii=False, indent=2))
    return 0 if decision["decision"] == "allow" else 1
