"""Explain stage: why a case was decided, for people.

``trace`` re-walks the checked AST of every rule of the case's action and records
each sub-condition with the values it saw (compiling each sub-expression once, on
demand — explanation is not the hot path).  ``decision_text`` renders a decision
as a short Chinese summary citing the articles.  ID numbers never appear in full.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .lang import ast as A
from .lang.compile import Compiler
from .privacy import mask_ids_in_text

_APPROVALS_ZH = {"school": "学校", "school_council": "校务会议", "city_bureau": "市教育局", "province": "省教育厅"}
_EFFECT_ZH = {"permit": "许可", "forbid": "禁止", "obligation": "义务"}


def _json_value(v: Any) -> Any:
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()[:10]
    if isinstance(v, str):
        return mask_ids_in_text(v)
    if isinstance(v, (frozenset, set, tuple)):
        return [_json_value(x) for x in sorted(v, key=repr)]
    if isinstance(v, list):
        return [_json_value(x) for x in v[:50]]
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items() if k != "id_number"}
    return v


class _Tracer:
    def __init__(self, calendar):
        self.compiler = Compiler(calendar)
        self.fns: dict[int, Any] = {}

    def value(self, e: A.Expr, case, params, env):
        fn = self.fns.get(id(e))
        if fn is None:
            fn = self.fns[id(e)] = self.compiler.compile(e)
        return fn(case, params, env)

    def node(self, e: A.Expr, case, params, env, depth: int = 0) -> dict:
        v = self.value(e, case, params, env)
        out: dict = {"expr": A.pretty(e), "value": _json_value(v)}
        if depth > 12:
            return out
        if isinstance(e, A.BoolOp):
            out["children"] = [self.node(o, case, params, env, depth + 1) for o in e.operands]
        elif isinstance(e, A.Not):
            out["children"] = [self.node(e.operand, case, params, env, depth + 1)]
        elif isinstance(e, (A.Compare, A.In)):
            out["operands"] = [self._leaf(x, case, params, env) for x in (e.left, e.right)]
        elif isinstance(e, A.IsNull):
            out["operands"] = [self._leaf(e.operand, case, params, env)]
        return out

    def _leaf(self, e: A.Expr, case, params, env) -> dict:
        return {"expr": A.pretty(e), "value": _json_value(self.value(e, case, params, env))}


def trace(rs, case: dict, params: dict) -> list[dict]:
    """For every rule of the case's action: applied or not, and why."""
    day = _dt.date.fromisoformat(case["date"])
    ar = rs.rules_for(case["action"])
    tracer = _Tracer(rs.calendar)
    env: dict = {}
    out = []
    for r in ar.forbids + ar.permits + ar.obligations:
        entry = {"rule": r.id, "cite": r.cite_text, "effect": r.effect, "in_force": r.in_force(day)}
        if not entry["in_force"]:
            out.append(entry)
            continue
        entry["when"] = tracer.node(r.when_ast, case, params, env)
        applied = bool(entry["when"]["value"])
        if r.unless_ast is not None:
            entry["unless"] = tracer.node(r.unless_ast, case, params, env)
            applied = applied and not entry["unless"]["value"]
        entry["applied"] = applied
        if applied and r.due_ast is not None:
            entry["due"] = tracer.node(r.due_ast, case, params, env)
        out.append(entry)
    return out


def decision_text(decision: dict, rs=None) -> str:
    """A short Chinese summary of a decision, citing the articles."""
    titles = {}
    if rs is not None:
        titles = rs.case_schema.get("x-action-titles", {})
    else:
        from .engine import default_ruleset

        titles = default_ruleset().case_schema.get("x-action-titles", {})
    action = decision["action"]
    verdict = "准予办理" if decision["decision"] == "allow" else "不予办理"
    lines = [f"决定：{verdict}（{decision['decision']}）",
             f"事项：{titles.get(action, action)}（{action}）"]
    if decision.get("case_id"):
        lines.append(f"案例：{mask_ids_in_text(decision['case_id'])}")
    if decision.get("outcome"):
        lines.append(f"结果：{decision['outcome']}")
    if decision["basis"]:
        lines.append("依据：")
        lines += [f"  · {r['cite']}：{r['message']}  [{r['rule']}]" for r in decision["basis"]]
    if decision["reasons"]:
        lines.append("理由：")
        lines += [f"  · {r['cite']}：{r['message']}  [{r['rule']}]" for r in decision["reasons"]]
    if decision["obligations"]:
        lines.append("须办理：")
        for o in decision["obligations"]:
            due = f"，期限 {o['due']}" if o.get("due") else ""
            lines.append(f"  · {o['cite']}：{o['message']}{due}  [{o['rule']}]")
    if decision["approvals"]:
        lines.append("审批/核准：" + "、".join(_APPROVALS_ZH.get(a, a) for a in decision["approvals"]))
    rsinfo = decision["ruleset"]
    lines.append(f"规则集：版本 {rsinfo['version']}，sha256 {rsinfo['sha256'][:12]}…")
    return "\n".join(lines)
