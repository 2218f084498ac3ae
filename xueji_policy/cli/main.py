"""``xueji-policy`` entry point: parse the command line, run one command, map errors to exit codes.

Exit codes: 0 success / allow, 1 deny / failures found, 2 error (bad input, bad rules, bad
usage), 3 a bug of ours. ``EXIT_CODES`` says it per command; each ``--help`` and the README's
command table are written from it (tests/test_cli.py holds the README to it).
Commands are imported only when used, so a cold start stays cheap.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .argparse_zh import chinese

COMMANDS = {
    "evaluate": "对一个案例作出决定（JSON 或中文摘要）；或用 --batch 批量评估（JSON Lines，或 Excel/CSV 表格每行一个案例）",
    "explain": "说明决定：逐条规则是否适用、各子条件的取值和期限的计算",
    "check": "加载并检查规则文件，列出全部错误",
    "lint": "检查规则集中的隐患：未用参数、未经检验或永不适用的规则、冲突的许可、条文改动",
    "test": "运行黄金案例，按条文汇总通过情况",
    "diff": "修订影响：比较两个规则集（目录、git 版本或生效日期）下决定有变化的案例",
    "replay": "用给定的案例重新评估决定记录（evaluate --log），列出现在会不同的决定",
    "serve": "启动 HTTP 服务和政策人员页面（需要 pip install 'xueji-policy[server]'）",
    "report": "生成逐条对照的 HTML 报告（条文原文、规则、黄金案例、覆盖、参数）",
    "coverage": "逐条核对：每条已编码或已说明，每条规则都有适用与不适用的黄金案例",
    "verify": "证明规则的性质（SMT 求解器）；--compare 比较两套规则的宽严",
    "template": "生成一个学籍事项的 Excel 表格模板（中文列名、下拉选项、日期格式），填好后用 evaluate --batch 批量评估",
}

_ERROR = (2, "出错：输入、规则、黄金案例或用法有误（错误信息写在标准错误上）", "error")

#: Exit codes per command (and per mode, "evaluate --batch"): (code, 中文, English).
EXIT_CODES: dict[str, list[tuple[int, str, str]]] = {
    "evaluate": [(0, "准予办理（allow）", "allow"), (1, "不予办理（deny）", "deny"), _ERROR,
                 (4, "尚不能决定（undetermined）：取决于案例未写明的事实", "undetermined")],
    # The worst record decides, as for one case: deny over allow, an error over both, a bug over all.
    "evaluate --batch": [(0, "每一行都准予办理（或没有案例）", "every line allowed (or none)"),
                         (1, "有不予办理的行", "some line denied"),
                         (2, "有错误记录，或输入、日志、输出失败", "some line an error record or the input/log/output failed"),
                         (3, "有行遇到内部错误（取最严重者）", "some line hit a bug (the worst wins)"),
                         (4, "有尚不能决定的行（无错误时）", "some line undetermined (and no error)")],
    "explain": [(0, "准予办理（allow）", "allow"), (1, "不予办理（deny）", "deny"), _ERROR,
                (4, "尚不能决定（undetermined）：取决于案例未写明的事实", "undetermined")],
    "check": [(0, "规则集无错误", "ok"), _ERROR],
    "lint": [(0, "未发现问题", "clean"), (1, "有警告", "warnings"), _ERROR],
    "test": [(0, "全部黄金案例通过", "all pass"), (1, "有黄金案例未通过", "failures"), _ERROR],
    "diff": [(0, "没有决定变化的案例", "no change"), (1, "有决定变化的案例", "changes"), _ERROR],
    "replay": [(0, "没有决定会不同", "no change"), (1, "有决定会不同", "changes"), _ERROR],
    # SIGTERM ends the service as terminated by that signal (143 in a shell), as servers do.
    "serve": [(0, "服务已停止（Ctrl-C）；收到 SIGTERM 时按惯例以该信号结束（shell 中为 143）", "stopped (Ctrl-C)"),
              _ERROR],
    "report": [(0, "报告已生成", "written"), _ERROR],
    "verify": [(0, "全部性质得证；--compare 时两套规则等价", "proved / equivalent"),
               (1, "有性质被反驳或未能证明；--compare 时有宽严变化", "refuted / differs"), _ERROR],
    "coverage": [(0, "逐条完备", "complete"), (1, "有缺口", "gaps"), _ERROR],
    "template": [(0, "模板已生成", "written"), _ERROR],
    "--version": [(0, "已显示版本", "shown"), (2, "规则集无法加载", "rules do not load")],
}
INTERNAL_ERROR = (3, "内部错误（程序缺陷）：请把命令和输入报告给维护者", "internal error")


def exit_code_text(command: str) -> str:
    """The English summary used in the README's command table, e.g. ``0 allow, 1 deny, 2 error``."""
    return ", ".join(f"{code} {en}" for code, _, en in EXIT_CODES[command])


def _epilog(*keys: str) -> str:
    lines = []
    for key in keys:
        mode = "" if key in COMMANDS else key.split(" ", 1)[-1]  # "evaluate --batch" → --batch
        head = f"退出码（{mode}）" if mode else "退出码"
        lines.append(head + "：")
        lines += [f"  {code}  {zh}" for code, zh, _ in EXIT_CODES[key]]
    lines.append(f"  {INTERNAL_ERROR[0]}  {INTERNAL_ERROR[1]}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line. Build (and parse) inside ``argparse_zh.chinese()``."""
    parser = argparse.ArgumentParser(
        prog="xueji-policy", formatter_class=argparse.RawDescriptionHelpFormatter,
        # Which regulation is the rule set's business (ruleset.yaml), not the program's: --help stays generic.
        description="学籍管理规则引擎（policy-as-code）：所依据的规定、条文和参数都来自规则目录（--rules，默认为随包的规则集）",
        epilog="各命令的用法：xueji-policy 命令 -h\n\n" + _epilog("--version"))
    parser.add_argument("--version", action="store_true", help="显示程序版本、规则集版本及其 sha256 并退出")
    sub = parser.add_subparsers(dest="command", metavar="命令")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"xueji_policy.cli.{name}")
        keys = [k for k in EXIT_CODES if k == name or k.startswith(name + " ")]
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=_epilog(*keys),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
    return parser


def version_text() -> str:
    """Package version, then the default rule set's version and sha256 (raises if it does not load)."""
    from .. import __version__
    from ..pipeline import load_ruleset

    rs = load_ruleset()
    doc = f"（{rs.document}）" if rs.document else ""
    return (f"xueji-policy {__version__}\n"
            f"规则集：{rs.name}{doc} 版本 {rs.version}\n"
            f"规则集 sha256：{rs.sha256}\n"
            f"规则目录：{rs.path}")


def _os_error_zh(e: OSError) -> str:
    import errno

    return {errno.ENOENT: "文件或目录不存在", errno.EACCES: "没有权限", errno.EISDIR: "这是一个目录，不是文件",
            errno.ENOTDIR: "路径中有一部分不是目录", errno.ENOSPC: "磁盘空间不足", errno.EROFS: "文件系统只读"}.get(
        e.errno or 0, e.strerror or "无法访问")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    with chinese():
        parser = build_parser()
        args = parser.parse_args(argv)
        if not args.command and not args.version:
            parser.print_help(sys.stderr)
            return 2
    from ..errors import XuejiError

    try:
        if args.version:
            print(version_text())
            return 0
        module = importlib.import_module(f"xueji_policy.cli.{args.command}")
        return module.run(args)
    except XuejiError as e:
        if args.version:
            print(f"错误：默认规则集无法加载，版本未知：\n{e}", file=sys.stderr)
        else:
            print(f"错误：{e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as e:  # a path the user gave: missing, unreadable, a directory, a full disk …
        from ..privacy import mask_ids_in_text

        where = f" {e.filename}" if e.filename else ""
        print(mask_ids_in_text(f"错误：无法访问文件{where}：{_os_error_zh(e)}"), file=sys.stderr)
        return 2
    except Exception as e:  # a bug of ours: say so plainly, keep the traceback for developers
        import os
        import traceback

        from ..privacy import mask_ids_in_text

        if os.environ.get("XUEJI_POLICY_DEBUG"):
            traceback.print_exc()
        print(mask_ids_in_text(f"内部错误（{type(e).__name__}）：{e}。请把命令和输入报告给维护者；"
                               "设置 XUEJI_POLICY_DEBUG=1 可看到详细信息。"), file=sys.stderr)
        return INTERNAL_ERROR[0]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
