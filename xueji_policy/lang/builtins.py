"""The one registry of the condition language's built-in functions and operators.

Each built-in is defined here once — its signatures (for the checker), its meaning on present
values (for the closures and the generated code alike), how it treats null, whether it needs
the working-day calendar (for explain), and its line in the documentation table (for the
checker's hints and ``docs/language.md``, which a test holds to this table).  The checker,
``compile.py``, ``codegen.py``, ``explain.py`` and the cache's strict decoder all read it.

Null (a value the case states as null, "there is none"): unless a built-in says otherwise
(``null_safe``), any null argument makes the result null — and an ordered comparison with null
is false.  Unknown (a fact the case does not state) is handled by the evaluators themselves
(``compile.py``: any unknown argument makes the call unknown, except ``known``).
"""

from __future__ import annotations

import calendar as _calendar
import datetime as _dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import EvaluationError
from .types import ANY, BOOL, DATE, INT, LIST, MONTHDAY, STRING

_timedelta = _dt.timedelta


# --------------------------------------------------------------------------- date arithmetic


def add_months(d: _dt.date, n: int) -> _dt.date:
    """Same day-of-month n months later; a day the month lacks becomes its last day."""
    month0 = d.month - 1 + n
    year, month = d.year + month0 // 12, month0 % 12 + 1
    if not 1 <= year <= 9999:
        raise EvaluationError(f"日期超出范围：{d} 加 {n} 个月", f"date out of range: {d} + {n} months")
    last = _calendar.monthrange(year, month)[1]
    return _dt.date(year, month, min(d.day, last))


def add_years(d: _dt.date, n: int) -> _dt.date:
    return add_months(d, 12 * n)


def add_days(d: _dt.date, n: int) -> _dt.date:
    try:
        return d + _timedelta(days=n)
    except OverflowError:
        raise EvaluationError(f"日期超出范围：{d} 加 {n} 天", f"date out of range: {d} + {n} days") from None


def make_date(*args) -> _dt.date:
    try:
        if len(args) == 1:
            return _dt.date.fromisoformat(args[0])
        if len(args) == 2:  # (year, (month, day))
            year, (month, day) = args
            return _dt.date(year, month, day)
        return _dt.date(*args)
    except (ValueError, TypeError, OverflowError):
        raise EvaluationError(f"无效日期：{args}", f"invalid date: {args}") from None


def parse_monthday(text: str) -> tuple[int, int]:
    """``10-31`` or ``10月31日`` → (10, 31); raises ValueError."""
    t = str(text).strip().replace("月", "-").replace("日", "")
    m, d = t.split("-")
    month, day = int(m), int(d)
    _dt.date(2000, month, day)  # validates (2000 is a leap year: 02-29 allowed)
    return month, day


def _first(xs):
    return xs[0] if xs else None


def _last(xs):
    return xs[-1] if xs else None


def _len(xs):
    return 0 if xs is None else len(xs)


def _coalesce(a, b):
    return b if a is None else a


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Builtin:
    name: str
    # Each signature: (parameter kinds, result kind).  "T" = the type of the first argument
    # (coalesce), "elem" = the list's element type, "numeric" = int or number.
    signatures: tuple[tuple[tuple[str, ...], str], ...]
    doc_zh: str  # the line of the documentation table and of the checker's hints
    impl: Callable[..., Any] | None  # on present values; None: needs the calendar (see ``bind``)
    null_safe: bool = False  # takes null arguments itself (len, first, last, coalesce)
    calendar_method: str | None = None  # a WorkCalendar method: the function needs the calendar

    def bind(self, calendar) -> Callable[..., Any]:
        """The implementation, with the working-day calendar where it needs one."""
        if self.calendar_method is not None:
            if calendar is None:
                raise EvaluationError(f"函数 {self.name} 需要工作日日历", f"{self.name} needs a calendar")
            return getattr(calendar, self.calendar_method)
        assert self.impl is not None
        return self.impl


_BUILTINS = (
    Builtin("add_days", (((DATE, INT), DATE),), "add_days(日期, 天数)：日期加减自然日", add_days),
    Builtin("add_months", (((DATE, INT), DATE),), "add_months(日期, 月数)：同日历日的若干月后（无此日取月末）",
            add_months),
    Builtin("add_years", (((DATE, INT), DATE),), "add_years(日期, 年数)：同月同日的若干年后（2月29日取2月28日）",
            add_years),
    Builtin("add_working_days", (((DATE, INT), DATE),),
            "add_working_days(日期, N)：起算日不计入的第 N 个工作日（N 为负数时向前）", None,
            calendar_method="add_working_days"),
    Builtin("working_days_between", (((DATE, DATE), INT),), "working_days_between(甲, 乙)：甲之后至乙（含）的工作日数",
            None, calendar_method="working_days_between"),
    Builtin("days_between", (((DATE, DATE), INT),), "days_between(甲, 乙)：乙减甲的自然日数",
            lambda a, b: (b - a).days),
    Builtin("date", (((INT, INT, INT), DATE), ((INT, MONTHDAY), DATE), ((STRING,), DATE)),
            "date(年, 月, 日)、date(年, 月日参数) 或 date(\"YYYY-MM-DD\")", make_date),
    Builtin("year", (((DATE,), INT),), "year(日期)", lambda d: d.year),
    Builtin("month", (((DATE,), INT),), "month(日期)", lambda d: d.month),
    Builtin("day", (((DATE,), INT),), "day(日期)", lambda d: d.day),
    Builtin("len", (((LIST,), INT),), "len(列表)：元素个数（空值为 0）", _len, null_safe=True),
    Builtin("first", (((LIST,), "elem"),), "first(列表)：第一个元素（空列表为空值）", _first, null_safe=True),
    Builtin("last", (((LIST,), "elem"),), "last(列表)：最后一个元素（空列表为空值）", _last, null_safe=True),
    Builtin("coalesce", ((("T", "T"), "T"),), "coalesce(甲, 乙)：甲为空时取乙", _coalesce, null_safe=True),
    Builtin("known", (((ANY,), BOOL),), "known(值)：案例是否写明了该事实（null 也算写明；唯一不会是“未知”的函数）",
            lambda x: True, null_safe=True),
    Builtin("stated_or", ((("T", "T"), "T"),),
            "stated_or(甲, 乙)：案例写明甲且不为空时取甲，否则取乙（甲未写明时不算未知；须在 reading 中说明理由）",
            _coalesce, null_safe=True),
    Builtin("min", ((("numeric", "numeric"), "numeric"), ((DATE, DATE), DATE)), "min(甲, 乙)", min),
    Builtin("max", ((("numeric", "numeric"), "numeric"), ((DATE, DATE), DATE)), "max(甲, 乙)", max),
)

BUILTINS: dict[str, Builtin] = {b.name: b for b in _BUILTINS}

# Operators: the closures call these; generated code writes the same Python operator.
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
ORDERED = frozenset({"<", "<=", ">", ">="})
ARITHMETIC = frozenset({"+", "-"})
BOOLEAN = frozenset({"and", "or"})
QUANTIFIERS = frozenset({"any", "all", "count"})


def arithmetic(op: str, left_kind: str, right_kind: str) -> Callable[[Any, Any], Any]:
    """``+``/``-`` on present values, by the operands' checked kinds (dates count in days)."""
    if left_kind == DATE and right_kind == DATE:
        return lambda x, y: (x - y).days
    if left_kind == DATE:
        return add_days if op == "+" else (lambda x, y: add_days(x, -y))
    if right_kind == DATE:
        return lambda x, y: add_days(y, x)
    return operator.add if op == "+" else operator.sub


def call(name: str, args: list, calendar=None) -> Any:
    """A built-in applied to argument values, with the registry's null rule."""
    b = BUILTINS[name]
    if not b.null_safe and any(a is None for a in args):
        return None
    return b.bind(calendar)(*args)
