"""Working-day arithmetic (xueji_policy.workdays).

Every concrete expectation below was worked out by hand from the State Council
holiday notices (国办发明电) for the year in question, and is explained in a
comment.  Weekday check points: 2024-01-01 was a Monday, 2025-01-01 a Wednesday,
2026-01-01 a Thursday, 2027-01-01 a Friday.
"""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji_policy.errors import CalendarError, StructureError, YamlError
from xueji_policy.workdays import WorkCalendar, default_calendar


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


# --------------------------------------------------------------------------- is_workday


def test_is_workday_matches_chinese_calendar_everywhere(cal):
    d, end = date(2004, 1, 1), date(2026, 12, 31)
    while d <= end:
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d
        d += timedelta(days=1)


def test_is_workday_examples(cal):
    assert cal.is_workday(date(2024, 9, 27))  # Friday
    assert not cal.is_workday(date(2024, 9, 28))  # plain Saturday
    assert cal.is_workday(date(2024, 9, 29))  # Sunday, 国庆调休上班
    assert not cal.is_workday(date(2024, 10, 1))  # 国庆节 (Tuesday)
    assert not cal.is_workday(date(2024, 10, 7))  # 国庆节 (Monday)
    assert cal.is_workday(date(2024, 10, 12))  # Saturday, 国庆调休上班


def test_covers(cal):
    assert cal.covers(2004) and cal.covers(2024) and cal.covers(2026)
    assert not cal.covers(2003)
    assert not cal.covers(2027)


# --------------------------------------------------------------------------- add_working_days


def test_national_day_2024(cal):
    # 2024 国庆: Oct 1 (Tue) – Oct 7 (Mon) off; Sep 29 (Sun) and Oct 12 (Sat) are 调休 workdays.
    # From Fri 2024-09-27, not counting the start day:
    #   Sep 28 Sat off | Sep 29 Sun(调休)=1 | Sep 30 Mon=2 | Oct 1–7 off |
    #   Oct 8=3, 9=4, 10=5, 11=6 | Oct 12 Sat(调休)=7 | Oct 13 Sun off | Oct 14=8, 15=9, 16 Wed=10
    assert cal.add_working_days(date(2024, 9, 27), 10) == date(2024, 10, 16)
    assert cal.add_working_days(date(2024, 9, 27), 1) == date(2024, 9, 29)  # the 调休 Sunday
    assert cal.add_working_days(date(2024, 9, 27), 3) == date(2024, 10, 8)
    assert cal.working_days_between(date(2024, 9, 27), date(2024, 10, 16)) == 10
    assert cal.working_days_between(date(2024, 10, 16), date(2024, 9, 27)) == -10


def test_spring_festival_2025(cal):
    # 2025 春节: Jan 28 (Tue) – Feb 4 (Tue) off; Jan 26 (Sun) and Feb 8 (Sat) are 调休 workdays.
    # From Fri 2025-01-24: Jan 25 Sat off | Jan 26 Sun(调休)=1 | Jan 27 Mon=2 | Jan 28–Feb 4 off |
    #   Feb 5 Wed=3, Feb 6=4, Feb 7 Fri=5 | Feb 8 Sat(调休)=6
    assert cal.add_working_days(date(2025, 1, 24), 5) == date(2025, 2, 7)
    assert cal.add_working_days(date(2025, 1, 24), 6) == date(2025, 2, 8)
    # a deadline computed to fall inside the holiday rolls to Wed Feb 5 (民法典 第二百零三条)
    assert cal.roll_forward(date(2025, 1, 29)) == date(2025, 2, 5)


def test_2026_dates(cal):
    # 2026 春节: Feb 15 (Sun) – Feb 23 (Mon) off; Feb 14 (Sat) and Feb 28 (Sat) are 调休 workdays.
    # From Fri 2026-02-13: Feb 14 Sat(调休)=1 | Feb 15–23 off | Feb 24 Tue=2 … Feb 27 Fri=5 | Feb 28 Sat(调休)=6
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert cal.add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)
    assert cal.add_working_days(date(2026, 2, 13), 6) == date(2026, 2, 28)
    # 2026 元旦 across the year boundary: Jan 1 (Thu) – Jan 3 (Sat) off, Jan 4 (Sun) 调休.
    # From Wed 2025-12-31 the first working day is Sun 2026-01-04.
    assert cal.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert cal.working_days_between(date(2025, 12, 31), date(2026, 1, 4)) == 1
    # 2026 国庆: Oct 1 (Thu) – Oct 7 (Wed) off, Oct 10 (Sat) 调休.
    # From Wed 2026-09-30: Oct 8 Thu=1, Oct 9 Fri=2, Oct 10 Sat(调休)=3
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert cal.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_friday_plus_one_is_monday(cal):
    # 2024-03-08 is an ordinary Friday (no holiday near it); the next working day is Mon 03-11.
    assert cal.add_working_days(date(2024, 3, 8), 1) == date(2024, 3, 11)


def test_saturday_start(cal):
    # Sat 2024-03-09: the start day is not counted, Sunday is off, so +1 is Mon 03-11,
    # the same answer as from Friday; +2 is Tue 03-12.
    assert cal.add_working_days(date(2024, 3, 9), 1) == date(2024, 3, 11)
    assert cal.add_working_days(date(2024, 3, 9), 2) == date(2024, 3, 12)
    # Saturday → Monday is one working day.
    assert cal.working_days_between(date(2024, 3, 9), date(2024, 3, 11)) == 1


def test_n_zero(cal):
    # a working day stays put; a weekend or holiday rolls to the next working day
    assert cal.add_working_days(date(2024, 3, 8), 0) == date(2024, 3, 8)
    assert cal.add_working_days(date(2024, 3, 9), 0) == date(2024, 3, 11)
    assert cal.add_working_days(date(2024, 10, 1), 0) == date(2024, 10, 8)  # 国庆 → Tue Oct 8
    assert cal.add_working_days(date(2024, 9, 29), 0) == date(2024, 9, 29)  # 调休 Sunday is working
    assert cal.roll_forward(date(2024, 10, 5)) == date(2024, 10, 8)


def test_negative_n(cal):
    # 前1个工作日 of Sat 2024-03-09 is Fri 03-08; of Mon 03-11 also Fri 03-08.
    assert cal.add_working_days(date(2024, 3, 9), -1) == date(2024, 3, 8)
    assert cal.add_working_days(date(2024, 3, 11), -1) == date(2024, 3, 8)
    # 前5个工作日 of Tue 2024-10-08, counting back over 国庆 (Oct 1–7 off):
    #   Sep 30 Mon=1 | Sep 29 Sun(调休)=2 | Sep 28 Sat off | Sep 27 Fri=3, Sep 26=4, Sep 25 Wed=5
    assert cal.add_working_days(date(2024, 10, 8), -5) == date(2024, 9, 25)
    # back across the 2026 元旦 break: 前1个工作日 of Sun 2026-01-04 (调休) is Wed 2025-12-31
    assert cal.add_working_days(date(2026, 1, 4), -1) == date(2025, 12, 31)


def test_working_days_between_basics(cal):
    assert cal.working_days_between(date(2024, 3, 8), date(2024, 3, 8)) == 0
    # Mon 2024-03-04 → Mon 03-11: Tue..Fri (4) + Mon 03-11 (1) = 5
    assert cal.working_days_between(date(2024, 3, 4), date(2024, 3, 11)) == 5
    assert cal.working_days_between(date(2024, 3, 11), date(2024, 3, 4)) == -5
    # a whole year: chinese_calendar's own count of working days in 2025
    n2025 = len(chinese_calendar.get_workdays(date(2025, 1, 1), date(2025, 12, 31)))
    assert cal.working_days_between(date(2024, 12, 31), date(2025, 12, 31)) == n2025


def test_long_spans_use_all_years(cal):
    # 2004-01-01 .. 2026-12-31 in one call, against chinese_calendar's own count.
    total = len(chinese_calendar.get_workdays(date(2004, 1, 2), date(2026, 12, 31)))
    assert cal.working_days_between(date(2004, 1, 1), date(2026, 12, 31)) == total
    assert cal.add_working_days(date(2004, 1, 1), total) == max(
        chinese_calendar.get_workdays(date(2026, 12, 1), date(2026, 12, 31)))


def test_type_errors(cal):
    with pytest.raises(TypeError):
        cal.add_working_days(date(2024, 3, 8), 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cal.is_workday("2024-03-08")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties

dates_2024_2026 = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))


def _naive_add(start: date, n: int) -> date:
    """Day-by-day reference using chinese_calendar.is_workday."""
    d = start
    if n == 0:
        while not chinese_calendar.is_workday(d):
            d += timedelta(days=1)
        return d
    step = timedelta(days=1 if n > 0 else -1)
    count = 0
    while count < abs(n):
        d += step
        if chinese_calendar.is_workday(d):
            count += 1
    return d


@settings(max_examples=400, deadline=None)
@given(a=dates_2024_2026, n=st.integers(min_value=-60, max_value=60))
def test_inverse_property(a, n):
    cal = default_calendar(None)
    try:
        b = cal.add_working_days(a, n)
    except CalendarError as e:
        # only running off the end of the data (into 2027) may fail
        assert e.year == 2027 and n > 0 and a >= date(2026, 9, 1)
        return
    assert cal.is_workday(b)
    assert b == _naive_add(a, n)
    between = cal.working_days_between(a, b)
    assert between == -cal.working_days_between(b, a)
    if n > 0 or cal.is_workday(a):
        # the exact inverse: start not counted, end counted
        assert between == n
    elif n == 0:
        # a non-working start rolls forward to b, and (a, b] holds exactly b
        assert between == 1
    else:
        # non-working start counted backwards: the |n| working days are b..(a-1), so (b, a] holds |n|-1
        assert between == n + 1
    if n < 0:
        # the mirror statement that holds for every start: |n| working days d with b <= d < a
        assert cal.working_days_between(b - timedelta(days=1), a - timedelta(days=1)) == -n
    if cal.is_workday(a) and n != 0:
        # from a working day, going there and back returns to the start
        assert cal.add_working_days(b, -n) == a


@settings(max_examples=200, deadline=None)
@given(a=dates_2024_2026, b=dates_2024_2026)
def test_between_is_additive(a, b):
    cal = default_calendar(None)
    mid = date(2025, 6, 15)
    assert cal.working_days_between(a, b) == cal.working_days_between(a, mid) + cal.working_days_between(mid, b)


# --------------------------------------------------------------------------- skipped_days


def test_skipped_days_national_day_2024(cal):
    # What lies strictly between Fri 2024-09-27 and its +10 due date Wed 2024-10-16
    assert cal.skipped_days(date(2024, 9, 27), date(2024, 10, 16)) == [
        (date(2024, 9, 28), "周末"),
        (date(2024, 9, 29), "调休上班"),
        (date(2024, 10, 1), "国庆节"),
        (date(2024, 10, 2), "国庆节"),
        (date(2024, 10, 3), "国庆节"),
        (date(2024, 10, 4), "国庆节"),
        (date(2024, 10, 5), "国庆节"),  # weekend days inside the break carry the holiday's name
        (date(2024, 10, 6), "国庆节"),
        (date(2024, 10, 7), "国庆节"),
        (date(2024, 10, 12), "调休上班"),
        (date(2024, 10, 13), "周末"),
    ]


def test_skipped_days_other_labels(cal):
    # 2026 元旦 Jan 1–3 off, Jan 4 (Sun) 调休
    assert cal.skipped_days(date(2025, 12, 31), date(2026, 1, 5)) == [
        (date(2026, 1, 1), "元旦"),
        (date(2026, 1, 2), "元旦"),
        (date(2026, 1, 3), "元旦"),
        (date(2026, 1, 4), "调休上班"),
    ]
    # order of the arguments does not matter; an ordinary week has nothing to report
    assert cal.skipped_days(date(2026, 1, 5), date(2025, 12, 31)) == cal.skipped_days(
        date(2025, 12, 31), date(2026, 1, 5))
    assert cal.skipped_days(date(2024, 3, 4), date(2024, 3, 8)) == []
    labels = {label for _, label in cal.skipped_days(date(2025, 1, 20), date(2025, 2, 10))}
    assert labels == {"周末", "春节", "调休上班"}


# --------------------------------------------------------------------------- uncovered years


def test_2027_raises_calendar_error(cal):
    with pytest.raises(CalendarError) as ei:
        cal.is_workday(date(2027, 3, 1))
    assert ei.value.year == 2027
    assert "2027" in ei.value.message and "法定节假日" in ei.value.message
    assert ei.value.code == "no_calendar"


@pytest.mark.parametrize("call", [
    lambda c: c.add_working_days(date(2027, 1, 4), 0),
    lambda c: c.add_working_days(date(2027, 1, 4), -1),  # the start's year is always touched
    lambda c: c.add_working_days(date(2026, 12, 30), 5),  # runs off the end of 2026
    lambda c: c.working_days_between(date(2026, 6, 1), date(2027, 1, 10)),
    lambda c: c.working_days_between(date(2027, 1, 10), date(2027, 1, 10)),
    lambda c: c.roll_forward(date(2027, 1, 1)),
    lambda c: c.skipped_days(date(2026, 12, 31), date(2027, 1, 1)),
])
def test_queries_touching_2027_raise(cal, call):
    with pytest.raises(CalendarError) as ei:
        call(cal)
    assert ei.value.year == 2027


def test_2003_raises(cal):
    with pytest.raises(CalendarError) as ei:
        cal.add_working_days(date(2004, 1, 2), -5)  # back past the first year of data
    assert ei.value.year == 2003


# --------------------------------------------------------------------------- overrides

# A FICTIONAL 2027 schedule, for testing only (not the real 2027 notice).
# 2027-01-01 is a Friday, so Jan 1–3 = Fri–Sun; 2027-02-07 is a Sunday, Feb 8–14 = Mon–Sun.
OVERRIDE_2027 = """\
year: 2027
source: 测试用虚构安排（非真实通知）
holidays:
  - {from: 2027-01-01, to: 2027-01-03, name: 元旦}
  - {from: 2027-02-08, to: 2027-02-14, name: 春节}
  - 2027-05-03
workdays:
  - {date: 2027-02-07, name: 春节调休}
"""


def _write(dir_: Path, name: str, text: str) -> Path:
    p = dir_ / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_override_makes_2027_work(tmp_path):
    _write(tmp_path, "2027.yaml", OVERRIDE_2027)
    cal = WorkCalendar(tmp_path)
    assert cal.covers(2027)
    assert cal.source(2027).startswith("测试用虚构安排")
    # Thu 2026-12-31 + 1: Jan 1 (Fri, 元旦), Jan 2–3 weekend → Mon 2027-01-04
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    # Thu 2027-02-04: +1 = Fri Feb 5 | Sat Feb 6 off | +2 = Sun Feb 7 (调休) | Feb 8–14 春节 | +3 = Mon Feb 15
    assert cal.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 5)
    assert cal.add_working_days(date(2027, 2, 4), 2) == date(2027, 2, 7)
    assert cal.add_working_days(date(2027, 2, 4), 3) == date(2027, 2, 15)
    assert not cal.is_workday(date(2027, 5, 3))  # a single-date holiday (Monday)
    assert cal.is_workday(date(2027, 5, 4))
    assert cal.skipped_days(date(2027, 2, 4), date(2027, 2, 15)) == [
        (date(2027, 2, 6), "周末"),
        (date(2027, 2, 7), "调休上班"),
    ] + [(date(2027, 2, d), "春节") for d in range(8, 15)]
    # 2028 is still unknown
    with pytest.raises(CalendarError) as ei:
        cal.add_working_days(date(2027, 12, 20), 30)
    assert ei.value.year == 2028


def test_override_adds_to_or_replaces_chinese_calendar(tmp_path):
    add = tmp_path / "add"
    add.mkdir()
    # Adds a (fictional) day off on Mon 2026-03-02; chinese_calendar's 国庆 stays.
    _write(add, "2026.yaml", """\
        year: 2026
        source: 测试用补充
        holidays:
          - {date: 2026-03-02, name: 测试假日}
        """)
    cal = WorkCalendar(add)
    assert not cal.is_workday(date(2026, 3, 2))
    assert not cal.is_workday(date(2026, 10, 1))
    # Sat 2026-02-28 is chinese_calendar's 春节调休 workday; Sun Mar 1 off; Mon Mar 2 is the added day off
    assert cal.add_working_days(date(2026, 2, 28), 1) == date(2026, 3, 3)
    assert cal.skipped_days(date(2026, 2, 28), date(2026, 3, 3)) == [
        (date(2026, 3, 1), "周末"), (date(2026, 3, 2), "测试假日")]

    rep = tmp_path / "replace"
    rep.mkdir()
    _write(rep, "2026.yaml", """\
        year: 2026
        source: 测试用替换
        holidays: []
        replace: true
        """)
    cal = WorkCalendar(rep)
    assert cal.is_workday(date(2026, 10, 1))  # chinese_calendar's 国庆 is gone
    assert not cal.is_workday(date(2026, 2, 14))  # and so is its 调休 Saturday
    assert cal.source(2026) == "测试用替换"


def test_default_calendar_is_cached(tmp_path):
    rules = tmp_path / "rules"
    (rules / "calendar").mkdir(parents=True)
    _write(rules / "calendar", "2027.yaml", OVERRIDE_2027)
    a = default_calendar(rules)
    assert a is default_calendar(rules)
    assert a.covers(2027)
    assert default_calendar(None) is default_calendar(None)
    assert not default_calendar(None).covers(2027)
    assert not default_calendar(tmp_path).covers(2027)  # no calendar/ subdirectory


# --------------------------------------------------------------------------- malformed overrides


def _error_for(tmp_path: Path, text: str, name: str = "2027.yaml", cls=StructureError):
    _write(tmp_path, name, text)
    with pytest.raises(cls) as ei:
        WorkCalendar(tmp_path)
    err = ei.value
    assert err.loc is not None and err.loc.file.endswith(name)
    return err


def test_date_outside_year(tmp_path):
    text = """\
        year: 2027
        source: 测试
        holidays:
          - 2027-01-01
          - {from: 2027-12-31, to: 2028-01-02, name: 元旦}
        """
    err = _error_for(tmp_path, text)
    line = textwrap.dedent(text).splitlines()[4]
    assert (err.loc.line, err.loc.column) == (5, line.index("2028-01-02") + 1)
    assert "2028-01-02" in err.message and "2027" in err.message
    assert "2028-01-02" in err.render()


def test_bad_date_string(tmp_path):
    text = """\
        year: 2027
        source: 测试
        holidays:
          - 2027-01-01
        workdays:
          - 2027-02-30
        """
    err = _error_for(tmp_path, text)
    assert (err.loc.line, err.loc.column) == (6, 5)
    assert "2027-02-30" in err.message


def test_non_date_string(tmp_path):
    text = """\
        year: 2027
        source: 测试
        holidays:
          - {date: 下周一, name: 元旦}
        """
    err = _error_for(tmp_path, text)
    assert err.loc.line == 4


def test_unknown_top_level_key(tmp_path):
    text = """\
        year: 2027
        source: 测试
        holiday:
          - 2027-01-01
        """
    err = _error_for(tmp_path, text)
    assert (err.loc.line, err.loc.column) == (3, 1)
    assert "holiday" in err.message


def test_unknown_entry_key(tmp_path):
    text = """\
        year: 2027
        source: 测试
        holidays:
          - 2027-01-01
          - {from: 2027-02-05, until: 2027-02-12}
        """
    err = _error_for(tmp_path, text)
    line = textwrap.dedent(text).splitlines()[4]
    assert (err.loc.line, err.loc.column) == (5, line.index("until") + 1)


def test_workday_on_a_weekday(tmp_path):
    text = """\
        year: 2027
        source: 测试
        workdays:
          - 2027-02-08
        """
    err = _error_for(tmp_path, text)  # 2027-02-08 is a Monday
    assert err.loc.line == 4 and "星期一" in err.message


def test_missing_source_and_file_name_mismatch(tmp_path):
    err = _error_for(tmp_path, "year: 2027\nholidays: []\n")
    assert "source" in err.message and err.loc.line == 1
    other = tmp_path / "other"
    other.mkdir()
    err = _error_for(other, "year: 2026\nsource: 测试\n", name="2027.yaml")
    assert err.loc.line == 1 and "2027.yaml" in err.message


def test_yaml_syntax_error(tmp_path):
    err = _error_for(tmp_path, "year: 2027\nsource: [测试\n", cls=YamlError)
    assert err.loc.line >= 2


def test_missing_override_dir(tmp_path):
    with pytest.raises(StructureError):
        WorkCalendar(tmp_path / "nope")
