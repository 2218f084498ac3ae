"""``xueji-policy lint``: warnings beyond check — unused parameters, untested, dead, shadowed or conflicting
rules, changed cites.  Dead/shadowed/conflicting rules are proved with z3 when it is installed (the
default), sampled only with ``--sample`` or without z3 — and then labelled as sampled.  Exit codes are
unchanged: 0 no warning, 1 warnings, 2 an error."""

from __future__ import annotations

import json
import sys

from .argparse_zh import CASES_HELP, RULES_HELP


def add_arguments(p) -> None:
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)
    p.add_argument("--cases", metavar="DIR", help=CASES_HELP)
    p.add_argument("--accept", action="store_true", help="复核后：把所引条文的当前摘要写入各规则（reviewed_text_sha256）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--prove", action="store_true",
                     help="必须用 SMT 求解器证明（默认：装有 z3-solver 时即证明）：永不适用、总是适用、被遮蔽的许可、"
                          "冲突的许可；未安装 z3-solver 时出错（退出码 2）")
    how.add_argument("--sample", action="store_true",
                     help="不证明，只抽样检查（较快；警告标明\"抽样所得（未经证明）\"）")


def run(args) -> int:
    from ..errors import XuejiError
    from ..lint import accept_reviews, lint, proofs_available
    from ..pipeline import load_ruleset
    from .shared import golden_results

    prove = False if args.sample else proofs_available()
    if args.prove and not prove:
        raise XuejiError("lint --prove 需要 z3-solver：pip install 'xueji-policy[verify]'",
                         "lint --prove needs z3-solver: pip install 'xueji-policy[verify]'")
    if not prove and not args.sample:
        print("注意：未安装 z3-solver（pip install 'xueji-policy[verify]'），永不适用、总是适用、冲突的许可只能抽样检查，"
              "结果未经证明；被遮蔽的许可不检查", file=sys.stderr)
    rs = load_ruleset(args.rules)
    if args.accept:
        changed = accept_reviews(rs)
        print(f"已记录 {len(changed)} 条规则的复核摘要", file=sys.stderr)
        rs = load_ruleset(args.rules)
    results = golden_results(args.cases, rs)
    warnings = lint(rs, results, prove=prove)
    if args.json:
        print(json.dumps([w.to_dict() for w in warnings], ensure_ascii=False, indent=2))
    else:
        for w in warnings:
            print(w.render())
        print(f"共 {len(warnings)} 条警告。" if warnings else "未发现问题。")
    return 1 if warnings else 0
