"""``xueji-policy explain CASE.json|-``: the decision with every rule of the action, why it applied or not."""

from __future__ import annotations

import json

from .argparse_zh import RULES_HELP
from .shared import DECISION_EXIT


def add_arguments(p) -> None:
    p.add_argument("case", metavar="CASE.json", help="案例文件，或 - 表示标准输入")
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)
    p.add_argument("--format", choices=("text", "json"), default="text", help="输出格式：text（默认，中文）或 json")
    p.add_argument("--brief", action="store_true",
                   help="简要说明：只列出起决定作用的规则，每条一句中文，写明相关事实和计算出的日期")
    p.add_argument("--repair", action="store_true",
                   help="被拒绝时：列出使之获准的最少事实改动（不改 x-immutable 的事实）和最早可获准的日期（需要 z3-solver）")


def run(args) -> int:
    from ..engine import evaluate_dict
    from ..explain import decision_text
    from ..pipeline import load_ruleset
    from .evaluate import read_case

    case = read_case(args.case)
    rs = load_ruleset(args.rules) if args.rules else None
    decision = evaluate_dict(case, ruleset=rs, explain="brief" if args.brief else True)
    if args.repair and decision["decision"] != "allow":
        from ..verify.repair import repair_report

        decision["repair"] = repair_report(case, rs)
    if args.format == "json":
        print(json.dumps(decision, ensure_ascii=False, indent=2))
    elif args.brief:
        from ..brief import brief_text

        print(brief_text(decision))
    else:
        print(decision_text(decision, rs))
        if "repair" in decision:
            from ..verify.repair import repair_text

            print(repair_text(decision["repair"]))
    return DECISION_EXIT[decision["decision"]]
