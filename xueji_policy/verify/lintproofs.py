"""Lint by proof: rules that can never apply, always apply, permits that never matter (shadowed),
and permits with different outcomes that apply together — over every valid case, not a sample.

Per action and stretch of dates, one encoding of all its rules; each question is one solver call
under ``push``/``pop``.  Where the solver gives no answer (or a rule uses something the encoding
does not translate) the finding is "未能证明" and lint's sampled checks stand.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import z3

from ..ruleset import RuleSet
from .core import Consistent, concretise, consistent, decision, encoder, universes
from .encode import Unsupported

TIMEOUT_MS = 5_000


@dataclass
class Finding:
    kind: str  # never_applies | always_applies | shadowed_permit | conflicting_permits | not_proved
    rule: str
    message: str


def _check(s: z3.Solver, *extra) -> str:
    s.push()
    s.add(*extra)
    r = s.check()
    s.pop()
    return "sat" if r == z3.sat else ("unsat" if r == z3.unsat else "unknown")


def prove_rules(rs: RuleSet) -> tuple[list[Finding], set[str]]:
    """The findings, and the ids of the rules whose never/always question was settled by proof."""
    out: list[Finding] = []
    # A rule's verdict holds only if it holds for every action and stretch it belongs to.
    can_apply: dict[str, str] = {}
    can_fail: dict[str, str] = {}
    matters: dict[str, str] = {}
    for action in rs.actions:
        for u in universes(rs, action):
            try:
                enc = encoder(u)
                d = decision(enc, u)
                cons = consistent(enc, u)
            except Unsupported as e:
                for r in rs.rules_for(action).permits + rs.rules_for(action).forbids:
                    out.append(Finding("not_proved", r.id, f"未能证明（操作 {action}：证明尚不支持 {e}）"))
                continue
            s = z3.Solver()
            s.set("timeout", TIMEOUT_MS)
            s.add(*enc.finish(), *cons.assertions)
            forbids_any = z3.Or([f for _, f in d.forbids]) if d.forbids else z3.BoolVal(False)
            for r, f in d.permits + d.forbids:
                a = _check(s, f)
                b = _check(s, z3.Not(f))
                can_apply[r.id] = _join(can_apply.get(r.id), a)
                can_fail[r.id] = _join(can_fail.get(r.id), b)
            for r, f in d.permits:
                others = z3.Or([g for q, g in d.permits if q is not r]) if len(d.permits) > 1 else z3.BoolVal(False)
                # Does this permit ever decide a case: it applies, no other permit does, no forbid does?
                matters[r.id] = _join(matters.get(r.id), _check(s, f, z3.Not(others), z3.Not(forbids_any)))
            for (a_rule, fa), (b_rule, fb) in itertools.combinations(d.permits, 2):
                oa, ob = {o.value for o in a_rule.outcomes}, {o.value for o in b_rule.outcomes}
                if oa and ob and oa != ob and _check(s, fa, fb) == "sat":
                    refused = _refused(s, enc, cons, fa, fb)
                    if refused:  # the shared case contradicts a constraint the proof could not translate
                        out.append(Finding("not_proved", b_rule.id,
                                           f"未能证明：操作 {action} 的许可规则 {a_rule.id} 与本规则同时适用的案例违反一致性约束"
                                           f"（证明尚不能翻译：{cons.note(refused)}）"))
                        continue
                    out.append(Finding("conflicting_permits", b_rule.id,
                                       f"已证明：操作 {action} 的许可规则 {a_rule.id}（结果 {'/'.join(sorted(oa))}）与本规则"
                                       f"（结果 {'/'.join(sorted(ob))}）可同时适用于同一有效案例，结果取决于规则顺序"))
    for rid, st in can_apply.items():
        if st == "unsat":
            out.append(Finding("never_applies", rid, "已证明：对任何有效案例，此规则都不适用"))
        elif st == "unknown":
            out.append(Finding("not_proved", rid, "未能证明此规则是否可能适用（求解器未给出结论）"))
    for rid, st in can_fail.items():
        if st == "unsat" and can_apply.get(rid) != "unsat":
            out.append(Finding("always_applies", rid, "已证明：对任何有效案例，此规则都适用"))
    for rid, st in matters.items():
        if st == "unsat" and can_apply.get(rid) != "unsat":
            out.append(Finding("shadowed_permit", rid,
                               "已证明：此许可适用时，总有别的许可也适用或有禁止适用——删去它不改变任何决定（结果 outcome 除外）"))
    settled = {rid for rid in can_apply if can_apply[rid] != "unknown" and can_fail.get(rid) != "unknown"}
    return out, settled


def _refused(s: z3.Solver, enc, cons: Consistent, *extra) -> list[str]:
    """Where a constraint was left out of the encoding, the ids of those a witness of ``extra``
    contradicts (a "sat" is then no proof that a valid case exists)."""
    if not cons.skipped:
        return []
    s.push()
    s.add(*extra)
    if s.check() != z3.sat:
        s.pop()
        return list(cons.skipped)
    model = s.model()
    s.pop()
    return cons.refuses(concretise(enc, model))


def _join(prev: str | None, new: str) -> str:
    """Across actions/stretches: 'sat' anywhere wins; else 'unknown' anywhere; else 'unsat'."""
    if prev == "sat" or new == "sat":
        return "sat"
    if prev == "unknown" or new == "unknown":
        return "unknown"
    return "unsat"
