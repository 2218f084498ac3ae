"""What several commands share: the golden cases beside the rules, and column padding for CJK text."""

from __future__ import annotations

import sys
import unicodedata

from ..privacy import mask_ids_in_text


def golden_results(cases: str | None, rs) -> list:
    """The golden cases of ``--cases`` or of the project beside the rules, saying which (or none) on stderr."""
    from ..golden import cases_dir_for, run_all

    found = cases_dir_for(cases, rs)
    if found is None:  # paths are shown masked: a folder may be named after an ID number (第三十二条)
        print(mask_ids_in_text(f"未找到黄金案例（规则目录 {rs.path} 旁没有本项目的 cases/；可用 --cases DIR 指定），"
                               "按无黄金案例处理"), file=sys.stderr)
        return []
    print(mask_ids_in_text(f"黄金案例：{found}"), file=sys.stderr)
    return run_all(found, rs)


def width(s: str) -> int:
    """Columns ``s`` takes in a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def pad(s: str, n: int) -> str:
    return s + " " * max(n - width(s), 0)


#: The exit code of one decided case (evaluate, explain): EXIT_CODES in main.py documents them.
DECISION_EXIT = {"allow": 0, "deny": 1, "undetermined": 4}
