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
from .lang.kleene import Residual, merge
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
    rules = plan.forbids + plan.permits
    missing: CalendarError | None = None
    flags: Sequence[Any]
    three_valued = False
    try:
        flags = plan.decide(data, params)  # two values: every fact the rules read is stated
    except KeyError:  # a fact the rules read is not stated: three values, rule by rule
        flags, missing = _rule_by_rule(rules, data, params)
        three_valued = True
    except CalendarError:
        # A working day in a year whose schedule is not yet published: decide what does not hang on it.
        flags, missing = _rule_by_rule(rules, data, params)
        three_valued = True
    except (TypeError, ValueError, AttributeError, OverflowError) as e:  # pragma: no cover - checker guards
        raise EvaluationError(f"规则求值失败：{type(e).__name__}", f"rule evaluation failed: {e}") from None
    n = len(plan.forbids)
    open_rules: list[tuple[Any, Any]] = []
    if not three_valued:  # the fast path: plain booleans (null read as false)
        applied_forbids = [r for r, f in zip(plan.forbids, flags) if f]
        applied_permits = [r for r, f in zip(plan.permits, flags[n:]) if f]
    else:
        applied_forbids = [r for r, f in zip(plan.forbids, flags[:n]) if _holds(f)]
        applied_permits = [r for r, f in zip(plan.permits, flags[n:]) if _holds(f)]
        # Rules that neither hold nor fail: they hang on an unstated fact (or an unpublished calendar).
        if not applied_forbids:
            open_rules = [(r, f) for r, f in zip(plan.forbids, flags[:n]) if _open(f)]
            if not applied_permits:
                open_rules += [(r, f) for r, f in zip(plan.permits, flags[n:]) if _open(f)]
        if missing is not None and any(f is _CALENDAR for _, f in open_rules):
            raise _hanging([f for f in flags], rules, missing)

    # Undetermined: no forbid holds, and either no permit holds but one may, or one holds but a
    # forbid may.  (A forbid that may hold does not matter when no permit can.)
    undetermined = bool(open_rules) and not applied_forbids and any(
        (r.effect == "forbid") == bool(applied_permits) for r, _ in open_rules)
    if not undetermined:
        open_rules = []
    allow = bool(applied_permits) and not applied_forbids and not undetermined
    reasons = [r.reason for r in applied_forbids]
    if not applied_permits and not undetermined:
        reasons += [r.reason_unmet for r, f in zip(plan.permits, flags[n:]) if not three_valued or not _open(f)]
    if not allow and not undetermined and not reasons:
        raise EvaluationError(f"操作 {action} 在 {day} 没有生效的许可规则，无法作出决定",
                              f"action {action} has no permit rule in force on {day}")

    outcome = None
    obligations: list[dict] = []
    approvals: set[str] = set()
    warnings: list[dict] = []
    hanging: list[tuple[Any, Residual]] = [(r, f) for r, f in open_rules] if undetermined else []
    extra: dict = {}
    if allow:
        outcome, conditional = _outcome(applied_permits, data, params, {})
        if conditional:
            extra["conditional_outcomes"] = [{"outcome": v, "condition": _shown(res) if res is not None else None}
                                             for v, res, _ in conditional]
            hanging += [(rule, res) for _, res, rule in conditional if res is not None]
        for r in applied_permits:
            approvals.update(r.approvals)
        try:
            owed = plan.oblige(data, params)
        except (KeyError, CalendarError):
            owed = _obligations_one_by_one(plan.obligations, data, params, warnings)
        for i, due, cond in owed:
            r = plan.obligations[i]
            entry = {"rule": r.id, **r.cite_parts, "cite": r.cite_text, "message": r.message,
                     "due": due.isoformat() if isinstance(due, _dt.date) else None}
            unknown = [x for x in (cond, due) if type(x) is Residual]
            if type(cond) is Residual:  # applies only if what is left of its condition holds
                entry["condition"] = _shown(cond)
                entry["approvals"] = _ordered_approvals(set(r.approvals))
            else:
                approvals.update(r.approvals)
            if unknown:
                entry["needs"] = list(merge(*unknown))
                hanging += [(r, x) for x in unknown]
            obligations.append(entry)
        warnings += deadline_passed_warnings(obligations, data["date"])
    if hanging:
        extra["needs"] = _needs(hanging)
    if undetermined:
        extra["undecided"] = [{"rule": r.id, "cite": r.cite_text, "effect": r.effect,
                               "residual": _shown(f) if type(f) is Residual else None} for r, f in open_rules]

    case_id = data.get("case_id")
    decision = {
        # 第三十二条: never echo an ID number (only a string that long can hold one).
        "case_id": mask_ids_in_text(case_id) if isinstance(case_id, str) and may_hold_id(case_id) else case_id,
        "action": action,
        "decision": "undetermined" if undetermined else "allow" if allow else "deny",
        "outcome": outcome,
        "reasons": reasons,
        "basis": [r.reason for r in applied_permits] if allow else [],
        "obligations": obligations,
        "approvals": _ordered_approvals(approvals) if approvals else [],
        "ruleset": rs.info(),
    }
    decision.update(extra)
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


def _outcome(permits: Iterable, data: dict, params: dict, env: dict) -> tuple[str | None, list]:
    """The first outcome whose condition holds; when one before it hangs on an unstated fact,
    no outcome is guessed: (None, [(value, residual or None for "otherwise", rule), …])."""
    conditional: list = []
    for r in permits:
        for o in r.outcomes:
            w = True if o.when is None else o.when(data, params, env)
            if type(w) is Residual:
                conditional.append((o.value, w, r))
            elif w:
                if conditional:
                    conditional.append((o.value, None, r))
                    return None, conditional
                return o.value, []
    return None, conditional


# A residual puts known facts in as literals: it is masked like every output (第三十二条), and bounded
# (a quantifier over two 64-item lists can leave thousands of terms; the decision schema allows 20,000).
RESIDUAL_MAX = 4000


def _shown(res: Residual) -> str:
    text = mask_ids_in_text(res.text())
    return text if len(text) <= RESIDUAL_MAX else text[: RESIDUAL_MAX - 1] + "…"


def _holds(f: Any) -> bool:
    return f is not _CALENDAR and type(f) is not Residual and bool(f)


def _open(f: Any) -> bool:
    return f is _CALENDAR or type(f) is Residual


def _needs(hanging: list[tuple[Any, Any]]) -> list[dict]:
    """The unstated facts a decision hangs on, the most decisive first: the one the most
    undecided rules read, then in the order the rules read them."""
    by_path: dict[str, dict] = {}
    for r, res in hanging:
        if type(res) is not Residual:
            continue
        for path in res.needs:
            entry = by_path.setdefault(path, {"path": path, "rules": [], "cites": []})
            if r.id not in entry["rules"]:
                entry["rules"].append(r.id)
            if r.cite_text not in entry["cites"]:
                entry["cites"].append(r.cite_text)
    order = list(by_path)
    return sorted(by_path.values(), key=lambda e: (-len(e["rules"]), order.index(e["path"])))


# --------------------------------------------------------------------------- the calendar's edge


def _check_calendar_range(rs: RuleSet, day: _dt.date) -> None:
    """A case dated past the year after the last published holiday schedule is a mistake
    (a typo such as 2099), not a case to decide."""
    last = rs.calendar.last_year()
    if day.year > last + 1:
        raise CalendarError(day.year, f"案例日期 {day} 远超已公布的节假日安排（只到 {last} 年）；请核对日期是否写错",
                            f"the case date {day} is far past the last published holiday schedule ({last})")


_CALENDAR = object()  # a rule's flag when it needs the working days of an unpublished year


def _rule_by_rule(rules: tuple, data: dict, params: dict) -> tuple[list, CalendarError | None]:
    """Each rule on its own, in three values: True, False, a ``Residual`` when it hangs on an
    unstated fact, or ``_CALENDAR`` when it needs the missing year's working days."""
    flags: list = []
    missing = None
    for r in rules:
        try:
            flags.append(r.applies(data, params, {}))
        except CalendarError as e:
            flags.append(_CALENDAR)
            missing = e
    return flags, missing


def _hanging(flags: Sequence[Any], rules: tuple, missing: CalendarError) -> CalendarError:
    """The decision hangs on a working-day count in a year with no published schedule."""
    year = missing.year
    cites = "、".join(dict.fromkeys(r.cite_text for r, f in zip(rules, flags) if f is _CALENDAR))
    return CalendarError(year or 0, f"本决定取决于 {year} 年的工作日（{cites}），而 {year} 年节假日安排尚未公布；"
                                    f"请在国务院办公厅通知发布后添加 rules/calendar/{year}.yaml",
                         f"the decision depends on working days in {year}, whose holiday schedule is not published")


def _obligations_one_by_one(rules: tuple, data: dict, params: dict, warnings: list) -> list:
    """(index, due, condition) of each obligation that applies or may apply: ``condition`` is
    True, or the ``Residual`` it still hangs on; ``due`` may be unknown too."""
    out: list = []
    for i, r in enumerate(rules):
        cond = r.applies(data, params, {})  # a condition that hangs on the calendar is an error, as above
        if type(cond) is not Residual and not cond:
            continue
        try:
            due = r.due(data, params, {}) if r.due is not None else None
        except CalendarError as e:
            due = None
            warnings.append({"code": "calendar_not_published", "rule": r.id, "cite": r.cite_text,
                             "message": f"{e.year} 年节假日安排尚未公布，暂不能计算期限（按工作日计算）；"
                                        f"公布后添加 rules/calendar/{e.year}.yaml 即可算出"})
        out.append((i, due, cond))
    return out


def deadline_passed_warnings(obligations: list[dict], case_date: str) -> list[dict]:
    """A ``deadline_passed`` warning for each obligation already due before the case's own date.

    Such limits bind the school or the bureau, not the student: the action is still decided as
    the rules say, and the late obligation is still owed (e.g. a cancellation reported after its
    working days, a registration check whose 9月30日 has passed). Generic: any rule's due date.
    """
    out = []
    for o in obligations:
        due = o.get("due")
        if isinstance(due, str) and due < case_date:  # ISO dates order as strings
            out.append({"code": "deadline_passed", "rule": o["rule"], "cite": o["cite"],
                        "message": f"期限 {due} 在案例日期 {case_date} 已过，仍须履行：{o['message']}"})
    return out


def _ordered_approvals(approvals: set[str]) -> list[str]:
    order = approval_bodies()[0]  # the decision schema's enum order: school first, province last
    return [a for a in order if a in approvals] + sorted(approvals - set(order))
