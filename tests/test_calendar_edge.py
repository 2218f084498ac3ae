"""The calendar's edge (issue 10, class 10): one coherent rule, tested.

* a case dated past the year after the last published holiday schedule is an error (a typo);
* in that following year, what needs no working days is decided; a due date that needs them is
  ``null`` with a warning; a decision that hangs on a working-day count there is an error naming
  the missing year;
* ``check`` warns when the schedule ends within 60 days of today (an injected clock).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xueji_policy import evaluate
from xueji_policy.engine import default_ruleset, evaluate_dict
from xueji_policy.errors import CalendarError

ROOT = Path(__file__).resolve().parent.parent
RS = default_ruleset()
LAST = RS.calendar.last_year()
NEXT = LAST + 1


def _example(name: str) -> dict:
    return json.loads((ROOT / "examples" / f"{name}.json").read_text(encoding="utf-8"))


def _shift(value, years: int):
    """Every ISO date inside ``value`` moved by whole years (same month and day)."""
    if isinstance(value, dict):
        return {k: _shift(v, years) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, years) for v in value]
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            d = dt.date.fromisoformat(value)
        except ValueError:
            return value
        return d.replace(year=d.year + years).isoformat()
    return value


def _into(case: dict, year: int) -> dict:
    return _shift(copy.deepcopy(case), year - int(case["date"][:4]))


@pytest.mark.parametrize("year", [NEXT + 1, 2099])
def test_a_case_dated_far_past_the_last_schedule_is_an_error(year):
    case = _into(_example("graduation"), year)
    with pytest.raises(CalendarError) as info:
        evaluate(case)
    assert str(year) in str(info.value) and str(LAST) in str(info.value)


def test_in_the_following_year_a_decision_without_working_days_is_made_and_its_due_date_is_null_with_a_warning():
    case = _into(_example("transfer_in"), NEXT)
    d = evaluate_dict(case)
    assert d["decision"] == "allow"
    workday_dues = [o for o in d["obligations"] if o["rule"] == "transfer.complete_within_workdays"]
    assert workday_dues and workday_dues[0]["due"] is None
    (w,) = [w for w in d["warnings"] if w["rule"] == "transfer.complete_within_workdays"]
    assert w["code"] == "calendar_not_published" and str(NEXT) in w["message"]
    assert evaluate(case).warnings[0].code == "calendar_not_published"  # the typed facade carries it too


def test_a_decision_that_hangs_on_working_days_in_the_following_year_names_the_missing_year():
    # 第十五条: withdrawal once the working days after the suspension term have passed.
    case = {"action": "withdrawal", "date": f"{NEXT}-11-20", "student": {
        "name": "测试", "id_type": "foreign", "id_number": "E1234567", "status": "suspended", "grade": 2,
        "semester": 1, "enrolled_on": f"{NEXT - 2}-09-01",
        "school": {"name": "营口市第一高级中学", "province": "辽宁省", "city": "营口市", "level": "ordinary",
                   "ownership": "public"},
        "suspensions": [{"start": f"{NEXT - 1}-11-01", "reason": "illness"}]},
        "withdrawal": {"trigger": "no_return_after_suspension", "family_contact_failed": True,
                       "school_council_approved": True, "family_notified": True}}
    with pytest.raises(CalendarError) as info:
        evaluate(case)
    assert str(NEXT) in str(info.value) and f"rules/calendar/{NEXT}.yaml" in str(info.value)


def test_a_year_with_a_published_schedule_is_unaffected():
    d = evaluate_dict(_example("transfer_in"))
    assert "warnings" not in d and all(o["due"] for o in d["obligations"] if "workdays" in o["rule"])


def test_the_warning_window_uses_an_injected_clock():
    end = dt.date(LAST, 12, 31)
    assert RS.calendar.ends_soon(end - dt.timedelta(days=61), 60) is None
    soon = RS.calendar.ends_soon(end - dt.timedelta(days=30), 60)
    assert soon and f"{NEXT}.yaml" in soon and "30" in soon


def test_check_warns_when_the_calendar_ends_soon():
    end = dt.date(LAST, 12, 31)
    env = {**os.environ, "XUEJI_POLICY_TODAY": (end - dt.timedelta(days=10)).isoformat()}
    out = subprocess.run([sys.executable, "-m", "xueji_policy", "check"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0 and f"rules/calendar/{NEXT}.yaml" in out.stderr
    env["XUEJI_POLICY_TODAY"] = (end - dt.timedelta(days=200)).isoformat()
    out = subprocess.run([sys.executable, "-m", "xueji_policy", "check"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0 and "节假日安排" not in out.stderr
