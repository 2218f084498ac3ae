"""``xueji-policy explain CASE.json|-``: the decision with every rule of the action, why it applied or not."""

from __future__ import annotations

import json

from .argparse_zh import RULES_HELP


def add_arguments(p) -> None:
    p.add_argument("case", metavar="CASE.json", help="案例文件，或 - 表示标准输入")
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)
    p.add_argument("--format", choices=("text", "json"), default="text", help="输出格式：text（默认，中文）或 json")


def run(args) -> int:
    from ..engine import evaluate_dict
    from ..explain import decision_text
    from ..ruleset import load_ruleset
    from .evaluate import read_case

    case = read_case(args.case)
    rs = load_ruleset(args.rules) if args.rules else None
    decision = evaluate_dict(case, ruleset=rs, explain=True)
    if args.format == "json":
        print(json.dumps(decision, ensure_ascii=False, indent=2))
    else:
        print(decision_text(decision, rs))
    return 0 if decision["decision"] == "allow" else 1
