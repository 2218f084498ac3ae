"""``xueji-policy test [DIR]``: run the golden cases and print a pass/fail table per article."""

from __future__ import annotations

import sys
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("dir", nargs="?", metavar="DIR", help="黄金案例目录（默认：规则目录旁的 cases/）")
    p.add_argument("--rules", metavar="DIR", help="规则目录（默认：随包发布的 rules/）")
    p.add_argument("-v", "--verbose", action="store_true", help="列出每个案例")


def run(args) -> int:
    from ..cites import int_to_cn
    from ..golden import default_cases_dir, run_all
    from ..ruleset import load_ruleset

    rs = load_ruleset(args.rules)
    root = Path(args.dir) if args.dir else default_cases_dir(rs)
    results = run_all(root, rs)
    by_article: dict[str, list] = {}
    for r in results:
        by_article.setdefault(r.article, []).append(r)

    print(f"{'条文':<10}{'通过':>6}{'失败':>6}")
    for art, rs_ in by_article.items():
        label = f"第{int_to_cn(int(art))}条" if art.isdigit() else art
        passed = sum(r.ok for r in rs_)
        print(f"{label:<10}{passed:>6}{len(rs_) - passed:>6}")
        for r in rs_:
            if not r.ok or args.verbose:
                mark = "✓" if r.ok else "✗"
                print(f"    {mark} {r.path.name}" + ("" if r.ok else "：" + "；".join(r.problems)))
    failed = sum(not r.ok for r in results)
    print(f"合计 {len(results)} 个黄金案例，通过 {len(results) - failed}，失败 {failed}")
    return 1 if failed else 0
