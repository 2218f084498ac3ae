"""What would change a deny: minimal sets of fact changes that make a case allowed, and the
earliest date on which the same facts would be allowed.

``repairs(case)``: the case's facts are pinned to their values; the solver may change any fact
the schema does not mark ``x-immutable`` (nor the action and date), and the fewest changes that
make the decision ``allow`` are found first (an at-most-k constraint, k = 1, 2, …); each set found
is blocked (with its supersets) and the search goes on, so every set returned is minimal.  Each
repaired case is validated and re-run through ``evaluate``.

``earliest_allowed(case)``: the first date on or after the case's date, up to the end of the
holiday calendar, on which the same facts are allowed — decided by ``evaluate`` on every day
(a finite, exact search), or ``None``.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import re
from dataclasses import dataclass
from typing import Any

import z3

from ..errors import XuejiError
from ..ruleset import RuleSet
from .core import Universe, concrete_value, consistent, decision, encoder, engine_decision
from .encode import OTHER_BASE, Encoder, Val
from .shape import Shape

MAX_CHANGES = 4
MAX_REPAIRS = 5
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass
class Change:
    path: str
    before: Any
    after: Any
    absent_before: bool = False
    absent_after: bool = False

    def to_dict(self) -> dict:
        d: dict = {"path": self.path}
        d["from"] = "（未填写）" if self.absent_before else self.before
        d["to"] = "（删除）" if self.absent_after else self.after
        return d

    def text(self) -> str:
        b = "（未填写）" if self.absent_before else _show(self.before)
        a = "（删除）" if self.absent_after else _show(self.after)
        return f"{self.path}：{b} → {a}"


def _show(v) -> str:
    return json.dumps(v, ensure_ascii=False)


def _tokens(key: str) -> list:
    return [int(i) if i else n for n, i in _TOKEN.findall(key)]


_MISSING = object()


def _lookup(case, tokens: list):
    cur = case
    for t in tokens:
        if isinstance(t, int):
            if not isinstance(cur, list) or t >= len(cur):
                return _MISSING
            cur = cur[t]
        else:
            if not isinstance(cur, dict) or t not in cur:
                return _MISSING
            cur = cur[t]
    return cur


def _fields(enc: Encoder):
    """Every (key, value, shape, parent shape, name) the encoding read, walking its objects."""
    out = []

    def walk_obj(o, prefix_immutable: bool):
        for name, val in o._fields.items():
            fs = o.shape.props[name]
            key = f"{o.key}.{name}" if o.key else name
            imm = prefix_immutable or fs.immutable
            out.append((key, val, fs, o.shape, name, imm))
            walk_val(key, val, fs, imm)

    def walk_val(key: str, val: Val, s: Shape, imm: bool):
        if val.kind == "obj" and hasattr(val.v, "_fields"):
            walk_obj(val.v, imm)
        elif val.kind == "list" and s.items is not None:
            for i, it in enumerate(val.v.items):
                if it.kind != "obj":
                    out.append((f"{key}[{i}]", it, s.items, s, i, imm))
                walk_val(f"{key}[{i}]", it, s.items, imm)

    walk_obj(enc.root.v, False)
    return out


def _encode_value(enc: Encoder, x, s: Shape):
    if s.kind == "date":
        return _dt.date.fromisoformat(x).toordinal()
    if s.kind in ("enum", "string"):
        return enc.strings.get(x, OTHER_BASE + OTHER_SLOTS_USED)
    return x


OTHER_SLOTS_USED = 63  # a string no rule names, for a fact the case states (kept apart from the solver's)


def _pins(enc: Encoder, case: dict):
    """(change flags by fact path, pinning constraints for immutable facts)."""
    flags: dict[str, list] = {}
    pins: list = []
    for key, val, fs, parent, name, imm in _fields(enc):
        toks = _tokens(key)
        parent_value = _lookup(case, toks[:-1]) if len(toks) > 1 else case
        if parent_value is _MISSING or parent_value is None:
            continue  # inside an absent object: not a fact of the case (adding the object is the change)
        raw = _lookup(case, toks)
        conds = []
        if isinstance(name, str) and name not in parent.required:
            has = enc.vars.get((key, "has"))
            if has is not None:
                conds.append(has.term == z3.BoolVal(raw is not _MISSING))
        present = raw is not _MISSING
        nn = enc.vars.get((key, "nn"))
        if present and raw is None:
            conds.append(z3.Not(nn.term) if nn is not None else z3.BoolVal(False))
        elif present:
            if nn is not None:
                conds.append(nn.term)
            if val.kind in ("int", "real", "bool", "date", "str"):
                conds.append(val.v == _encode_value(enc, raw, fs))
            elif val.kind == "list" and isinstance(raw, list):
                conds.append(val.v.length == len(raw))
        same = z3.And(conds) if conds else z3.BoolVal(True)
        if imm or key in ("date", "action"):
            pins.append(same)
        else:
            flags.setdefault(key, []).append(same)
    return flags, pins


def pin_case(enc: Encoder, case: dict) -> list:
    """Constraints that fix every fact the encoding read to its value in ``case``."""
    flags, pins = _pins(enc, case)
    return pins + [c for cs in flags.values() for c in cs]


@dataclass
class Repair:
    changes: list[Change]
    case: dict

    def to_dict(self) -> dict:
        return {"changes": [c.to_dict() for c in self.changes], "case": self.case}


def _set(case: dict, toks: list, value, delete: bool, shapes: Shape) -> None:
    cur: Any = case
    s = shapes
    for t in toks[:-1]:
        if isinstance(t, int):
            cur = cur[t]
            s = s.items  # type: ignore[assignment]
            continue
        s = s.props[t]
        if not isinstance(cur.get(t), (dict, list)):
            from .core import filler

            cur[t] = filler(s, t)
        cur = cur[t]
        if s.kind == "array":
            continue
    last = toks[-1]
    if delete:
        if isinstance(cur, dict):
            cur.pop(last, None)
        return
    if isinstance(last, int):
        while len(cur) <= last:
            cur.append(None)
    cur[last] = value


def repairs(case: dict, rs: RuleSet | None = None, max_changes: int = MAX_CHANGES,
            limit: int = MAX_REPAIRS) -> list[Repair]:
    """Minimal sets of changes to facts a registrar can change that make ``case`` allowed."""
    from ..engine import default_ruleset

    rs = rs or default_ruleset()
    rs.validate(case)
    day = _dt.date.fromisoformat(case["date"])
    u = Universe(rs, case["action"], day, day, day)
    enc = encoder(u)
    allow = decision(enc, u).allow
    # A repaired case must be one the engine decides: consistent (a left-out constraint is
    # caught by the re-check in _apply, which drops such a repair).
    cons = consistent(enc, u)
    flags, pins = _pins(enc, case)
    keys = sorted(flags)
    changed = {k: z3.Bool(f"changed:{k}") for k in keys}
    base = enc.finish() + cons.assertions + pins + [allow] + [changed[k] == z3.Not(z3.And(flags[k])) for k in keys]
    s = z3.Solver()
    s.set("timeout", 30_000)
    s.add(*base)
    out: list[Repair] = []
    for k in range(1, max_changes + 1):
        while len(out) < limit:
            s.push()
            s.add(z3.AtMost(*[changed[x] for x in keys], k) if keys else z3.BoolVal(True))
            if s.check() != z3.sat:
                s.pop()
                break
            model = s.model()
            s.pop()
            chosen = [x for x in keys if z3.is_true(model.evaluate(changed[x], model_completion=True))]
            s.add(z3.Or([z3.Not(changed[x]) for x in chosen]) if chosen else z3.BoolVal(False))
            rep = _apply(rs, enc, case, model, chosen)
            if rep is not None:
                out.append(rep)
        if len(out) >= limit:
            break
    return out


def _apply(rs: RuleSet, enc: Encoder, case: dict, model, chosen: list[str]) -> Repair | None:
    fixed = copy.deepcopy(case)
    changes = []
    index = {key: (val, fs, parent, name) for key, val, fs, parent, name, _ in _fields(enc)}
    for key in sorted(chosen, key=lambda k: len(_tokens(k))):
        val, fs, parent, name = index[key]
        toks = _tokens(key)
        before = _lookup(case, toks)
        has = enc.vars.get((key, "has"))
        absent_after = has is not None and not z3.is_true(model.evaluate(has.term, model_completion=True))
        after = None if absent_after else concrete_value(enc, model, val, fs)
        if isinstance(after, dict) and isinstance(before, dict):
            after = {**before, **after}
        _set(fixed, toks, after, absent_after, enc.shape)
        changes.append(Change(key, None if before is _MISSING else before, after, before is _MISSING, absent_after))
    try:
        if engine_decision(rs, fixed) != "allow":
            return None
    except XuejiError:
        return None
    return Repair(changes, fixed)


def earliest_allowed(case: dict, rs: RuleSet | None = None) -> _dt.date | None:
    """The first date on or after the case's date on which the same facts are allowed."""
    from ..engine import default_ruleset, evaluate_dict

    rs = rs or default_ruleset()
    rs.validate(case)
    day = _dt.date.fromisoformat(case["date"])
    last = _dt.date(rs.calendar.last_year(), 12, 31)
    trial = copy.deepcopy(case)
    while day <= last:
        trial["date"] = day.isoformat()
        try:
            if evaluate_dict(trial, ruleset=rs)["decision"] == "allow":
                return day
        except XuejiError:
            pass
        day += _dt.timedelta(days=1)
    return None


def repair_report(case: dict, rs: RuleSet | None = None) -> dict:
    """``explain --repair``: the repairs and the earliest date, JSON-ready."""
    from ..privacy import mask_ids_in_text

    found = repairs(case, rs)
    first = earliest_allowed(case, rs)
    out = {"repairs": [{"changes": [c.to_dict() for c in r.changes]} for r in found],
           "earliest_allowed": first.isoformat() if first else None,
           "note": "每组改动都已经 evaluate 复核为准予；不改动 x-immutable 的事实、案例日期与操作"}
    return json.loads(mask_ids_in_text(json.dumps(out, ensure_ascii=False)))


def repair_text(report: dict) -> str:
    lines = ["", "怎样才能获准（最少的事实改动，均已经 evaluate 复核）："]
    if not report["repairs"]:
        lines.append(f"  在 {MAX_CHANGES} 项以内的可改事实中找不到使之获准的改动。")
    for i, r in enumerate(report["repairs"], 1):
        parts = "；".join(f"{c['path']}：{json.dumps(c['from'], ensure_ascii=False)} → "
                         f"{json.dumps(c['to'], ensure_ascii=False)}" for c in r["changes"])
        lines.append(f"  {i}. {parts}")
    first = report["earliest_allowed"]
    lines.append(f"事实不变时最早可获准的日期：{first}" if first else "事实不变时，在节假日日历覆盖的日期内都不会获准。")
    return "\n".join(lines)
