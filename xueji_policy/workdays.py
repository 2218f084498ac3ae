"""Working days (工作日) as the State Council's holiday notices define them.

Source of truth
    The ``chinese_calendar`` package (``chinesecalendar`` on PyPI) for the years it
    ships, plus per-year YAML override files (``rules/calendar/2027.yaml`` …) that add
    to — or with ``replace: true`` replace — its data.  A year covered by neither is
    never guessed: every query that touches it raises :class:`CalendarError`.

Counting periods (民法典)
    第二百零一条: the day the period starts is not counted.
    第二百零三条: a deadline falling on a non-working day moves to the next working day.

    ``add_working_days(start, n)`` is the n-th working day after ``start`` (``start``
    never counts); n = 0 rolls ``start`` forward to a working day; n < 0 is the |n|-th
    working day *before* ``start`` (for “前N个工作日”), again not counting ``start``.

    ``working_days_between(a, b)`` counts working days d with a < d <= b (negated
    when b < a).  ``working_days_between(a, add_working_days(a, n)) == n`` for every
    n > 0, and for every n when ``a`` is itself a working day.  (When ``a`` is not a
    working day, n = 0 gives 1 and n < 0 gives n + 1: counting backwards from a
    Saturday, the Friday before is the first working day, but (Fri, Sat] holds no
    working day.  No single count can be the inverse of both directions.)

Override file format (one file per year; loaded with PyYAML's safe loader only)::

    year: 2027
    source: 国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕X号）
    holidays:                       # 放假日; single dates or ranges
      - {from: 2027-01-01, to: 2027-01-03, name: 元旦}
      - 2027-05-01
    workdays:                       # 调休上班日: must be Saturdays or Sundays
      - {date: 2027-02-07, name: 春节调休}
    replace: true                   # optional, default false
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from .contract import DATE_SHAPE, parse_day
from .errors import CalendarError, Location, StructureError, YamlError

if TYPE_CHECKING:
    from yaml.nodes import Node


def _yaml():
    """PyYAML, imported only when a rules directory has calendar overrides to read."""
    import yaml
    import yaml.constructor
    import yaml.nodes

    return yaml

__all__ = ["WorkCalendar", "default_calendar", "WEEKEND_LABEL", "ADJUSTED_WORKDAY_LABEL"]

WEEKEND_LABEL = "周末"
ADJUSTED_WORKDAY_LABEL = "调休上班"
_DEFAULT_HOLIDAY_LABEL = "节假日"
_WEEKDAY_ZH = "一二三四五六日"


# --------------------------------------------------------------------------- chinese_calendar


def _load_chinese_calendar() -> tuple[dict[date, str], dict[date, str], frozenset[int], str]:
    """(holidays, adjusted workdays, covered years, source) from chinese_calendar's constants.

    Only the constants are read: the package's functions raise NotImplementedError
    outside its range, and we want our own CalendarError instead.
    """
    from chinese_calendar import constants

    def zh(value: str) -> str:
        try:
            return constants.Holiday(value).chinese
        except ValueError:  # a name this version's enum does not know: keep it as is
            return value

    holidays = {d: zh(v) for d, v in constants.holidays.items()}
    workdays = {d: zh(v) for d, v in constants.workdays.items()}
    if holidays:
        # Same range rule chinese_calendar itself applies (min..max year of its holidays).
        years = frozenset(range(min(holidays).year, max(holidays).year + 1))
    else:  # pragma: no cover - defensive
        years = frozenset()
    import chinese_calendar

    found = getattr(chinese_calendar, "__version__", None)  # importlib.metadata is a heavy import at start-up
    if not isinstance(found, str):  # pragma: no cover - a release without __version__
        try:
            from importlib.metadata import version

            found = version("chinesecalendar")
        except Exception:  # metadata missing
            found = None
    src = f"chinesecalendar {found}" if found else "chinesecalendar"
    return holidays, workdays, years, src


_CC_HOLIDAYS, _CC_WORKDAYS, _CC_YEARS, _CC_SOURCE = _load_chinese_calendar()


# --------------------------------------------------------------------------- override files


@dataclass
class _Override:
    year: int
    source: str
    file: str
    holidays: dict[date, str] = field(default_factory=dict)
    workdays: dict[date, str] = field(default_factory=dict)
    replace: bool = False


_TOP_KEYS = ("year", "source", "holidays", "workdays", "replace")
_ENTRY_KEYS = ("date", "from", "to", "name")
_YEAR_RE = re.compile(r"\d{1,4}")
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _OverrideParser:
    """Turns one override file into an :class:`_Override`, or raises a located error.

    The file is composed into YAML nodes (``yaml.compose`` with ``SafeLoader``: no
    object is ever constructed from a tag) so every error can name the line and
    column of the offending entry.
    """

    def __init__(self, path: Path, data: bytes | None = None):
        self.path = path
        self.file = str(path)
        self.data = data  # the file's bytes when the caller has read them (rulefiles.py)
        self.lines: list[str] = []

    # -- errors

    def _loc(self, line0: int, col0: int) -> Location:
        src = self.lines[line0] if 0 <= line0 < len(self.lines) else None
        return Location(self.file, line0 + 1, col0 + 1, src)

    def error(self, node: Node | None, zh: str, en: str, hint: str | None = None) -> StructureError:
        if node is None:
            loc = self._loc(0, 0)
        else:
            loc = self._loc(node.start_mark.line, node.start_mark.column)
        return StructureError(f"节假日覆盖文件格式错误：{zh}", loc, message_en=f"calendar override: {en}", hint=hint)

    # -- entry point

    def parse(self) -> _Override:
        try:
            text = self.data.decode("utf-8") if self.data is not None else self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise YamlError("节假日覆盖文件不是 UTF-8 编码", Location(self.file, 1, 1),
                            message_en=f"calendar override is not UTF-8: {e}") from None
        except OSError as e:
            raise YamlError(f"无法读取节假日覆盖文件：{e}", Location(self.file, 1, 1),
                            message_en=f"cannot read calendar override: {e}") from None
        self.lines = text.splitlines()
        try:
            root = _yaml().compose(text, Loader=_yaml().SafeLoader)
        except _yaml().YAMLError as e:
            from .load import yaml_error  # the one translation of PyYAML's messages (error path only)

            raise yaml_error(e, text, self.file) from None

        if root is None:
            raise self.error(None, "文件为空", "the file is empty")
        if not isinstance(root, _yaml().nodes.MappingNode):
            raise self.error(root, "顶层必须是映射（year、source、holidays、workdays、replace）",
                             "the top level must be a mapping")

        fields: dict[str, tuple[Node, Node]] = {}
        for knode, vnode in root.value:
            if not isinstance(knode, _yaml().nodes.ScalarNode) or knode.tag != _STR_TAG:
                raise self.error(knode, "键必须是字符串", "keys must be strings")
            key = knode.value
            if key in fields:
                raise self.error(knode, f"重复的键 {key!r}", f"duplicate key {key!r}")
            if key not in _TOP_KEYS:
                raise self.error(knode, f"未知的键 {key!r}", f"unknown key {key!r}",
                                 hint="允许的键：" + "、".join(_TOP_KEYS))
            fields[key] = (knode, vnode)

        for required in ("year", "source"):
            if required not in fields:
                raise self.error(root, f"缺少必填的键 {required!r}", f"missing required key {required!r}")

        year = self._year(*fields["year"])
        source = self._text(fields["source"][1], "source")
        ov = _Override(year=year, source=source, file=self.file)
        if "replace" in fields:
            ov.replace = self._bool(fields["replace"][1], "replace")

        if "holidays" in fields:
            for d, name, node in self._entries(fields["holidays"][1], "holidays", year):
                if d in ov.holidays:
                    raise self.error(node, f"{d.isoformat()} 在 holidays 中重复出现",
                                     f"{d.isoformat()} is listed twice in holidays")
                ov.holidays[d] = name or _DEFAULT_HOLIDAY_LABEL
        if "workdays" in fields:
            for d, name, node in self._entries(fields["workdays"][1], "workdays", year):
                if d in ov.workdays:
                    raise self.error(node, f"{d.isoformat()} 在 workdays 中重复出现",
                                     f"{d.isoformat()} is listed twice in workdays")
                if d in ov.holidays:
                    raise self.error(node, f"{d.isoformat()} 同时出现在 holidays 和 workdays 中",
                                     f"{d.isoformat()} is both a holiday and a workday")
                if d.weekday() < 5:
                    raise self.error(node, f"{d.isoformat()} 是星期{_WEEKDAY_ZH[d.weekday()]}，调休上班日必须是周六或周日",
                                     f"{d.isoformat()} is a weekday; adjusted workdays must be Saturdays or Sundays")
                ov.workdays[d] = name or ADJUSTED_WORKDAY_LABEL
        return ov

    # -- scalars

    def _year(self, knode: Node, node: Node) -> int:
        if not (isinstance(node, _yaml().nodes.ScalarNode) and node.tag == _INT_TAG and _YEAR_RE.fullmatch(node.value)):
            raise self.error(node, "year 必须是四位整数年份", "year must be a four-digit integer")
        year = int(node.value)
        if not 1 <= year <= 9998:
            raise self.error(node, f"year {year} 超出范围", f"year {year} out of range")
        stem = self.path.stem
        if stem.isdigit() and int(stem) != year:
            raise self.error(node, f"文件名 {self.path.name} 与 year: {year} 不一致",
                             f"file name {self.path.name} does not match year: {year}")
        return year

    def _text(self, node: Node, what: str) -> str:
        if not isinstance(node, _yaml().nodes.ScalarNode) or node.tag == _NULL_TAG or not str(node.value).strip():
            raise self.error(node, f"{what} 必须是非空文本", f"{what} must be non-empty text")
        return str(node.value).strip()

    def _bool(self, node: Node, what: str) -> bool:
        if not (isinstance(node, _yaml().nodes.ScalarNode) and node.tag == _BOOL_TAG):
            raise self.error(node, f"{what} 必须是 true 或 false", f"{what} must be true or false")
        return _yaml().constructor.SafeConstructor.bool_values[node.value.lower()]

    def _date(self, node: Node, year: int) -> date:
        ok = isinstance(node, _yaml().nodes.ScalarNode) and node.tag in (_TIMESTAMP_TAG, _STR_TAG)
        text = node.value if isinstance(node, _yaml().nodes.ScalarNode) else None
        if not ok or not DATE_SHAPE.fullmatch(text or ""):
            raise self.error(node, f"{text!r} 不是 YYYY-MM-DD 格式的日期" if text is not None else "应为 YYYY-MM-DD 格式的日期",
                             f"{text!r} is not a YYYY-MM-DD date" if text is not None else "expected a YYYY-MM-DD date")
        d = parse_day(text)
        if d is None:
            raise self.error(node, f"{text} 不是有效日期", f"{text} is not a valid date")
        if d.year != year:
            raise self.error(node, f"{text} 不在本文件的年份 {year} 内", f"{text} is outside this file's year {year}")
        return d

    # -- entries

    def _entries(self, node: Node, what: str, year: int):
        """Yield (date, name | None, node) for every day a holidays/workdays list names."""
        if isinstance(node, _yaml().nodes.ScalarNode) and node.tag == _NULL_TAG:
            return
        if not isinstance(node, _yaml().nodes.SequenceNode):
            raise self.error(node, f"{what} 必须是列表", f"{what} must be a list")
        for item in node.value:
            if isinstance(item, _yaml().nodes.ScalarNode):
                yield self._date(item, year), None, item
                continue
            if not isinstance(item, _yaml().nodes.MappingNode):
                raise self.error(item, f"{what} 的条目必须是日期或映射", f"{what} entries must be dates or mappings")
            keys: dict[str, Node] = {}
            for k, v in item.value:
                if not isinstance(k, _yaml().nodes.ScalarNode) or k.tag != _STR_TAG:
                    raise self.error(k, "键必须是字符串", "keys must be strings")
                if k.value in keys:
                    raise self.error(k, f"重复的键 {k.value!r}", f"duplicate key {k.value!r}")
                if k.value not in _ENTRY_KEYS:
                    raise self.error(k, f"未知的键 {k.value!r}", f"unknown key {k.value!r}",
                                     hint="允许的键：date，或 from 与 to；可选 name")
                keys[k.value] = v
            name = self._text(keys["name"], "name") if "name" in keys else None
            if "date" in keys:
                if "from" in keys or "to" in keys:
                    raise self.error(item, "date 不能与 from/to 同时使用", "use either date or from/to, not both")
                yield self._date(keys["date"], year), name, item
            elif "from" in keys and "to" in keys:
                start = self._date(keys["from"], year)
                end = self._date(keys["to"], year)
                if end < start:
                    raise self.error(keys["to"], f"to（{end}）早于 from（{start}）", f"to ({end}) is before from ({start})")
                d = start
                while d <= end:
                    yield d, name, item
                    d += timedelta(days=1)
            else:
                raise self.error(item, "条目需要 date，或同时给出 from 和 to", "an entry needs date, or both from and to")


def _load_overrides(override_dir: Path) -> dict[int, _Override]:
    if not override_dir.is_dir():
        raise StructureError(f"节假日覆盖目录不存在：{override_dir}", Location(str(override_dir), 1, 1),
                             message_en=f"calendar override directory not found: {override_dir}")
    files = sorted(p for p in override_dir.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))
    return _parse_overrides([(p, None) for p in files])


def _parse_overrides(files: list[tuple[Path, bytes | None]]) -> dict[int, _Override]:
    out: dict[int, _Override] = {}
    for path, data in files:
        ov = _OverrideParser(path, data).parse()
        if ov.year in out:
            raise StructureError(
                f"{ov.year} 年的节假日覆盖数据重复：{out[ov.year].file} 与 {path}",
                Location(str(path), 1, 1),
                message_en=f"two calendar overrides for {ov.year}: {out[ov.year].file} and {path}",
            )
        out[ov.year] = ov
    return out


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class _Year:
    year: int
    work: list[int]  # sorted ordinals of the working days of the year
    holidays: dict[date, str]  # days off that are not plain weekends → name
    adjusted: dict[date, str]  # weekend days that are working days → name
    source: str


def _as_date(d: object, what: str = "date") -> date:
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    raise TypeError(f"{what} must be a datetime.date, not {type(d).__name__}")


class WorkCalendar:
    """Working-day arithmetic over chinese_calendar's data plus optional YAML overrides."""

    def __init__(self, override_dir: Path | str | None = None, *, files: dict[str, bytes] | None = None):
        """Overrides from ``override_dir``, or from ``files`` (shown name → bytes) already read."""
        self.override_dir = Path(override_dir) if override_dir is not None else None
        if files is not None:
            self._overrides = _parse_overrides([(Path(n), b) for n, b in sorted(files.items())])
        else:
            self._overrides = _load_overrides(self.override_dir) if self.override_dir is not None else {}
        self._years: dict[int, _Year] = {}
        self._last_year: int | None = None

    def __repr__(self) -> str:
        return f"WorkCalendar(override_dir={str(self.override_dir) if self.override_dir else None!r})"

    # -- coverage

    def covers(self, year: int) -> bool:
        """Whether a holiday schedule for ``year`` is known (chinese_calendar or an override)."""
        return year in _CC_YEARS or year in self._overrides

    def last_year(self) -> int:
        """The last year with a published holiday schedule (chinese_calendar or an override)."""
        if self._last_year is None:  # asked on every decision: computed once
            self._last_year = max(set(_CC_YEARS) | set(self._overrides))
        return self._last_year

    def ends_soon(self, today: date, within_days: int) -> str | None:
        """A warning when the last published schedule ends within ``within_days`` of ``today``."""
        end = date(self.last_year(), 12, 31)
        left = (end - today).days
        if left > within_days:
            return None
        nxt = self.last_year() + 1
        when = f"还有 {left} 天" if left >= 0 else f"已过 {-left} 天"
        return (f"节假日安排数据只到 {end}（{when}）；国务院办公厅公布 {nxt} 年节假日安排后，"
                f"请按通知添加 rules/calendar/{nxt}.yaml（格式见 docs/zh/节假日日历文件.md）")

    def source(self, year: int) -> str:
        """Where ``year``'s schedule comes from (the override's ``source`` or chinesecalendar)."""
        return self._year(year).source

    def _year(self, year: int) -> _Year:
        y = self._years.get(year)
        if y is None:
            y = self._years[year] = self._build(year)
        return y

    def _build(self, year: int) -> _Year:
        if not self.covers(year):
            raise CalendarError(year)
        ov = self._overrides.get(year)
        if ov is not None and ov.replace:
            holidays, adjusted = dict(ov.holidays), dict(ov.workdays)
            source = ov.source
        else:
            holidays = {d: n for d, n in _CC_HOLIDAYS.items() if d.year == year}
            adjusted = {d: n for d, n in _CC_WORKDAYS.items() if d.year == year}
            source = _CC_SOURCE
            if ov is not None:  # the override wins where the two disagree
                for d in ov.workdays:
                    holidays.pop(d, None)
                for d in ov.holidays:
                    adjusted.pop(d, None)
                holidays.update(ov.holidays)
                adjusted.update(ov.workdays)
                source = f"{_CC_SOURCE}；{ov.source}" if year in _CC_YEARS else ov.source
        first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
        work = []
        for o in range(first, last + 1):
            d = date.fromordinal(o)
            if d in adjusted or (d.weekday() < 5 and d not in holidays):
                work.append(o)
        return _Year(year, work, holidays, adjusted, source)

    def _work(self, year: int) -> list[int]:
        return self._year(year).work

    # -- queries

    def is_workday(self, d: date) -> bool:
        d = _as_date(d)
        arr = self._work(d.year)
        o = d.toordinal()
        i = bisect_left(arr, o)
        return i < len(arr) and arr[i] == o

    def roll_forward(self, d: date) -> date:
        """``d`` if it is a working day, else the next working day (民法典 第二百零三条)."""
        return self.add_working_days(d, 0)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (before it if n < 0); ``start`` never counts.

        n = 0 gives ``start`` if it is a working day, else the next working day.
        """
        start = _as_date(start, "start")
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        year = start.year
        arr = self._work(year)
        o = start.toordinal()
        if n > 0:
            k = bisect_right(arr, o) + n - 1  # index of the answer, counting on into later years
            while k >= len(arr):
                k -= len(arr)
                year += 1
                arr = self._work(year)
        elif n == 0:
            k = bisect_left(arr, o)
            while k >= len(arr):
                k -= len(arr)
                year += 1
                arr = self._work(year)
        else:
            k = bisect_left(arr, o) + n  # bisect_left = working days strictly before start
            while k < 0:
                year -= 1
                arr = self._work(year)
                k += len(arr)
        return date.fromordinal(arr[k])

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b; ``-working_days_between(b, a)`` when b < a."""
        a, b = _as_date(a, "a"), _as_date(b, "b")
        if b < a:
            return -self.working_days_between(b, a)
        arr_a = self._work(a.year)
        if a.year == b.year:
            return bisect_right(arr_a, b.toordinal()) - bisect_right(arr_a, a.toordinal())
        count = len(arr_a) - bisect_right(arr_a, a.toordinal())
        for y in range(a.year + 1, b.year):
            count += len(self._work(y))
        count += bisect_right(self._work(b.year), b.toordinal())
        return count

    def skipped_days(self, start: date, end: date) -> list[tuple[date, str]]:
        """Days strictly between ``start`` and ``end`` that break the Mon–Fri pattern.

        Non-working days are labelled with their holiday name ('元旦', '春节', '国庆节' …,
        or the override's ``name``) or '周末'; weekend days that are working days are
        labelled '调休上班'.  Used to explain a due-date computation.
        """
        start, end = _as_date(start, "start"), _as_date(end, "end")
        lo, hi = sorted((start, end))
        self._year(lo.year), self._year(hi.year)  # raise for an uncovered end year even if nothing lies between
        out: list[tuple[date, str]] = []
        d = lo + timedelta(days=1)
        while d < hi:
            y = self._year(d.year)
            if d in y.adjusted:
                out.append((d, ADJUSTED_WORKDAY_LABEL))
            elif d in y.holidays:
                out.append((d, y.holidays[d]))
            elif d.weekday() >= 5:
                out.append((d, WEEKEND_LABEL))
            d += timedelta(days=1)
        return out


def today() -> date:
    """Today, or ``$XUEJI_POLICY_TODAY`` (YYYY-MM-DD): the clock is injectable for tests and drills."""
    import os

    env = os.environ.get("XUEJI_POLICY_TODAY")
    return parse_day(env) or date.today()


# --------------------------------------------------------------------------- default instance

_DEFAULT: dict[str | None, tuple[tuple, WorkCalendar]] = {}


def _signature(directory: Path) -> tuple:
    """Names, sizes and mtimes of the override files, so an edited file is re-read."""
    sig = []
    for p in sorted(directory.iterdir()):
        if p.is_file() and p.suffix in (".yaml", ".yml"):
            st = p.stat()
            sig.append((p.name, st.st_size, st.st_mtime_ns))
    return tuple(sig)


def default_calendar(rules_dir: Path | str | None = None) -> WorkCalendar:
    """The shared calendar for a rules directory: overrides from ``rules_dir/calendar/``.

    With no ``rules_dir``, or a rules directory without a ``calendar/`` subdirectory,
    only chinese_calendar's data is used.  Instances are cached per override directory
    (and re-read if its YAML files change).
    """
    override_dir: Path | None = None
    if rules_dir is not None:
        candidate = Path(rules_dir) / "calendar"
        if candidate.is_dir():
            override_dir = candidate.resolve()
    key = str(override_dir) if override_dir is not None else None
    sig = _signature(override_dir) if override_dir is not None else ()
    hit = _DEFAULT.get(key)
    if hit is not None and hit[0] == sig:
        return hit[1]
    cal = WorkCalendar(override_dir)
    _DEFAULT[key] = (sig, cal)
    return cal
