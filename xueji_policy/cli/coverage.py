"""``xueji-policy coverage``: every article encoded or explained, every rule proven by golden cases."""

from __future__ import annotations

import json
import sys

from .argparse_zh import CASES_HELP, RULES_HELP
from .shared import golden_results, pad


def add_arguments(p) -> None:
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)
    p.add_argument("--cases", metavar="DIR", help=CASES_HELP)
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.add_argument("--write-index", action="store_true", help="按现有规则更新 index.yaml 中的规则列表")


def run(args) -> int:
    from ..coverage import article_coverage, write_index
    from ..pipeline import load_ruleset

    rs = load_ruleset(args.rules)
    if args.write_index:
        print(f"已更新 {write_index(rs)}", file=sys.stderr)
    results = golden_results(args.cases, rs)
    report = article_coverage(rs, results)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0 if report.ok else 1
    print(f"{pad('条文', 14)}{pad('标题', 26)}{pad('规则', 6)}{pad('黄金案例(准予/不予)', 22)}状态")
    for row in report.rows:
        cases = f"{row.cases_allow}/{row.cases_deny}"
        print(f"{pad(row.label, 14)}{pad(row.title, 26)}{pad(str(len(row.rules)), 6)}{pad(cases, 22)}{row.status}")
        for p in row.problems:
            print(f"    ✗ {p}")
    for e in report.index_errors:
        print(e.render(), file=sys.stderr)
    encoded = sum(1 for r in report.rows if r.rules and not r.problems)
    explained = sum(1 for r in report.rows if not r.rules and r.non_decisional and not r.problems)
    missing = sum(1 for r in report.rows if r.problems)
    print(f"\n共 {len(report.rows)} 条（含附件）：已编码 {encoded}，不作判定并已说明 {explained}，有问题 {missing}；"
          f"规则 {len(rs.rules)} 条。")
    return 0 if report.ok else 1
