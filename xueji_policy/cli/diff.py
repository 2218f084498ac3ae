"""``xueji-policy diff``: the cases an amendment would decide differently, grouped by article.

    xueji-policy diff OLD_RULES_DIR NEW_RULES_DIR [CASES…]
    xueji-policy diff --git REV1 REV2 [CASES…]
    xueji-policy diff --dates 2025-01-01 2026-09-01 [--rules DIR] [CASES…]
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
import tempfile
from pathlib import Path

from .argparse_zh import integer


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="OLD_RULES_DIR NEW_RULES_DIR，其后为案例文件或目录（用 --git/--dates 时全部为案例）")
    p.add_argument("--git", nargs=2, metavar=("REV1", "REV2"), help="比较两个 git 版本的 rules/")
    p.add_argument("--rules-path", default="rules", help="仓库中规则目录的路径（配合 --git，默认 rules）")
    p.add_argument("--dates", nargs=2, metavar=("DATE1", "DATE2"), help="比较同一规则集在两个日期生效的规则")
    p.add_argument("--rules", metavar="DIR", help="配合 --dates 的规则目录（默认：随包发布的规则，或环境变量 XUEJI_POLICY_RULES）")
    p.add_argument("--generated", type=integer, default=2000, metavar="N", help="另外生成的案例数（默认 2000）")
    p.add_argument("--seed", type=integer, default=0, help="生成案例的随机种子（相同种子得到相同案例）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")


def run(args) -> int:
    from ..diff import article_heading, collect_cases, diff, export_git_rules, grouped
    from ..errors import XuejiError
    from ..golden import default_cases_dir
    from ..pipeline import load_ruleset

    paths = [Path(p) for p in args.paths]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise XuejiError(f"路径不存在：{'、'.join(map(str, missing))}", f"no such path: {', '.join(map(str, missing))}")
    old_date = new_date = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.git:
            old = load_ruleset(export_git_rules(args.git[0], args.rules_path, Path(tmp)))
            new = load_ruleset(export_git_rules(args.git[1], args.rules_path, Path(tmp)))
            case_paths = paths
        elif args.dates:
            try:
                old_date, new_date = (_dt.date.fromisoformat(d) for d in args.dates)
            except ValueError:
                raise XuejiError("--dates 需要两个 YYYY-MM-DD 日期", "--dates needs two YYYY-MM-DD dates") from None
            old = new = load_ruleset(args.rules)
            case_paths = paths
        else:
            if len(paths) < 2:
                raise XuejiError("需要两个规则目录：xueji-policy diff OLD_RULES_DIR NEW_RULES_DIR [CASES…]",
                                 "two rule directories are needed")
            old, new = load_ruleset(paths[0]), load_ruleset(paths[1])
            case_paths = paths[2:]
        if not case_paths:
            # The project's golden cases beside the new rules, else beside the old (none: generated only).
            found = default_cases_dir(new) or default_cases_dir(old)
            case_paths = [found] if found else []
            print(f"黄金案例：{found}" if found else "未找到黄金案例（可在命令末尾给出案例路径），只比较生成的案例",
                  file=sys.stderr)
        cases = collect_cases(case_paths, new, args.generated, args.seed)
        changes = diff(old, new, cases, old_date=old_date, new_date=new_date)

    groups = grouped(changes)
    if args.json:
        print(json.dumps({"cases": len(cases), "changed": len(changes),
                          "by_article": {a: [c.to_dict() for c in cs] for a, cs in groups.items()}},
                         ensure_ascii=False, indent=2))
    else:
        for article, cs in groups.items():
            print(f"{article_heading(article)}（{len(cs)} 个案例）")
            for c in cs:
                print(f"  · {c.summary}")
        print(f"共比较 {len(cases)} 个案例，{len(changes)} 个的决定有变化。")
    return 1 if changes else 0
