"""Lint by proof: rules that can never apply, always apply, permits that never matter (shadowed),
and permits with different outcomes that apply together — over every valid case, not a sample.

Per action and stretch of dates, one encoding of all its rules; each question is one solver call
under ``push``/``pop``.  Where the solver gives no answer (or a rule uses something the encoding
does not translate) the finding is "未能证明"; lint then samples that rule only, and says so.

A permit is *shadowed* when removing it alone changes nothing a decision says, for any valid case:
not allow/deny (hence not the obligations, which follow the decision), not the outcome (the first
applying permit's, in order), not the approvals, not the articles the basis cites.  So a permit that
applies together with another of a different article — the regulation granting one thing in two
places, both cited as the basis — is no finding; one that only ever applies beside a permit of the
same article with the same outcome and approvals, or only where a forbid applies, is.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import z3

from ..plan import plan_for
from ..ruleset import Rule, RuleSet
from .core import Consistent, applies, concretise, consistent, decision, encoder, universes
from .encode import Unsupported

TIMEOUT_MS = 60_000  # as for properties: a busy CI machine must not turn a proof into "未能证明"


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


@dataclass
class Proofs:
    """What lint proved: its findings, the rules whose never/always question a proof settled, and
    the pairs of permits (by id, sorted) whose "can they apply together" question a proof settled
    — for these lint does not sample."""

    findings: list[Finding]
    settled: set[str]
    settled_pairs: set[tuple[str, str]]


def _outcome_term(enc, permits: list[tuple[Rule, z3.BoolRef]], codes: dict[str, int]) -> z3.ArithRef:
    """The decision's outcome as engine.py picks it: the first applying permit (in plan order)
    with an outcome whose ``when`` holds; -1 for none."""
    term: z3.ArithRef = z3.IntVal(-1)
    for r, applies_r in reversed(permits):
        for o in reversed(r.outcomes):
            code = codes.setdefault(o.value, len(codes))
            hit = applies_r if o.when_ast is None else z3.And(applies_r, enc.cond(o.when_ast))
            term = z3.If(hit, z3.IntVal(code), term)
    return term


def _matters(enc, d, obligations: list[tuple[Rule, z3.BoolRef]], r: Rule, f: z3.BoolRef) -> z3.BoolRef:
    """A case on which removing permit ``r`` changes what the decision says: allow/deny, or (on
    allow) the outcome, the approvals, or the articles the basis cites.  Obligations hang on
    allow/deny only, so they change exactly when the decision does."""
    others = [(q, g) for q, g in d.permits if q is not r]
    forbid_any = z3.Or([g for _, g in d.forbids]) if d.forbids else z3.BoolVal(False)
    other_any = z3.Or([g for _, g in others]) if others else z3.BoolVal(False)
    decides = z3.And(f, z3.Not(other_any), z3.Not(forbid_any))
    # Both with and without r the case is allowed: f, some other permit, no forbid.
    both_allow = z3.And(f, other_any, z3.Not(forbid_any))
    changes = []
    if r.outcomes or any(q.outcomes for q, _ in others):
        codes: dict[str, int] = {}
        changes.append(_outcome_term(enc, d.permits, codes) != _outcome_term(enc, others, codes))
    for body in r.approvals:
        givers = [g for q, g in others if body in q.approvals] + [g for q, g in obligations if body in q.approvals]
        changes.append(z3.Not(z3.Or(givers)) if givers else z3.BoolVal(True))
    same_cite = [g for q, g in others if q.cite_text == r.cite_text]
    changes.append(z3.Not(z3.Or(same_cite)) if same_cite else z3.BoolVal(True))
    return z3.Or(decides, z3.And(both_allow, z3.Or(changes)))


def prove_rules(rs: RuleSet) -> Proofs:
    """Never/always-applying permits and forbids, shadowed permits, permits with different
    outcomes that apply together — each proved over every valid, consistent case."""
    out: list[Finding] = []
    # A rule's verdict holds only if it holds for every action and stretch it belongs to.
    can_apply: dict[str, str] = {}
    can_fail: dict[str, str] = {}
    matters: dict[str, str] = {}
    pairs: dict[tuple[str, str], str] = {}
    for action in rs.actions:
        for u in universes(rs, action):
            try:
                enc = encoder(u)
                d = decision(enc, u)
                plan = plan_for(rs, action, u.day)
                obligations = [(r, applies(enc, r)) for r in plan.obligations]
                cons = consistent(enc, u)
            except Unsupported as e:
                for r in rs.rules_for(action).permits + rs.rules_for(action).forbids:
                    out.append(Finding("not_proved", r.id, f"未能证明（操作 {action}：证明尚不支持 {e}）"))
                    can_apply[r.id] = can_fail[r.id] = "unknown"
                continue
            s = z3.Solver()
            s.set("timeout", TIMEOUT_MS)
            s.add(*enc.finish(), *cons.assertions)
            for r, f in d.permits + d.forbids:
                can_apply[r.id] = _join(can_apply.get(r.id), _check(s, f))
                can_fail[r.id] = _join(can_fail.get(r.id), _check(s, z3.Not(f)))
            for r, f in d.permits:
                try:
                    question = _matters(enc, d, obligations, r, f)
                except Unsupported:
                    matters[r.id] = "unknown"
                    continue
                matters[r.id] = _join(matters.get(r.id), _check(s, question))
            for (a_rule, fa), (b_rule, fb) in itertools.combinations(d.permits, 2):
                oa, ob = {o.value for o in a_rule.outcomes}, {o.value for o in b_rule.outcomes}
                if not (oa and ob and oa != ob):
                    continue
                key = (min(a_rule.id, b_rule.id), max(a_rule.id, b_rule.id))
                st = _check(s, fa, fb)
                if st == "sat" and _refused(s, enc, cons, fa, fb):
                    st = "unknown"  # the shared case contradicts a constraint the proof could not translate
                if st == "sat" and pairs.get(key) != "sat":
                    out.append(Finding("conflicting_permits", b_rule.id,
                                       f"已证明：操作 {action} 的许可规则 {a_rule.id}（结果 {'/'.join(sorted(oa))}）与本规则 {b_rule.id}"
                                       f"（结果 {'/'.join(sorted(ob))}）可同时适用于同一有效案例，结果取决于规则顺序"))
                pairs[key] = _join(pairs.get(key), st)
    for (a, b), st in pairs.items():
        if st == "unknown":
            out.append(Finding("not_proved", b, f"未能证明许可规则 {a} 与本规则是否可能同时适用（求解器未给出结论，"
                                                "或找到的案例违反证明尚不能翻译的一致性约束）"))
    for rid, st in can_apply.items():
        if st == "unsat":
            out.append(Finding("never_applies", rid, "已证明：对任何有效案例，此规则都不适用"))
        elif st == "unknown" and not any(f.rule == rid and f.kind == "not_proved" for f in out):
            out.append(Finding("not_proved", rid, "未能证明此规则是否可能适用（求解器未给出结论）"))
    for rid, st in can_fail.items():
        if st == "unsat" and can_apply.get(rid) != "unsat":
            out.append(Finding("always_applies", rid, "已证明：对任何有效案例，此规则都适用"))
        elif st == "unknown" and can_apply.get(rid) != "unknown":
            out.append(Finding("not_proved", rid, "未能证明此规则是否总是适用（求解器未给出结论）"))
    for rid, st in matters.items():
        if st == "unsat" and can_apply.get(rid) != "unsat":
            out.append(Finding("shadowed_permit", rid,
                               "已证明：单独删去此许可，不改变任何有效案例的决定——准予与否、结果（outcome）、"
                               "审批方、随附义务、所依据的条文都不变（它适用时，总有同一条文的许可也适用，或有禁止适用）"))
        elif st == "unknown":
            out.append(Finding("not_proved", rid, "未能证明此许可是否被遮蔽（求解器未给出结论）"))
    settled = {rid for rid in can_apply if can_apply[rid] != "unknown" and can_fail.get(rid) != "unknown"}
    return Proofs(out, settled, {k for k, st in pairs.items() if st != "unknown"})


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
