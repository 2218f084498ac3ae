"""Plan stage: the rules of one action over one stretch of dates → generated functions.

A *stretch* is a run of dates on which the same rules are in force and every parameter has the
same value; a plan is built once per (action, stretch): one generated function deciding all its
forbids and permits at once, one computing the obligations that apply with their due dates, and
one naming the rules whose conditions hold (analysis).  The parameter values of the stretch are
constants of the generated code (lang/codegen.py).  Plans are kept in the rule set's ``plans``
slot; the loader builds them all eagerly, so a rule set that loads is one that evaluates.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass

from .lang import ast as A
from .lang.codegen import build_function
from .lang.compile import Compiler
from .lang.types import T_BOOL
from .ruleset import Rule, RuleSet


@dataclass
class Plan:
    """The rules of one action in force over one stretch of dates, with their generated functions."""

    forbids: tuple[Rule, ...]
    permits: tuple[Rule, ...]
    obligations: tuple[Rule, ...]
    decide: Callable[[dict, dict], tuple]  # (case, params) → one flag per forbid, then per permit
    oblige: Callable[[dict, dict], list]  # (case, params) → [(index, due, True)] of the obligations that apply
    match: Callable[[dict], set]  # case → ids of the rules whose conditions hold


def condition(r: Rule) -> A.Expr:
    """``when and not unless``: when the rule applies."""
    if r.unless_ast is None:
        return r.when_ast
    return A.BoolOp("and", (r.when_ast, A.Not(r.unless_ast, type=T_BOOL)), type=T_BOOL)


MAX_DAYS_REMEMBERED = 4096  # (action, day) pairs looked up directly; past that the memo starts again


def plan_for(rs: RuleSet, action: str, day: _dt.date) -> Plan:
    """The plan for ``action`` on ``day`` (built once per stretch of dates; found again for the
    same action and day without the two bisections that name its stretch)."""
    by_day = rs.plans_by_day
    plan = by_day.get((action, day))
    if plan is None:
        plan = _plan_on(rs, action, day)
        if len(by_day) >= MAX_DAYS_REMEMBERED:
            by_day.clear()
        by_day[(action, day)] = plan
    return plan


def _plan_on(rs: RuleSet, action: str, day: _dt.date) -> Plan:
    key = (action,) + rs.stretch_key(day)
    plan = rs.plans.get(key)
    if plan is None:
        ar = rs.rules_for(action)
        params = rs.params_on(day)
        # Messages naming parameters ({class_cap}) are rendered here, once per stretch: the
        # engine reads the plan's rules' finished reasons.
        forbids = tuple(rs.rendered(r, params) for r in ar.forbids if r.in_force(day))
        permits = tuple(rs.rendered(r, params) for r in ar.permits if r.in_force(day))
        obligations = tuple(rs.rendered(r, params) for r in ar.obligations if r.in_force(day))
        # Function names are fixed: an action's name is data (any text), never part of code.
        decide = build_function("decide", [condition(r) for r in forbids + permits], rs.calendar, params)
        oblige = build_function("oblige", [condition(r) for r in obligations], rs.calendar, params,
                                dues=[r.due_ast for r in obligations])
        rules = forbids + permits + obligations
        match = build_function("match", [condition(r) for r in rules], rs.calendar, params,
                               labels=[r.id for r in rules])
        plan = rs.plans[key] = Plan(forbids, permits, obligations, decide, oblige, match)
    return plan


def build_plans(rs: RuleSet) -> None:
    """Every action on every stretch of dates (anything ``check`` accepts must run)."""
    for action in rs.actions:
        for day in rs.stretch_days():
            plan_for(rs, action, day)


def matcher(rs: RuleSet, action: str, on: _dt.date) -> Callable[[dict], set[str]]:
    """case → the ids of the rules of ``action`` (in force on ``on``) whose conditions hold.
    No validation, no decision: the raw rule evaluation."""
    return plan_for(rs, action, on).match


def attach_closures(rs: RuleSet) -> None:
    """The compile stage's closures of every rule's conditions (explain, lint, golden coverage)."""
    compiler = Compiler(rs.calendar)
    for r in rs.rules:
        r.when = compiler.compile(r.when_ast)
        r.unless = compiler.compile(r.unless_ast) if r.unless_ast is not None else None
        r.due = compiler.compile(r.due_ast) if r.due_ast is not None else None
        for o in r.outcomes:
            o.when = compiler.compile(o.when_ast) if o.when_ast is not None else None
