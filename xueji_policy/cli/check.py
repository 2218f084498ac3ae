"""``xueji-policy check [--rules DIR]``: load and type-check every rule file, print every error."""

from __future__ import annotations

import json
import sys

from .argparse_zh import RULES_HELP


def add_arguments(p) -> None:
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)
    p.add_argument("--json", action="store_true", help="以 JSON 输出错误")


def run(args) -> int:
    from ..errors import RuleSetError
    from ..pipeline import load_ruleset

    try:
        rs = load_ruleset(args.rules)
    except RuleSetError as e:
        if args.json:
            print(json.dumps(e.to_dict(), ensure_ascii=False, indent=2))
        else:
            for err in e.errors:
                print(err.render(), file=sys.stderr)
            print(f"\n共 {len(e.errors)} 处错误，规则集未加载。", file=sys.stderr)
        return 2
    n_params = len(rs.params)
    warning = rs.calendar_warning()
    if args.json:
        print(json.dumps({"ok": True, "rules": len(rs.rules), "parameters": n_params, "sha256": rs.sha256,
                          "warnings": [warning] if warning else []}, ensure_ascii=False))
    else:
        print(f"规则检查通过：{len(rs.rules)} 条规则，{n_params} 个参数，{len(rs.articles)} 个条文文件"
              f"（版本 {rs.version}，sha256 {rs.sha256[:12]}…）")
        if warning:
            print(f"提醒：{warning}", file=sys.stderr)
    return 0
