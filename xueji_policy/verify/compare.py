"""Amendment comparison: per action, is NEW equivalent to, stricter or looser than OLD — proved.

NEW is *stricter* when every case NEW allows OLD allows too, *looser* when every case OLD allows
NEW allows too.  Both encodings read one symbolic case; each direction is one solver call
("a case NEW allows and OLD denies"); a witness case of each direction that differs is
re-checked by ``evaluate`` on both rule sets before it is shown.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field

import z3

from ..errors import XuejiError
from ..ruleset import RuleSet
from .core import EncodingBug, Universe, concretise, consistent, decision, encoder, engine_decision, nice_numbers, solve

RELATIONS_ZH = {"equivalent": "等价", "stricter": "更严格", "looser": "更宽松", "incomparable": "互有宽严",
                "unknown": "未能证明"}


@dataclass
class ActionComparison:
    action: str
    relation: str  # equivalent | stricter | looser | incomparable | unknown
    seconds: float = 0.0
    newly_allowed: dict | None = None  # a case NEW allows and OLD denies
    newly_denied: dict | None = None  # a case OLD allows and NEW denies
    message: str = ""
    stretches: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {"action": self.action, "relation": self.relation, "relation_zh": RELATIONS_ZH[self.relation],
             "seconds": round(self.seconds, 3), "stretches": self.stretches}
        if self.newly_allowed is not None:
            d["newly_allowed"] = self.newly_allowed
        if self.newly_denied is not None:
            d["newly_denied"] = self.newly_denied
        if self.message:
            d["message"] = self.message
        return d


def _stretches(old: RuleSet, new: RuleSet, day: _dt.date | None) -> list[tuple[_dt.date, _dt.date]]:
    if day is not None:
        return [(day, day)]
    last = _dt.date(min(old.calendar.last_year(), new.calendar.last_year()), 12, 31)
    first = max(old.effective_from, new.effective_from)
    starts = sorted({first} | {d for d in old.stretch_days() + new.stretch_days() if first < d <= last})
    return [(s, starts[i + 1] - _dt.timedelta(days=1) if i + 1 < len(starts) else last) for i, s in enumerate(starts)]


def compare_action(old: RuleSet, new: RuleSet, action: str, day: _dt.date | None = None) -> ActionComparison:
    from .encode import Unsupported

    t0 = time.perf_counter()
    looser_case = stricter_case = None
    stretches = []
    for lo, hi in _stretches(old, new, day):
        uo, un = Universe(old, action, lo, lo, hi), Universe(new, action, lo, lo, hi)
        try:
            eo = encoder(uo)
            en = encoder(un, strings=eo.strings)
            ao, an = decision(eo, uo).allow, decision(en, un).allow
            # One case, decided by both: consistent by the constraints of both rule sets.
            co, cn = consistent(eo, uo), consistent(en, un)
            base = eo.finish() + en.finish() + co.assertions + cn.assertions
            nice = nice_numbers(eo)
            for direction, assertion in (("looser", z3.And(an, z3.Not(ao))), ("stricter", z3.And(ao, z3.Not(an)))):
                if (direction == "looser" and looser_case) or (direction == "stricter" and stricter_case):
                    continue
                out = solve(base + [assertion], nice=nice)
                stretches.append({"from": str(lo), "to": str(hi), "direction": direction, "status": out.status,
                                  "seconds": round(out.seconds, 3)})
                if out.status == "unknown":
                    return ActionComparison(action, "unknown", time.perf_counter() - t0,
                                            message=f"未能证明（求解器：{out.reason}）", stretches=stretches)
                if out.status == "refuted":
                    # Both encoders read the same variables: either concretises the same case.
                    case = concretise(en, out.model)
                    _deep_fill(case, concretise(eo, out.model))  # fields only OLD reads
                    refused = co.refuses(case) + cn.refuses(case)
                    if refused:  # found only because a constraint was left out: no witness, no proof
                        return ActionComparison(action, "unknown", time.perf_counter() - t0, stretches=stretches,
                                                message="未能证明：找到的案例违反一致性约束，而证明尚不能翻译这些约束："
                                                        + "；".join(sorted(set(refused))))
                    _recheck(old, new, case, direction)
                    if direction == "looser":
                        looser_case = case
                    else:
                        stricter_case = case
        except Unsupported as e:
            return ActionComparison(action, "unknown", time.perf_counter() - t0,
                                    message=f"未能证明：规则用到了证明尚不支持的写法（{e}）", stretches=stretches)
    relation = {(False, False): "equivalent", (False, True): "stricter", (True, False): "looser",
                (True, True): "incomparable"}[(looser_case is not None, stricter_case is not None)]
    return ActionComparison(action, relation, time.perf_counter() - t0, looser_case, stricter_case,
                            stretches=stretches)


def _deep_fill(dst: dict, src: dict) -> None:
    for k, v in src.items():
        if k not in dst:
            dst[k] = v
        elif isinstance(dst[k], dict) and isinstance(v, dict):
            _deep_fill(dst[k], v)


def _recheck(old: RuleSet, new: RuleSet, case: dict, direction: str) -> None:
    try:
        do, dn = engine_decision(old, case), engine_decision(new, case)
    except XuejiError as e:
        raise EncodingBug(f"证明的编码有误：见证案例未通过校验或无法判定（{e.message}）",
                          f"encoding bug: the witness does not validate ({e.message_en})") from None
    want = ("deny", "allow") if direction == "looser" else ("allow", "deny")
    if (do, dn) != want:
        raise EncodingBug(f"证明的编码有误：见证案例经 evaluate 复核为 旧={do}、新={dn}",
                          f"encoding bug: evaluate gives old={do}, new={dn} for the witness")


def compare(old: RuleSet, new: RuleSet, day: _dt.date | None = None,
            actions: list[str] | None = None) -> list[ActionComparison]:
    acts = actions or [a for a in old.actions if a in new.actions]
    return [compare_action(old, new, a, day) for a in acts]
