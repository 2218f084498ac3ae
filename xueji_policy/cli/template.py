"""``xueji-policy template ACTION -o F.xlsx``: a sheet for one action, to fill in and decide with
``evaluate --batch F.xlsx -o R.xlsx`` (the layout: ``xueji_policy/sheet.py``)."""

from __future__ import annotations

import sys

from ..privacy import mask_ids_in_text
from .argparse_zh import RULES_HELP


def add_arguments(p) -> None:
    p.add_argument("action", metavar="ACTION", help="学籍事项：代码（如 transfer_in）或中文名（如 转入）")
    p.add_argument("-o", "--output", required=True, metavar="F.xlsx",
                   help="输出的表格（.xlsx：带中文列名、下拉选项和日期格式；.csv：只有两行表头）")
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)


def run(args) -> int:
    from ..pipeline import load_ruleset
    from ..sheet import action_of, write_template

    rs = load_ruleset(args.rules)
    action = action_of(args.action, rs.case_schema)
    cols = write_template(rs, action, args.output)
    title = rs.case_schema.get("x-action-titles", {}).get(action, action)
    print(mask_ids_in_text(f"已生成 {args.output}：{title}（{action}），{len(cols)} 列；"
                           "从第 3 行起每行填一个案例，然后运行 xueji-policy evaluate --batch "
                           f"{args.output} -o 结果.xlsx"), file=sys.stderr)
    return 0
