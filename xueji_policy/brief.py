"""The brief explanation: only the rules that decided, each as one Chinese sentence with the
facts and computed dates behind it — for a parent at the desk, not for staff (the full
trace is ``explain.trace``).

``brief(rs, case, params, decision)`` takes a decision the engine made (on deny its
``reasons``, on allow its ``basis``) and re-walks each deciding rule's checked AST with
the values the case gave: which operands of an ``and``/``or`` decided, and for each
comparison both sides with their values — case fields by the schema's Chinese ``title``
and enum values by their ``x-labels`` (``contract.field_title``/``value_labels``),
parameters by their title and unit, computed dates as the computation and its result.
Everything here is generic over the AST: no article, field or rule is named in this file.
A rule may name a computed value for people (``terms:`` in its rule file, e.g.
``window_end: 学期开学后两周的最后一天``); without one the computation is spelled out.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from . import contract
from .errors import CalendarError
from .lang import ast as A
from .lang.compile import Compiler
from .lang.kleene import Residual
from .privacy import mask_ids_in_text

__all__ = ["brief", "brief_text"]

_PERSONAL = contract.personal_data_keys()
_MAX_CLAUSES = 6  # a sentence names at most this many deciding facts
_MAX_ITEMS = 3  # … and at most this many items of a list

# The relation that holds, by the comparison's operator and whether it held; dates read as
# earlier/later, numbers as larger/smaller.
_DATE_OPS = {("<", True): "早于", ("<", False): "不早于", ("<=", True): "不晚于", ("<=", False): "晚于",
             (">", True): "晚于", (">", False): "不晚于", (">=", True): "不早于", (">=", False): "早于",
             ("==", True): "为", ("==", False): "不是", ("!=", True): "不是", ("!=", False): "为"}
_NUM_OPS = {("<", True): "小于", ("<", False): "不小于", ("<=", True): "不大于", ("<=", False): "大于",
            (">", True): "大于", (">", False): "不大于", (">=", True): "达到", (">=", False): "小于",
            ("==", True): "等于", ("==", False): "不等于", ("!=", True): "不等于", ("!=", False): "等于"}
# Date arithmetic of the language, read aloud: the unit counted from a date.
_SHIFTS = {"add_days": "天", "add_working_days": "个工作日", "add_months": "个月", "add_years": "年"}


class _Brief:
    def __init__(self, rs, case: dict, params: dict, terms: dict[str, str]):
        self.rs, self.case, self.params, self.terms = rs, case, params, terms
        self.compiler = Compiler(rs.calendar)
        self.fns: dict[int, Any] = {}
        self.env: dict = {}
        self.var_paths: dict[str, str] = {}  # quantifier variable → the dotted path of its list's items

    # ----------------------------------------------------------------- values
    def value(self, e: A.Expr) -> Any:
        fn = self.fns.get(id(e))
        if fn is None:
            fn = self.fns[id(e)] = self.compiler.compile(e)
        try:
            return fn(self.case, self.params, self.env)
        except CalendarError:  # a working day of a year with no published schedule: not known yet
            return _NO_CALENDAR

    def field_path(self, e: A.Expr) -> str | None:
        """The case field an expression reads (a dotted schema path), if it is one."""
        if isinstance(e, A.Path) and e.root == "var":
            head = self.var_paths.get(e.parts[0])
            return ".".join((head, *e.parts[1:])) if head else None
        if isinstance(e, A.Path) and e.root in (None, "case"):
            return ".".join(e.parts)
        if isinstance(e, A.Call) and e.name in ("first", "last") and e.args:  # an item of a list
            base = self.field_path(e.args[0])
            return f"{base}.*" if base else None
        if isinstance(e, A.Field):
            base = self.field_path(e.obj)
            return f"{base}.{e.name}" if base else None
        if isinstance(e, A.Path) and e.root == "let" and e.expansion is not None:
            base = self.field_path(e.expansion)
            return ".".join((base, *e.parts[1:])) if base else None
        return None

    def item_of(self, e: A.Expr) -> str:
        """``（最后一项）`` when an expression reads an item picked by first/last (最后一次休学)."""
        while True:
            if isinstance(e, A.Call) and e.name in ("first", "last"):
                return "（第一项）" if e.name == "first" else "（最后一项）"
            if isinstance(e, A.Field):
                e = e.obj
            elif isinstance(e, A.Path) and e.root == "let" and e.expansion is not None:
                e = e.expansion
            else:
                return ""

    def show(self, v: Any, path: str | None = None) -> str:
        if v is _NO_CALENDAR:
            return "（节假日安排尚未公布）"
        if isinstance(v, Residual):  # v2: a fact the case does not state
            return "未写明"
        if v is None:  # v2: null is "there is none"
            return "无"
        if v is True:
            return "是"
        if v is False:
            return "否"
        if isinstance(v, (_dt.date, _dt.datetime)):
            return v.isoformat()[:10]
        labels = contract.value_labels(path) if path else {}
        if isinstance(v, (list, tuple, set, frozenset)):
            items = sorted(v, key=repr) if isinstance(v, (set, frozenset)) else list(v)
            if not items:
                return "（无）"
            shown = "、".join(self.show(x, path) for x in items[:8])
            return shown + ("等" if len(items) > 8 else "")
        if isinstance(v, dict):
            return "（已填写）"
        if isinstance(v, str):
            return mask_ids_in_text(labels.get(v, v))
        return str(v)

    # ----------------------------------------------------------------- operands
    def name(self, e: A.Expr) -> str | None:
        """What an operand is called, without its value (None: a literal or a bare value)."""
        path = self.field_path(e)
        if isinstance(e, A.Path) and e.root == "let" and len(e.parts) == 1 and e.parts[0] in self.terms:
            return self.terms[e.parts[0]]
        if path is not None:
            which = self.item_of(e)
            if which and ".*." in path:  # 历次休学（最后一项）的休学原因
                head, _, _ = path.rpartition(".*.")
                return f"{contract.field_title(head) or head}{which}的{_titled(path)}"
            return _titled(path)
        if isinstance(e, A.Path) and e.root == "param":
            p = self.rs.params.get(e.parts[-1])
            return p.title if p is not None else e.parts[-1]
        if isinstance(e, A.ListLit) and e.items:
            names = [self.name(i) for i in e.items]
            return "、".join(n for n in names if n) if all(names) else None
        return None

    def operand(self, e: A.Expr, other: A.Expr | None = None) -> str:
        """An operand with its value: ``申请日期 2026-03-11``, ``学期开学日 2026-02-24 后 14 天（2026-03-10）``."""
        v = self.value(e)
        if isinstance(e, A.Literal) or (isinstance(e, A.ListLit) and A.literal_values(e.items) is not None):
            # a literal reads in the words of the field it is compared with
            return self.show(v, self.field_path(other) if other is not None else None)
        if isinstance(e, A.Path) and e.root == "param":
            p = self.rs.params.get(e.parts[-1])
            unit = (p.unit or "") if p is not None else ""
            return f"{self.name(e)} {self.show(v)}{unit}"
        if isinstance(e, A.Path) and e.root == "let" and len(e.parts) == 1 and e.expansion is not None:
            if e.parts[0] in self.terms:  # the rule's name for it, and how it was computed
                how = self.operand(e.expansion, other) if isinstance(e.expansion, A.Call) else ""
                how = how.rsplit("（", 1)[0] if how.endswith("）") else how  # the value is shown already
                return f"{self.terms[e.parts[0]]} {self.show(v)}" + (f"（{how}）" if how else "")
            return self.operand(e.expansion, other)
        path = self.field_path(e)
        if path is not None:
            if path.split(".")[-1] in _PERSONAL:  # 第三十二条: named, never shown
                return self.name(e) or path
            return f"{self.name(e)} {self.show(v, path)}"
        if isinstance(e, A.Call):
            return self.call(e, v)
        if isinstance(e, A.Quant) and e.kind == "count":
            return f"{self.name(e.iterable) or '列表'}中符合条件的项数 {v}"
        return self.show(v)

    def call(self, e: A.Call, v: Any) -> str:
        if e.name in _SHIFTS and len(e.args) == 2:
            n = self.value(e.args[1])
            if isinstance(n, int):
                side = "后" if n >= 0 else "前"
                return f"{self.operand(e.args[0])} {side} {abs(n)} {_SHIFTS[e.name]}（{self.show(v)}）"
        if e.name in ("coalesce", "stated_or") and len(e.args) == 2:
            first = self.value(e.args[0])
            stated = first is not None and not isinstance(first, Residual)
            return self.operand(e.args[0] if stated else e.args[1])
        if e.name == "len" and e.args:
            return f"{self.name(e.args[0]) or '列表'}的项数 {self.show(v)}"
        if e.name in ("first", "last") and e.args:
            which = "第一项" if e.name == "first" else "最后一项"
            return f"{self.name(e.args[0]) or '列表'}（{which}）{self.show(v)}"
        if e.name in ("working_days_between", "days_between") and len(e.args) == 2:
            unit = "个工作日" if e.name == "working_days_between" else "天"
            return f"{self.operand(e.args[0])} 至 {self.operand(e.args[1])} 相隔 {self.show(v)} {unit}"
        return self.show(v)

    # ----------------------------------------------------------------- conditions
    def facts(self, e: A.Expr, depth: int = 0) -> list[str]:
        """The facts that gave a condition the value it has, each as a clause."""
        v = self.value(e)
        if depth > 24:
            return []
        if isinstance(e, A.BoolOp):
            # ``and`` true / ``or`` false: every operand counts; otherwise those that decided it.
            every = (e.op == "and") == bool(v)
            # (An operand that hangs on an unstated fact decided nothing: it is left out.)
            picked = e.operands if every else [o for o in e.operands if _truth(self.value(o)) is bool(v)]
            return [c for o in picked for c in self.facts(o, depth + 1)]
        if isinstance(e, A.Not):
            return self.facts(e.operand, depth + 1)
        if isinstance(e, A.Path) and e.root == "let" and len(e.parts) == 1 and e.expansion is not None:
            if e.parts[0] in self.terms:
                return [f"{self.terms[e.parts[0]]}：{self.show(v)}"]
            return self.facts(e.expansion, depth + 1)
        if isinstance(e, A.Compare):
            return [self.compare(e, bool(v))]
        if isinstance(e, A.In):
            return [self.membership(e, bool(v))]
        if isinstance(e, A.Call) and e.name == "known":  # v2: whether the case states the fact
            name = self.name(e.args[0]) or A.pretty(e.args[0])
            return [f"{name}{'已写明' if v else '未写明'}"]
        if isinstance(e, A.IsNull):
            path = self.field_path(e.operand)
            name = self.name(e.operand) or A.pretty(e.operand)
            inner = self.value(e.operand)
            return [f"{name}：无" if inner is None else f"已填写{name}" if path and
                    path.split(".")[-1] in _PERSONAL else f"{self.operand(e.operand)}"]
        if isinstance(e, A.Quant):
            return self.quant(e, v, depth)
        path = self.field_path(e)
        if path is not None:
            return [f"{self.name(e)}：{self.show(v, path)}"]
        return [f"{A.pretty(e)}：{self.show(v)}"]

    def compare(self, e: A.Compare, held: bool) -> str:
        left, right = e.left, e.right
        lv = self.value(left)
        if isinstance(right, A.Literal) and isinstance(right.value, bool) and isinstance(lv, (bool, type(None))):
            # ``x == true``: the fact itself — 已报名参加高考：是 / 无
            return f"{self.name(left) or A.pretty(left)}：{self.show(lv)}"
        is_date = isinstance(lv, _dt.date) or isinstance(self.value(right), _dt.date)
        word = (_DATE_OPS if is_date else _NUM_OPS)[(e.op, held)]
        if e.op in ("==", "!=") and not is_date and not isinstance(lv, (int, float)):
            same = (e.op == "==") == held
            if same and isinstance(right, A.Literal):  # 证件类型为居民身份证
                return f"{self.name(left) or A.pretty(left)}为{self.operand(right, left)}"
            word = "为" if same else "不是"
        return f"{self.operand(left, right)} {word} {self.operand(right, left)}"

    def membership(self, e: A.In, held: bool) -> str:
        inside = held != e.negated
        lv = self.value(e.left)
        if isinstance(e.right, (A.ListLit, A.Literal)) or (isinstance(e.right, A.Path) and e.right.root == "let"
                                                        and self.field_path(e.right) is None):
            items = self.value(e.right) or []
            shown = "、".join(self.show(x, self.field_path(e.left)) for x in list(items)[:8])
            return f"{self.operand(e.left)} {'属于' if inside else '不属于'}（{shown}）"
        rpath = self.field_path(e.right)
        item = self.show(lv, self.field_path(e.left) or rpath)  # a list field's labels are its items'
        return f"{self.name(e.right) or A.pretty(e.right)}{'含有' if inside else '不含'}{item}"

    def gist(self, e: A.Expr) -> str:
        """A condition on a list's item, without values: 是否合格为否."""
        if isinstance(e, A.In) and isinstance(e.right, A.ListLit) and isinstance(e.left, A.Path) and e.left.root == "var":
            shown = "、".join(self.show(x, self.field_path(e.left)) for x in self.value(e.right) or [])
            head = "" if len(e.left.parts) == 1 else (self.name(e.left) or "")
            return f"{head}{'不属于' if e.negated else '属于'}（{shown}）"
        if isinstance(e, A.Compare) and isinstance(e.right, A.Literal):
            word = _NUM_OPS[(e.op, True)] if isinstance(e.right.value, (int, float)) and \
                not isinstance(e.right.value, bool) else ("为" if e.op == "==" else "不是")
            return f"{self.name(e.left) or A.pretty(e.left)}{word}{self.show(e.right.value, self.field_path(e.left))}"
        return "符合条件"  # a compound condition on an item: the rule's message says which

    def quant(self, e: A.Quant, v: Any, depth: int) -> list[str]:
        items = list(self.value(e.iterable) or ())
        base = self.field_path(e.iterable)
        saved = self.var_paths.get(e.var)
        if base is not None:
            self.var_paths[e.var] = base + ".*"
        elif isinstance(e.iterable, A.ListLit) and e.iterable.items:  # a list of fields: their labels
            first = self.field_path(e.iterable.items[0])
            if first is not None:
                self.var_paths[e.var] = first
        try:
            name = self.name(e.iterable) or "列表"
            if e.kind == "all" and v and isinstance(e.body, A.Compare) and isinstance(e.body.left, A.Path) \
                    and e.body.left.root == "var" and e.body.left.parts == (e.var,):
                word = (_DATE_OPS if items and isinstance(items[0], _dt.date) else _NUM_OPS)[(e.body.op, True)]
                return [f"{name} {self.show(items, base)} 均{word} {self.operand(e.body.right)}"]
            if e.kind == "any" and not v:
                gist = self.gist(e.body)
                return [(f"{name}中没有一项{gist}" if gist != "符合条件" else f"{name}中没有符合条件的一项")
                        if items else f"{name}为空"]
            if e.kind == "all" and v:
                return [f"{name}的每一项都符合条件"] if items else [f"{name}为空"]
            # ``any`` true: the items that made it so; ``all`` false: the items that broke it.
            want = e.kind == "any"
            out: list[str] = []
            for x in items:
                self.env[e.var] = x
                if bool(self.value(e.body)) == want:
                    out += self.facts(e.body, depth + 1)
                if len(out) >= _MAX_ITEMS:
                    break
            return out
        finally:
            self.env.pop(e.var, None)
            if saved is None:
                self.var_paths.pop(e.var, None)
            else:
                self.var_paths[e.var] = saved


def _truth(x: Any) -> bool | None:
    return None if isinstance(x, Residual) else bool(x)


# What a sub-condition that needs an unpublished year's working days evaluates to here: unknown.
_NO_CALENDAR = Residual(A.Literal("节假日安排尚未公布"), ())


def _titled(path: str) -> str:
    """A field's Chinese title; inside a nested object, with the object's (转入学校的相关年级各班人数)."""
    title = contract.field_title(path) or path
    parts = path.split(".")
    if len(parts) >= 3 and parts[-2] != "*":
        parent = contract.field_title(".".join(parts[:-1]))
        if parent:
            return f"{parent}的{title}"
    return title


def _dedup(clauses: list[str]) -> list[str]:
    return list(dict.fromkeys(c for c in clauses if c))


def _sentence(b: _Brief, rule, decided: str) -> str:
    """One rule's sentence: the facts of its ``when`` (and of an ``unless`` that decided)."""
    when = b.value(rule.when_ast)
    clauses: list[str] = []
    if rule.unless_ast is not None and when and b.value(rule.unless_ast) and decided == "unmet":
        clauses = b.facts(rule.unless_ast)  # an exception kept the permit from applying
    else:
        clauses = b.facts(rule.when_ast)
    clauses = _dedup(clauses)
    more = len(clauses) - _MAX_CLAUSES
    text = "；".join(clauses[:_MAX_CLAUSES]) + (f"；等{more}项" if more > 0 else "")
    return mask_ids_in_text(f"{text}（{rule.cite_text}）")


def brief(rs, case: dict, params: dict, decision: dict) -> list[dict]:
    """The deciding rules of ``decision`` (reasons on deny, basis on allow), each with one
    Chinese sentence: ``[{"rule", "cite", "effect", "message", "text"}]``."""
    deny = decision["decision"] != "allow"
    out = []
    for reason in decision["reasons"] if deny else decision["basis"]:
        rule = rs.rule(reason["rule"])
        b = _Brief(rs, case, params, dict(rule.terms))
        decided = "unmet" if rule.effect == "permit" and deny else "applied"
        try:
            text = _sentence(b, rule, decided)
        except Exception:  # an explanation never fails a decision: the rule's message stands alone
            text = f"{reason['message']}（{rule.cite_text}）"
        out.append({"rule": reason["rule"], "cite": reason["cite"], "effect": rule.effect,
                    "message": reason["message"], "text": text})
    return out


def brief_text(decision: dict) -> str:
    """The decision and its brief explanation as a few lines of Chinese."""
    verdict = contract.decision_labels().get(decision["decision"])
    action = contract.action_titles().get(decision["action"], decision["action"])
    lines = [f"{verdict}办理{action}。" if verdict and decision["decision"] in ("allow", "deny")
             else f"尚不能决定是否办理{action}。"]
    head = "原因：" if decision["decision"] != "allow" else "依据："
    items = decision.get("brief") or []
    if items:
        lines.append(head)
        lines += [f"· {it['message']}：{it['text']}" for it in items]
    needs = decision.get("needs") or []  # contract v2: an undetermined decision names the facts it lacks
    if needs:
        lines.append("尚需查明：" + "；".join(
            f"{_titled(n['path'])}（{'、'.join(n.get('cites') or [])}）" if n.get("cites") else _titled(n["path"])
            for n in needs))
    for o in decision.get("obligations") or []:
        due = f"（期限 {o['due']}）" if o.get("due") else ""
        lines.append(f"须办理：{o['message']}{due}（{o['cite']}）")
    if decision.get("approvals"):
        names = contract.approval_bodies()[1]
        lines.append("审批/核准：" + "、".join(names.get(a, a) for a in decision["approvals"]))
    return "\n".join(mask_ids_in_text(line) for line in lines)
