"""argparse in Chinese: its own strings ("usage:", "options", error messages) through its gettext hook.

argparse looks every message up with the module-level ``_``/``ngettext`` it imported from
``gettext``; ``chinese()`` swaps those for the table below while the command line is built and
parsed, and puts them back after. Messages not in the table pass through unchanged;
tests/test_cli.py checks that none of argparse's English strings reaches a user.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Every user-facing string of argparse 3.11–3.13 (developer-facing ones, e.g. for a bad
# add_argument call, are left alone: a user never sees them).
_ZH = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "subcommands": "命令",
    "%(heading)s:": "%(heading)s：",
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示版本并退出",
    " (default: %(default)s)": "（默认：%(default)s）",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "%(prog)s: warning: %(message)s\n": "%(prog)s：警告：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "参数 %s 中必须给出一个",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择 %(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的值 %(value)r（应为 %(type)s）",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多只能有一个值",
    "expected at least one argument": "至少需要一个值",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是：%(matches)s",
    "ignored explicit argument %r": "多余的值 %r",
    "unexpected option string: %s": "意外的选项：%s",
    "can't open '%(filename)s': %(error)s": "无法打开 '%(filename)s'：%(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知的命令 %(parser_name)r（可选：%(choices)s）",
    "argument '%(argument_name)s' is deprecated": "参数 '%(argument_name)s' 已弃用",
    "option '%(option)s' is deprecated": "选项 '%(option)s' 已弃用",
    "command '%(parser_name)s' is deprecated": "命令 '%(parser_name)s' 已弃用",
}
_ZH_PLURAL = {"expected %s argument": "需要 %s 个值"}


def _gettext(message: str) -> str:
    return _ZH.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    if singular in _ZH_PLURAL:
        return _ZH_PLURAL[singular]
    return singular if n == 1 else plural


@contextmanager
def chinese() -> Iterator[None]:
    """argparse speaks Chinese inside this block (building a parser, parsing, printing help)."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = _gettext, _ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def english_strings() -> list[str]:
    """The English text argparse would show a user (for the test that none is left)."""
    return list(_ZH) + list(_ZH_PLURAL)


# --------------------------------------------------------------------------- argument types


def _typed(convert: Callable[[str], object], what: str) -> Callable[[str], object]:
    def parse(text: str) -> object:
        try:
            return convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"应为{what}，而不是 {text!r}") from None

    parse.__name__ = what
    return parse


def _finite(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


integer = _typed(int, "整数")
number = _typed(_finite, "数")

# Help strings shared by the commands' --rules and --cases options.
RULES_HELP = "规则目录（默认：随包发布的规则，或环境变量 XUEJI_POLICY_RULES 指定的目录）"
CASES_HELP = "黄金案例目录（默认：规则目录旁本项目的 cases/，若有）"
