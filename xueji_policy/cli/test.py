"""``xueji-policy test [PATH …]``: run the golden cases; a pass/fail table per article.

Each PATH is a cases directory (``cases/``), an article's folder (``cases/4``) or a golden file.
Without PATH: ``--cases DIR``, else the project's ``cases/`` beside the rules directory. Finding
no case, or a PATH that does not exist, is an error (exit 2), as is a file that is not a golden case.

``--coverage`` adds, per rule, whether golden cases make it apply and not apply, and
whether every operand of its ``and``/``or``/``not`` is seen both true and false.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..privacy import mask_ids_in_text
from .shared import pad


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="黄金案例：案例目录（cases/）、某条的子目录（cases/4）或单个文件；可给多个"
                        "（默认：--cases，或规则目录旁本项目的 cases/）")
    p.add_argument("--cases", metavar="DIR", help="黄金案例目录（未给出 PATH 时使用）")
    p.add_argument("--rules", metavar="DIR", help="规则目录（默认：随包发布的规则）")
    p.add_argument("-v", "--verbose", action="store_true", help="列出每个案例")
    p.add_argument("--coverage", action="store_true", help="逐条规则、逐个子条件的覆盖情况")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def run(args) -> int:
    from ..cites import int_to_cn
    from ..golden import GoldenError, cases_dir_for, rule_coverage, run_all
    from ..pipeline import load_ruleset

    rs = load_ruleset(args.rules)
    if args.paths:
        paths = [Path(p) for p in args.paths]
    else:
        found = cases_dir_for(args.cases, rs)
        if found is None:
            raise GoldenError([("", f"没有给出黄金案例，规则目录 {rs.path} 旁也没有本项目的 cases/ 目录："
                                    "请给出案例路径（如 xueji-policy test cases/）或 --cases DIR")])
        paths = [found]
    print(mask_ids_in_text(f"黄金案例：{'、'.join(str(p) for p in paths)}"), file=sys.stderr)
    results = run_all(paths, rs)
    failed = sum(not r.ok for r in results)

    coverage = None
    if args.coverage:
        from ..coverage import branch_coverage

        rules = rule_coverage(rs, results)
        branches = branch_coverage(rs, results)
        coverage = {r.id: {"cite": r.cite_text, "applies": rules[r.id][0], "does_not_apply": rules[r.id][1],
                           "branches": [b.to_dict() for b in branches[r.id]]} for r in rs.rules}

    if args.json:
        out = {"paths": [str(p) for p in paths], "total": len(results), "failed": failed,
               "cases": [{"file": str(r.path), "ok": r.ok, "problems": r.problems} for r in results]}
        if coverage is not None:
            out["coverage"] = coverage
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 1 if failed else 0

    by_article: dict[str, list] = {}
    for r in results:
        by_article.setdefault(r.article, []).append(r)

    print(f"{pad('条文', 14)}{pad('通过', 6)}{pad('失败', 6)}")
    for art, rs_ in by_article.items():
        label = f"第{int_to_cn(int(art))}条" if art.isdigit() else art
        passed = sum(r.ok for r in rs_)
        print(f"{pad(label, 14)}{pad(str(passed), 6)}{pad(str(len(rs_) - passed), 6)}")
        for r in rs_:
            if not r.ok or args.verbose:
                mark = "✓" if r.ok else "✗"
                print(mask_ids_in_text(f"    {mark} {r.path.name}" + ("" if r.ok else "：" + "；".join(r.problems))))
    print(f"合计 {len(results)} 个黄金案例，通过 {len(results) - failed}，失败 {failed}")

    if coverage is not None:
        total = sum(len(c["branches"]) for c in coverage.values())
        covered = sum(b["covered"] for c in coverage.values() for b in c["branches"])
        proven = sum(1 for c in coverage.values() if c["applies"] and c["does_not_apply"])
        print(f"\n覆盖：{proven}/{len(coverage)} 条规则既有适用也有不适用的案例；"
              f"子条件 {covered}/{total} 个既见成立也见不成立。")
        for rid, c in coverage.items():
            gaps = [b for b in c["branches"] if not b["covered"]]
            if c["applies"] and c["does_not_apply"] and not gaps:
                continue
            print(f"  {c['cite']} [{rid}]：适用 {c['applies']} 例，不适用 {c['does_not_apply']} 例")
            for b in gaps:
                print(f"      子条件 {b['expr']}：成立 {b['true']} 次，不成立 {b['false']} 次")
    return 1 if failed else 0
