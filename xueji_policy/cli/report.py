"""``xueji-policy report -o report.html``: the rule set, article by article, as one self-contained page."""

from __future__ import annotations

import sys
from pathlib import Path

from ..privacy import mask_ids_in_text
from .argparse_zh import CASES_HELP, RULES_HELP


def add_arguments(p) -> None:
    p.add_argument("-o", "--output", default="report.html", metavar="FILE", help="输出文件（默认 report.html）")
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)
    p.add_argument("--cases", metavar="DIR", help=CASES_HELP)


def run(args) -> int:
    from ..pipeline import load_ruleset
    from ..report import write_report
    from .shared import golden_results

    rs = load_ruleset(args.rules)
    results = golden_results(args.cases, rs)
    try:
        out = write_report(rs, results, Path(args.output))
    except OSError as e:  # an unwritable target is the user's to fix: exit 2, not an internal error
        from ..ioerrors import IOFailure

        raise IOFailure(f"无法写入报告 {args.output}", f"cannot write the report {args.output}", e) from None
    print(mask_ids_in_text(f"已生成 {out}"), file=sys.stderr)  # a path may name an ID number
    return 0
