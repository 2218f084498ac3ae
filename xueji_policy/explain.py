"""Explain stage: why a case was decided, for people.

``trace`` re-walks the checked AST of every rule of the case's action and records each
sub-condition with the values it saw — comparisons with both operands, named
conditions (``let``) with their expansion, working-day computations with the holidays
and 调休 days they skipped.  Each sub-expression is compiled once on demand (explaining
is not the hot path).  ``trace_text`` and ``decision_text`` render it in Chinese.
ID numbers never appear in full.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from . import contract
from .lang import ast as A
from .lang.builtins import BUILTINS
from .lang.compile import Compiler
from .lang.kleene import Residual, applies, truth
from .privacy import mask_ids_in_text, scrub

APPROVALS_ZH = contract.approval_bodies()[1]  # the decision schema's x-labels
EFFECT_ZH = contract.effect_labels()  # the rule-file schema's x-labels
_PERSONAL = contract.personal_data_keys()  # fields the case schema marks as personal data
_OPS = {"==": "等于", "!=": "不等于", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
_WORKDAY_FUNCS = frozenset(n for n, b in BUILTINS.items() if b.calendar_method is not None)


def _json_value(v: Any) -> Any:
    if type(v) is Residual:  # hangs on facts the case does not state
        return {"unknown": mask_ids_in_text(v.text()), "needs": list(v.needs)}
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()[:10]
    if isinstance(v, int) and not isinstance(v, bool) and v > 10**13:  # an ID number typed as a number
        masked = mask_ids_in_text(str(v))
        return v if masked == str(v) else masked
    if isinstance(v, str):
        return mask_ids_in_text(v)
    if isinstance(v, (frozenset, set, tuple)):
        return [_json_value(x) for x in sorted(v, key=repr)]
    if isinstance(v, list):
        return [_json_value(x) for x in v[:50]]
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items() if k not in _PERSONAL}
    return v


class _Tracer:
    def __init__(self, calendar):
        self.calendar = calendar
        self.compiler = Compiler(calendar)
        self.fns: dict[int, Any] = {}
        self.shown: set[int] = set()  # let expansions already spelled out in the current rule

    def value(self, e: A.Expr, case, params, env):
        fn = self.fns.get(id(e))
        if fn is None:
            fn = self.fns[id(e)] = self.compiler.compile(e)
        return fn(case, params, env)

    def node(self, e: A.Expr, case, params, env, depth: int = 0) -> dict:
        v = self.value(e, case, params, env)
        out: dict = {"expr": A.pretty(e), "value": _json_value(v)}
        if depth > 16:
            return out
        if isinstance(e, A.BoolOp):
            out["children"] = [self.node(o, case, params, env, depth + 1) for o in e.operands]
        elif isinstance(e, A.Not):
            out["children"] = [self.node(e.operand, case, params, env, depth + 1)]
        elif isinstance(e, (A.Compare, A.In)):
            out["op"] = e.op if isinstance(e, A.Compare) else ("not in" if e.negated else "in")
            out["operands"] = [self.leaf(x, case, params, env, depth) for x in (e.left, e.right)]
        elif isinstance(e, A.IsNull):
            out["op"] = "is not null" if e.negated else "is null"
            out["operands"] = [self.leaf(e.operand, case, params, env, depth)]
        elif isinstance(e, A.Path) and e.root == "let" and e.expansion is not None and len(e.parts) == 1:
            out["let"] = e.parts[0]
            if id(e.expansion) in self.shown:  # a named condition is spelled out once per rule
                out["shown_above"] = True
            else:
                self.shown.add(id(e.expansion))
                out["children"] = [self.node(e.expansion, case, params, env, depth + 1)]
        elif isinstance(e, A.Call):
            out["operands"] = [self.leaf(a, case, params, env, depth) for a in e.args]
            if e.name in _WORKDAY_FUNCS:
                out["calendar"] = self._calendar_note(e, case, params, env, v)
        elif isinstance(e, A.Quant):
            out["children"] = [self.node(e.iterable, case, params, env, depth + 1)]
        return out

    def leaf(self, e: A.Expr, case, params, env, depth: int) -> dict:
        if isinstance(e, (A.Call, A.Arith)) or (isinstance(e, A.Path) and e.root == "let"):
            return self.node(e, case, params, env, depth + 1)
        out = {"expr": A.pretty(e), "value": _json_value(self.value(e, case, params, env))}
        if isinstance(e, (A.Literal, A.ListLit)):
            out["literal"] = True
        return out

    def _calendar_note(self, e: A.Call, case, params, env, result) -> dict | None:
        start = self.value(e.args[0], case, params, env)
        end = result if e.name == "add_working_days" else self.value(e.args[1], case, params, env)
        if not isinstance(start, _dt.date) or not isinstance(end, _dt.date):
            return None
        days = self.calendar.skipped_days(start, end)
        return {"from": start.isoformat(), "to": end.isoformat(),
                "skipped": [{"date": d.isoformat(), "label": label} for d, label in days]}


def trace(rs, case: dict, params: dict, allowed: bool = True, day: _dt.date | None = None) -> list[dict]:
    """For every rule of the case's action: in force? applied? and the values behind it.

    An obligation applies only to an allowed case: on a deny its condition is still
    shown, with ``applied`` false."""
    day = day or _dt.date.fromisoformat(case["date"])
    ar = rs.rules_for(case["action"])
    tracer = _Tracer(rs.calendar)
    env: dict = {}
    out = []
    for r in ar.forbids + ar.permits + ar.obligations:
        tracer.shown = set()
        entry = {"rule": r.id, "cite": r.cite_text, "effect": r.effect, "message": rs.message(r, params),
                 "in_force": r.in_force(day)}
        if not entry["in_force"]:
            out.append(entry)
            continue
        entry["when"] = tracer.node(r.when_ast, case, params, env)
        held = tracer.value(r.when_ast, case, params, env)
        if r.unless_ast is not None:
            entry["unless"] = tracer.node(r.unless_ast, case, params, env)
            held = applies(held, tracer.value(r.unless_ast, case, params, env))
        applied = truth(held)  # None: hangs on a fact the case does not state
        if r.effect == "obligation" and not allowed:
            entry["note"] = "不予办理时不产生义务"
            applied = False
        entry["applied"] = applied
        if applied is None:
            entry["residual"] = mask_ids_in_text(held.text())
        if applied and r.due_ast is not None:
            entry["due"] = tracer.node(r.due_ast, case, params, env)
        if r.reading:
            entry["reading"] = r.reading
        out.append(entry)
    # 第三十二条, once for the whole trace: expressions print rule literals and values.
    return scrub(out)  # type: ignore[return-value]


# --------------------------------------------------------------------------- text


def _v(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_v(x) for x in value) + "]"
    if isinstance(value, dict) and "unknown" in value:
        return "未知"
    if isinstance(value, dict):
        return "{" + "，".join(f"{k}: {_v(x)}" for k, x in value.items()) + "}"
    return str(value)


def _truth(value: Any) -> str:
    if isinstance(value, dict) and "unknown" in value:
        return "未知（案例未写明 " + "、".join(value["needs"]) + "）"
    return "成立" if value else "不成立"


def _operand(o: dict) -> str:
    # A literal needs no "= value"; a name or a computation shows what it evaluated to.
    if o.get("literal"):
        return o["expr"]
    return f"{o['expr']} = {_v(o['value'])}"


def _node_lines(n: dict, indent: int) -> list[str]:
    pad = "  " * indent
    op = n.get("op")
    if op and n.get("operands"):
        ops = n["operands"]
        if op in _OPS and len(ops) == 2:
            head = f"{_operand(ops[0])}，{_OPS[op]} {_operand(ops[1])}" if op in ("==", "!=") \
                else f"{_operand(ops[0])} {_OPS[op]} {_operand(ops[1])}"
        elif op in ("in", "not in"):
            head = f"{_operand(ops[0])} {'在' if op == 'in' else '不在'} {_operand(ops[1])} 中"
        else:
            head = f"{_operand(ops[0])} {'为空' if op == 'is null' else '不为空'}"
        lines = [f"{pad}{head} → {_truth(n['value'])}"]
        for o in ops:
            if o.get("calendar") or o.get("let") or o.get("operands"):
                lines += _calc_lines(o, indent + 1)
        return lines
    if "let" in n:
        lines = [f"{pad}{n['let']}（命名条件）→ {_truth(n['value']) if isinstance(n['value'], bool) else _v(n['value'])}"]
        for c in n.get("children", []):
            lines += _node_lines(c, indent + 1)
        return lines
    value = _truth(n["value"]) if isinstance(n["value"], bool) else _v(n["value"])
    lines = [f"{pad}{n['expr']} → {value}"]
    if n.get("calendar"):
        lines += _calc_lines(n, indent + 1, head=False)
    for c in n.get("children", []):
        lines += _node_lines(c, indent + 1)
    return lines


def _calc_lines(n: dict, indent: int, head: bool = True) -> list[str]:
    pad = "  " * indent
    lines = []
    if head:
        args = "，".join(_operand(o) for o in n.get("operands", []))
        lines.append(f"{pad}{n['expr']} = {_v(n['value'])}" + (f"（{args}）" if args else ""))
    cal = n.get("calendar")
    if cal:
        skipped = [f"{s['date']} {s['label']}" for s in cal["skipped"]]
        if skipped:
            lines.append(f"{pad}  工作日计算 {cal['from']} → {cal['to']}（起算日不计入）；其间非工作日与调休：" + "、".join(skipped))
        else:
            lines.append(f"{pad}  工作日计算 {cal['from']} → {cal['to']}（起算日不计入），其间无节假日")
    for c in n.get("children", []):
        lines += _node_lines(c, indent)
    return lines


def trace_text(entries: list[dict]) -> str:
    lines = []
    for e in entries:
        head = f"{EFFECT_ZH.get(e['effect'], e['effect'])} {e['cite']} [{e['rule']}]"
        if not e.get("in_force", True):
            lines.append(f"· {head} —— 案例日期不在其生效期间，不适用")
            continue
        mark = "◐" if e["applied"] is None else "●" if e["applied"] else "○"
        note = f"（{e['note']}）" if e.get("note") else ""
        verdict = "尚不能确定" if e["applied"] is None else "适用" if e["applied"] else "不适用"
        lines.append(f"{mark} {head} —— {verdict}{note}：{e['message']}")
        if e.get("residual"):
            lines.append(f"    尚待确定：{e['residual']}")
        lines.append("    条件：")
        lines += _node_lines(e["when"], 3)
        if "unless" in e:
            lines.append("    例外：")
            lines += _node_lines(e["unless"], 3)
        if "due" in e:
            lines.append("    期限：")
            lines += _calc_lines(e["due"], 3)
    return "\n".join(mask_ids_in_text(ln) for ln in lines)


def decision_text(decision: dict, rs=None) -> str:
    """A short Chinese summary of a decision, citing the articles (and the trace if present)."""
    if rs is None:  # the shipped rules (through the pipeline, not the engine: explain sits above neither)
        from .pipeline import load_ruleset

        rs = load_ruleset()
    titles = rs.case_schema.get("x-action-titles", {})
    action = decision["action"]
    label = contract.decision_labels()[decision["decision"]]
    verdict = label if decision["decision"] == "undetermined" else label + "办理"
    lines = [f"决定：{verdict}（{decision['decision']}）",
             f"事项：{titles.get(action, action)}（{action}）"]
    if decision.get("case_id"):
        lines.append(f"案例：{decision['case_id']}")
    if decision.get("outcome"):
        lines.append(f"结果：{decision['outcome']}")
    if decision["basis"]:
        lines.append("依据：")
        lines += [f"  · {r['cite']}：{r['message']}  [{r['rule']}]" for r in decision["basis"]]
    if decision["reasons"]:
        lines.append("理由：")
        lines += [f"  · {r['cite']}：{r['message']}  [{r['rule']}]" for r in decision["reasons"]]
    if decision.get("conditional_outcomes"):
        lines.append("结果尚不能确定，依次取决于：")
        for c in decision["conditional_outcomes"]:
            lines.append(f"  · {c['outcome']}：" + (f"若 {c['condition']}" if c["condition"] else "否则"))
    if decision["obligations"]:
        lines.append("须办理：")
        for o in decision["obligations"]:
            due = f"，期限 {o['due']}" if o.get("due") else ""
            cond = f"（仅当 {o['condition']} 时）" if o.get("condition") else ""
            lines.append(f"  · {o['cite']}：{o['message']}{due}{cond}  [{o['rule']}]")
    if decision.get("undecided"):
        lines.append("尚不能确定的规则：")
        for u in decision["undecided"]:
            rest = f"，尚待：{u['residual']}" if u.get("residual") else ""
            lines.append(f"  · {u['cite']} [{u['rule']}]{rest}")
    if decision.get("needs"):
        lines.append("请补充以下事实（最关键者在前）：")
        for n in decision["needs"]:
            lines.append(f"  · {contract.field_label(n['path'])}：{'、'.join(n['cites'])}")
    if decision["approvals"]:
        lines.append("审批/核准：" + "、".join(APPROVALS_ZH.get(a, a) for a in decision["approvals"]))
    rsinfo = decision["ruleset"]
    lines.append(f"规则集：版本 {rsinfo['version']}，sha256 {rsinfo['sha256'][:12]}…")
    if decision.get("trace"):
        lines.append("")
        lines.append("逐条规则（● 适用，○ 不适用）：")
        lines.append(trace_text(decision["trace"]))
    return "\n".join(mask_ids_in_text(ln) for ln in lines)


# --------------------------------------------------------------------------- readable conditions

_GLOSS = [(" not in ", " 不属于 "), (" in ", " 属于 "), (" is not null", " 不为空"), (" is null", " 为空"),
          (" == ", " = "), (" != ", " ≠ "), (" >= ", " ≥ "), (" <= ", " ≤ ")]


def readable_lines(e: A.Expr, depth: int = 0) -> list[tuple[int, str]]:
    """A condition as indented lines for people: ``and`` → 下列全部成立, ``or`` → 下列任一成立."""
    if isinstance(e, A.BoolOp):
        head = "下列全部成立：" if e.op == "and" else "下列任一成立："
        out = [(depth, head)]
        for o in e.operands:
            out += readable_lines(o, depth + 1)
        return out
    if isinstance(e, A.Not) and isinstance(e.operand, A.BoolOp):
        return [(depth, "并非：")] + readable_lines(e.operand, depth + 1)
    text = A.pretty(e)
    if isinstance(e, A.Not):
        text = "并非 " + A.pretty(e.operand)
    for old, new in _GLOSS:
        text = text.replace(old, new)
    return [(depth, text)]
