"""``xueji-policy lint``: warnings beyond check — unused parameters, untested, dead or conflicting rules, changed cites."""

from __future__ import annotations

import json
import sys

from .argparse_zh import CASES_HELP, RULES_HELP


def add_arguments(p) -> None:
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)
    p.add_argument("--cases", metavar="DIR", help=CASES_HELP)
    p.add_argument("--accept", action="store_true", help="复核后：把所引条文的当前摘要写入各规则（reviewed_text_sha256）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.add_argument("--prove", action="store_true",
                   help="用 SMT 求解器证明（而非抽样）：永不适用、总是适用、被遮蔽的许可、冲突的许可（需要 z3-solver）")


def run(args) -> int:
    from ..lint import accept_reviews, lint
    from ..pipeline import load_ruleset
    from .shared import golden_results

    rs = load_ruleset(args.rules)
    if args.accept:
        changed = accept_reviews(rs)
        print(f"已记录 {len(changed)} 条规则的复核摘要", file=sys.stderr)
        rs = load_ruleset(args.rules)
    results = golden_results(args.cases, rs)
    warnings = lint(rs, results, prove=args.prove)
    if args.json:
        print(json.dumps([w.to_dict() for w in warnings], ensure_ascii=False, indent=2))
    else:
        for w in warnings:
            print(w.render())
        print(f"共 {len(warnings)} 条警告。" if warnings else "未发现问题。")
    return 1 if warnings else 0
