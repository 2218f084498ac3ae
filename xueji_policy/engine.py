"""Evaluate stage: validate a case → the rules of its action → combine → ``Decision``.

Combining (the case contract):

* ``allow`` iff at least one permit applies and no forbid applies;
* ``reasons``: every forbid that applies, and — when no permit applies — every
  permit of the action that failed; never empty on deny;
* ``basis``: the permits that applied;
* on allow: the ``outcome`` of the first applying permit that names one, the
  obligations that apply with their due dates, and the approvals of the applying
  permits and obligations.

A rule *applies* when its ``when`` holds and its ``unless`` (if any) does not.
The engine knows no article: everything it decides comes from the ``RuleSet``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .contract import approval_bodies
from .errors import CalendarError, EvaluationError
from .pipeline import load_ruleset
from .plan import plan_for
from .privacy import mask_ids_in_text, may_hold_id
from .ruleset import RuleSet

if TYPE_CHECKING:  # pydantic models are imported only by the typed facade
    from .models import Case, Decision


_default: RuleSet | None = None
_to_model: Any = None  # models.decision_from_dict, imported on first use


def default_ruleset() -> RuleSet:
    """The shipped rules, loaded once per process."""
    global _default
    if _default is None:
        _default = load_ruleset()
    return _default


def _as_dict(case) -> Any:
    from .models import Case

    if isinstance(case, Case):
        return case.model_dump(mode="json", exclude_unset=True)
    return case


def evaluate(case: dict | Case, *, ruleset: RuleSet | None = None, explain: bool | str = False,
             as_of: _dt.date | None = None, on_decision=None) -> Decision:
    """Decide one case.  Raises ``CaseError``, ``NotInForceError``, ``CalendarError``
    or ``EvaluationError`` — never anything else on purpose.

    The rules and parameters in force on the case's ``date`` decide it; ``as_of``
    judges it instead by those in force on another day (to compare amendments).
    ``on_decision(case, decision_dict)`` is called with every decision made — e.g. an
    ``audit.DecisionLog``.
    """
    global _to_model
    if _to_model is None:  # pydantic is imported by the typed facade only, once
        from .models import decision_from_dict

        _to_model = decision_from_dict
    rs = ruleset or _default or default_ruleset()
    return _to_model(evaluate_dict(case, ruleset=rs, explain=explain, as_of=as_of, on_decision=on_decision), rs)


def evaluate_dict(case: dict | Case, *, ruleset: RuleSet | None = None, explain: bool | str = False,
                  as_of: _dt.date | None = None, on_decision=None) -> dict:
    """Like ``evaluate`` but returns the decision as a JSON-ready dict."""
    rs = ruleset or default_ruleset()
    data = case if type(case) is dict else _as_dict(case)
    rs.validate(data)
    day = as_of or _dt.date.fromisoformat(data["date"])
    params = rs.params_on(day)
    rs.consistency.check(data, params)  # facts that contradict each other: CaseError, not a decision
    action = data["action"]
    plan = plan_for(rs, action, day)

    _check_calendar_range(rs, day)
    missing: CalendarError | None = None
    flags: Sequence[bool | None]
    try:
        flags = plan.decide(data, params)
    except CalendarError as e:
        # A working day in a year whose schedule is not yet published: decide what does not hang on it.
        flags, missing = _rule_by_rule(plan.forbids + plan.permits, data, params, e)
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as e:  # pragma: no cover - checker guards
        raise EvaluationError(f"规则求值失败：{type(e).__name__}", f"rule evaluation failed: {e}") from None
    n = len(plan.forbids)
    applied_forbids = [r for r, f in zip(plan.forbids, flags) if f]
    applied_permits = [r for r, f in zip(plan.permits, flags[n:]) if f]
    if missing is not None and not applied_forbids and \
            (None in flags[:n] or (not applied_permits and None in flags[n:])):
        raise _hanging(flags, plan.forbids + plan.permits, missing)

    allow = bool(applied_permits) and not applied_forbids
    reasons = [r.reason for r in applied_forbids]
    if not applied_permits:
        reasons += [r.reason_unmet for r in plan.permits]
    if not allow and not reasons:
        raise EvaluationError(f"操作 {action} 在 {day} 没有生效的许可规则，无法作出决定",
                              f"action {action} has no permit rule in force on {day}")

    outcome = None
    obligations: list[dict] = []
    approvals: set[str] = set()
    warnings: list[dict] = []
    if allow:
        env: dict = {}
        outcome = _outcome(applied_permits, data, params, env)
        for r in applied_permits:
            approvals.update(r.approvals)
        try:
            owed = plan.oblige(data, params)
        except CalendarError:
            owed = _obligations_one_by_one(plan.obligations, data, params, warnings)
        for i, due in owed:
            r = plan.obligations[i]
            obligations.append({"rule": r.id, **r.cite_parts, "cite": r.cite_text, "message": r.message,
                                "due": due.isoformat() if isinstance(due, _dt.date) else None})
            approvals.update(r.approvals)

    case_id = data.get("case_id")
    decision = {
        # 第三十二条: never echo an ID number (only a string that long can hold one).
        "case_id": mask_ids_in_text(case_id) if isinstance(case_id, str) and may_hold_id(case_id) else case_id,
        "action": action,
        "decision": "allow" if allow else "deny",
        "outcome": outcome,
        "reasons": reasons,
        "basis": [r.reason for r in applied_permits] if allow else [],
        "obligations": obligations,
        "approvals": _ordered_approvals(approvals) if approvals else [],
        "ruleset": rs.info(),
    }
    if warnings:
        decision["warnings"] = warnings
    if explain == "brief":  # only the deciding rules, one Chinese sentence each (brief.py)
        from .brief import brief

        decision["brief"] = brief(rs, data, params, decision)
    elif explain:  # True or "full"
        from .explain import trace

        decision["trace"] = trace(rs, data, params, allow, day)
    if on_decision is not None:
        on_decision(data, decision)
    return decision


def _outcome(permits: Iterable, data: dict, params: dict, env: dict) -> str | None:
    for r in permits:
        for o in r.outcomes:
            if o.when is None or o.when(data, params, env):
                return o.value
    return None


# --------------------------------------------------------------------------- the calendar's edge


def _check_calendar_range(rs: RuleSet, day: _dt.date) -> None:
    """A case dated past the year after the last published holiday schedule is a mistake
    (a typo such as 2099), not a case to decide."""
    last = rs.calendar.last_year()
    if day.year > last + 1:
        raise CalendarError(day.year, f"案例日期 {day} 远超已公布的节假日安排（只到 {last} 年）；请核对日期是否写错",
                            f"the case date {day} is far past the last published holiday schedule ({last})")


def _rule_by_rule(rules: tuple, data: dict, params: dict, first: CalendarError) -> tuple[list, CalendarError]:
    """Each rule on its own: True/False, or None when it needs the missing year's working days."""
    flags: list = []
    missing = first
    for r in rules:
        try:
            flags.append(bool(r.applies(data, params, {})))
        except CalendarError as e:
            flags.append(None)
            missing = e
    return flags, missing


def _hanging(flags: Sequence[bool | None], rules: tuple, missing: CalendarError) -> CalendarError:
    """The decision hangs on a working-day count in a year with no published schedule."""
    year = missing.year
    cites = "、".join(dict.fromkeys(r.cite_text for r, f in zip(rules, flags) if f is None))
    return CalendarError(year or 0, f"本决定取决于 {year} 年的工作日（{cites}），而 {year} 年节假日安排尚未公布；"
                                    f"请在国务院办公厅通知发布后添加 rules/calendar/{year}.yaml",
                         f"the decision depends on working days in {year}, whose holiday schedule is not published")


def _obligations_one_by_one(rules: tuple, data: dict, params: dict, warnings: list) -> list:
    out = []
    for i, r in enumerate(rules):
        if not r.applies(data, params, {}):  # a condition that hangs on the calendar is an error, as above
            continue
        try:
            due = r.due(data, params, {}) if r.due is not None else None
        except CalendarError as e:
            due = None
            warnings.append({"code": "calendar_not_published", "rule": r.id, "cite": r.cite_text,
                             "message": f"{e.year} 年节假日安排尚未公布，暂不能计算期限（按工作日计算）；"
                                        f"公布后添加 rules/calendar/{e.year}.yaml 即可算出"})
        out.append((i, due))
    return out


def _ordered_approvals(approvals: set[str]) -> list[str]:
    order = approval_bodies()[0]  # the decision schema's enum order: school first, province last
    return [a for a in order if a in approvals] + sorted(approvals - set(order))
