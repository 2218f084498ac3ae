"""``xueji-policy`` entry point: parse the command line, run one command, map errors to exit codes.

Exit codes: 0 success / allow, 1 deny / failures found, 2 error (bad input, bad rules).
Commands are imported only when used, so a cold start stays cheap.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "evaluate": "对一个案例作出决定（JSON 或中文摘要）",
    "explain": "说明决定：逐条规则是否适用、各子条件的取值和期限的计算",
    "check": "加载并检查规则文件，列出全部错误",
    "lint": "检查规则集中的隐患：未用参数、未经检验或永不适用的规则、冲突的许可、条文改动",
    "test": "运行黄金案例，按条文汇总通过情况",
    "diff": "修订影响：比较两个规则集（目录、git 版本或生效日期）下决定有变化的案例",
    "replay": "用给定的案例重新评估决定记录（evaluate --log），列出现在会不同的决定",
    "serve": "启动 HTTP 服务和政策人员页面（需要 pip install 'xueji-policy[server]'）",
    "report": "生成逐条对照的 HTML 报告（条文原文、规则、黄金案例、覆盖、参数）",
    "coverage": "逐条核对：每条已编码或已说明，每条规则都有适用与不适用的黄金案例",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xueji-policy",
        # Which regulation is the rule set's business (ruleset.yaml), not the program's: --help stays generic.
        description="学籍管理规则引擎（policy-as-code）：所依据的规定、条文和参数都来自规则目录（--rules，默认为随包的规则集）")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"xueji_policy.cli.{name}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    module = importlib.import_module(f"xueji_policy.cli.{args.command}")
    from ..errors import XuejiError

    try:
        return module.run(args)
    except XuejiError as e:
        print(f"错误：{e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # a bug of ours: say so plainly, keep the traceback for developers
        import os
        import traceback

        from ..privacy import mask_ids_in_text

        if os.environ.get("XUEJI_POLICY_DEBUG"):
            traceback.print_exc()
        print(mask_ids_in_text(f"内部错误（{type(e).__name__}）：{e}。请把命令和输入报告给维护者；"
                               "设置 XUEJI_POLICY_DEBUG=1 可看到详细信息。"), file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
