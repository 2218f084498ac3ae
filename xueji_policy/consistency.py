"""Cross-field check stage: facts of a case that contradict each other are refused.

The case schema checks each value alone; some facts can only be wrong together
(``student.grade`` 1 beside ``transfer.current_grade`` 2, a 休学 that ends before it
starts).  Such a case is not decided: deciding it would pick one of the two facts
silently.  The contradictions are declared as *data* beside the case schema — the
packaged ``schemas/case.consistency.yaml``, or the file a rule set names with
``case_consistency:`` in its ``ruleset.yaml`` — each with the paths it relates, a
condition in the rules' own condition language that holds when the facts contradict
each other, a Chinese (and English) message and the reading of the text behind it.

A constraint file goes through the rule pipeline (located YAML → shape → parse →
check against the case type → compile to closures), so a typo in it is a located
error like a rule's.  Evaluation runs the compiled constraints right after the case
is validated; one ``CaseProblem`` per contradiction names every path involved.

``each: s in student.suspensions`` evaluates the condition once per element (two
variables over the same list: every pair of *different* elements), and its paths may
start with the variable (``s.end`` → ``$.student.suspensions[2].end``);
``student.suspensions[last].start`` names the list's last element.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from typing import TYPE_CHECKING, Any

from .contract import did_you_mean
from .errors import CaseError, CaseProblem, CheckError, Location, RuleError, RuleSetError, StructureError
from .lang import ast as A
from .lang.compile import Compiler
from .lang.types import BOOL, LIST, OBJECT, PARAM_TYPES, Type

if TYPE_CHECKING:
    from .lang.check import Scope
    from .load import Y

# The compiling half below (YAML, shape, parser, checker) is imported by the functions that compile:
# a rule set read from the compiled-rule cache carries its constraints compiled (cache.py), so a
# cold start that only decides never imports the parser or jsonschema.

PACKAGED_NAME = "case.consistency.yaml"
PACKAGED_SHOWN = "xueji_policy/schemas/case.consistency.yaml"
MAX_PROBLEMS_PER_CONSTRAINT = 10  # a list of 20 identical entries must not give 190 problems

Fn = Callable[[dict, dict, dict], Any]

_NAME = r"[a-z_][a-z0-9_]*"
_PATH_RE = re.compile(rf"^{_NAME}(\[last\])?(\.{_NAME}(\[last\])?)*$")
_EACH_RE = re.compile(rf"^\s*({_NAME})\s+in\s+({_NAME}(\.{_NAME})*)\s*$")

SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["constraints"],
    "properties": {
        "note": {"type": "string", "maxLength": 4000},
        "constraints": {
            "type": "array", "maxItems": 200,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "paths", "contradiction", "message", "message_en", "reading"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z][a-z0-9_.-]*$", "maxLength": 80},
                    "actions": {"type": "array", "items": {"type": "string", "maxLength": 60}, "minItems": 1,
                                "maxItems": 50},
                    "each": {"oneOf": [{"type": "string", "maxLength": 200},
                                       {"type": "array", "items": {"type": "string", "maxLength": 200},
                                        "minItems": 1, "maxItems": 2}]},
                    "paths": {"type": "array", "items": {"type": "string", "maxLength": 200}, "minItems": 1,
                              "maxItems": 8},
                    "contradiction": {"type": "string", "minLength": 1},
                    "message": {"type": "string", "minLength": 1, "maxLength": 500},
                    "message_en": {"type": "string", "minLength": 1, "maxLength": 500},
                    "reading": {"type": "string", "minLength": 1, "maxLength": 4000},
                    "note": {"type": "string", "maxLength": 2000},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Each:
    var: str
    path: tuple[str, ...]  # the case path of the list, e.g. ("student", "suspensions")
    get: Fn
    ast: A.Expr


@dataclass(frozen=True)
class PathTemplate:
    text: str
    head_var: str | None  # the ``each`` variable it starts with, if any
    parts: tuple[tuple[str, bool], ...]  # (name, [last]) after the head (or from the root)


@dataclass(frozen=True)
class Constraint:
    id: str
    paths: tuple[PathTemplate, ...]
    contradiction_src: str
    contradiction_ast: A.Expr
    contradiction: Fn
    message: str
    message_en: str
    reading: str
    actions: frozenset[str] | None = None
    each: tuple[Each, ...] = ()
    file: str = ""
    line: int = 0


class Consistency:
    """The compiled constraints of one rule set."""

    def __init__(self, constraints: list[Constraint], source: str = "", calendar=None):
        self.constraints = tuple(constraints)
        self.source = source
        self.calendar = calendar
        self._by_action: dict[str, tuple[Constraint, ...]] = {}
        self._detect: dict[str, tuple] = {}

    def for_action(self, action: str) -> tuple[Constraint, ...]:
        got = self._by_action.get(action)
        if got is None:
            got = self._by_action[action] = tuple(
                c for c in self.constraints if c.actions is None or action in c.actions)
        return got

    def _detectors(self, action: str) -> tuple[Callable[[dict, dict], set], tuple[tuple[tuple, Callable], ...]]:
        """Generated functions per action (as the rules' plans): case → ids of the constraints
        that may fire.  One for the constraints without ``each``; one per group of ``each``
        constraints over the same list(s), called only when those lists have items (an absent or
        empty list has no element to contradict anything: every case without suspensions skips
        them).  An ``each`` constraint is tested as ``any(…)`` over its list(s), which may
        over-report (a pair of one element with itself); only those ids are then checked element
        by element, so a consistent case costs one call per group."""
        got = self._detect.get(action)
        if got is None:
            cs = self.for_action(action)
            plain = _build([c for c in cs if not c.each], self.calendar)
            groups: dict[tuple, list[Constraint]] = {}
            for c in cs:
                if c.each:
                    groups.setdefault(tuple(sorted({e.path for e in c.each})), []).append(c)
            got = self._detect[action] = (plain, tuple((paths, _build(g, self.calendar))
                                                       for paths, g in groups.items()))
        return got

    def problems(self, case: dict, params: dict) -> list[CaseProblem]:
        action = case.get("action", "")
        plain, groups = self._detectors(action)
        try:
            fired = plain(case, params)
            for paths, detect in groups:
                for path in paths:
                    if not _has_items(case, path):
                        break
                else:
                    fired = fired | detect(case, params)
        except KeyError:  # a fact a constraint reads is not stated: check each (an unknown never contradicts)
            fired = {c.id for c in self.for_action(action)}
        if not fired:
            return []
        out: list[CaseProblem] = []
        for c in self.for_action(action):
            if c.id not in fired:
                continue
            if not c.each:
                if c.contradiction(case, params, {}) is True:
                    out.append(_problem(c, case, {}))
                continue
            out.extend(_each_problems(c, case, params))
        return out

    def check(self, case: dict, params: dict) -> None:
        """Raise ``CaseError`` naming every contradiction of ``case`` (one problem each)."""
        problems = self.problems(case, params)
        if problems:
            raise CaseError(problems)


def _nothing(case: dict, params: dict) -> set:
    return set()


def _build(cs: list[Constraint], calendar) -> Callable[[dict, dict], set]:
    if not cs:
        return _nothing
    from .lang.codegen import build_function
    from .lang.types import T_BOOL

    exprs: list[A.Expr] = []
    for c in cs:
        e = c.contradiction_ast
        for each in reversed(c.each):
            e = A.Quant("any", each.var, each.ast, e, type=T_BOOL)
        exprs.append(e)
    # A fixed function name: an action's name is data, never part of generated code.
    # Lenient: an unstated fact reads null in the detector, which may then only over-report
    # (the closures decide each reported constraint in three values).
    return build_function("consistency", exprs, calendar, labels=[c.id for c in cs], lenient=True)


def _has_items(case: dict, path: tuple[str, ...]) -> bool:
    """Whether the list at ``path`` (a validated case: a list, null or absent) has an item."""
    node: Any = case
    for name in path:
        if type(node) is not dict:
            return False
        node = node.get(name)
    return bool(node)


def _each_problems(c: Constraint, case: dict, params: dict) -> list[CaseProblem]:
    # An unknown list (a Residual) has no elements to contradict each other.
    lists = [x if isinstance(x, list) else [] for x in (e.get(case, params, {}) for e in c.each)]
    if not all(lists):
        return []
    out: list[CaseProblem] = []
    seen: set = set()
    same = len(c.each) == 2 and c.each[0].path == c.each[1].path
    for idx in itertools.product(*(range(len(x)) for x in lists)):
        if same and idx[0] == idx[1]:
            continue  # two variables over one list: pairs of different elements
        key = frozenset(idx) if same else idx
        if key in seen:
            continue
        env = {e.var: lst[i] for e, lst, i in zip(c.each, lists, idx)}
        if c.contradiction(case, params, env) is True:
            seen.add(key)
            out.append(_problem(c, case, {e.var: (e.path, i) for e, i in zip(c.each, idx)}))
            if len(out) >= MAX_PROBLEMS_PER_CONSTRAINT:
                break
    return out


def _problem(c: Constraint, case: dict, bound: dict[str, tuple[tuple[str, ...], int]]) -> CaseProblem:
    paths = tuple(_json_path(t, case, bound) for t in c.paths)
    others = "、".join(paths[1:])
    if others:
        zh = f"{c.message}（与 {others} 相互矛盾；约束 {c.id}）"
        en = f"{c.message_en} (contradicts {', '.join(paths[1:])}; constraint {c.id})"
    else:
        zh, en = f"{c.message}（约束 {c.id}）", f"{c.message_en} (constraint {c.id})"
    return CaseProblem(paths[0], zh, en, paths=paths)


def _json_path(t: PathTemplate, case: dict, bound: dict[str, tuple[tuple[str, ...], int]]) -> str:
    out = "$"
    node: Any = case
    if t.head_var is not None:
        list_path, i = bound[t.head_var]
        for name in list_path:
            out += f".{name}"
            node = node.get(name) if isinstance(node, dict) else None
        out += f"[{i}]"
        node = node[i] if isinstance(node, list) and i < len(node) else None
    for name, last in t.parts:
        out += f".{name}"
        node = node.get(name) if isinstance(node, dict) else None
        if last:
            if isinstance(node, list) and node:
                out += f"[{len(node) - 1}]"
                node = node[-1]
            else:
                out += "[last]"
                node = None
    return out


# --------------------------------------------------------------------------- loading


def packaged_text() -> str:
    return resources.files("xueji_policy").joinpath("schemas", PACKAGED_NAME).read_text(encoding="utf-8")


def compile_text(text: str, shown: str, case_type: Type, param_types: dict[str, Type], calendar,
                 *, sections: set[str] | frozenset[str] = frozenset(),
                 params_unknown: bool = False) -> tuple[Consistency, list[RuleError]]:
    """Load, shape, parse, check and compile a constraints file; (result, every located error).

    ``sections`` are the case's per-action sections: a rule reads only its own actions'
    sections, which are then always there, but a constraint may read any of them, so here
    they are typed as possibly absent."""
    from .load import load_yaml_text
    from .shape import check_shape

    errors: list[RuleError] = []
    case_type = replace(case_type, fields=tuple((n, t.as_nullable() if n in sections else t)
                                               for n, t in case_type.fields))
    try:
        y = load_yaml_text(text, shown)
    except RuleError as e:
        return Consistency([], shown), [e]
    shape_errors = check_shape(y, SCHEMA)
    if shape_errors:
        return Consistency([], shown), list(shape_errors)
    actions_enum = _enum_of(case_type, "action")
    compiler = Compiler(calendar)
    out: list[Constraint] = []
    seen: dict[str, Location] = {}
    for cy in y.value["constraints"].value:
        d = cy.value
        cid = d["id"].value
        if cid in seen:
            errors.append(StructureError(f"约束编号 '{cid}' 重复（首次出现在 {seen[cid]}）", d["id"].loc, rule_id=cid,
                                         message_en=f"duplicate constraint id '{cid}'"))
            continue
        seen[cid] = d["id"].loc
        c = _constraint(cy, cid, case_type, param_types, actions_enum, compiler, params_unknown, errors)
        if c is not None:
            out.append(c)
    return Consistency(out, shown, calendar), errors


def _enum_of(case_type: Type, name: str) -> list[str]:
    t = case_type.field(name)
    return list(t.values) if t is not None and t.values else []


def _constraint(cy: Y, cid: str, case_type: Type, param_types: dict[str, Type], actions_enum: list[str],
                compiler: Compiler, params_unknown: bool, errors: list[RuleError]) -> Constraint | None:
    from .lang.check import Scope

    d = cy.value
    n = len(errors)
    actions: frozenset[str] | None = None
    if "actions" in d:
        acts = []
        for ay in d["actions"].value:
            if ay.value not in actions_enum:
                hint = did_you_mean(str(ay.value), actions_enum)
                errors.append(CheckError(f"未知操作 '{ay.value}'", ay.loc, rule_id=cid,
                                         message_en=f"unknown action '{ay.value}'",
                                         hint=f"是否应为 '{hint}'？" if hint else None))
            else:
                acts.append(ay.value)
        actions = frozenset(acts)

    eaches: list[Each] = []
    var_types: dict[str, Type] = {}
    each_y = d.get("each")
    if each_y is not None:
        items = [each_y] if isinstance(each_y.value, str) else list(each_y.value)
        for ey in items:
            m = _EACH_RE.match(ey.value)
            if not m:
                errors.append(StructureError(f"each 应写作 '变量 in 列表字段'（如 s in student.suspensions）：{ey.value!r}",
                                             ey.loc, rule_id=cid, message_en="each is written 'VAR in LIST_FIELD'"))
                continue
            var, list_text = m.group(1), m.group(2)
            t = _field_type(case_type, list_text.split("."))
            if t is None or t.kind != LIST or t.elem is None:
                errors.append(CheckError(f"each 的 '{list_text}' 不是案例中的列表字段", ey.loc, rule_id=cid,
                                         message_en=f"'{list_text}' is not a list field of the case"))
                continue
            if var in var_types or case_type.field(var) is not None or var == "params":
                errors.append(CheckError(f"each 的变量名 '{var}' 重复或与字段重名", ey.loc, rule_id=cid,
                                         message_en=f"each variable '{var}' is taken"))
                continue
            got = _compile(list_text, ey, cid, Scope(case=case_type, params=param_types), compiler, None, errors,
                           keep_ast=True)
            if got is None:
                continue
            var_types[var] = t.elem
            eaches.append(Each(var, tuple(list_text.split(".")), got[1], got[0]))

    paths: list[PathTemplate] = []
    for py in d["paths"].value:
        tpl = _path_template(py, cid, case_type, var_types, errors)
        if tpl is not None:
            paths.append(tpl)

    scope = Scope(case=case_type, params=param_types, vars=dict(var_types), params_unknown=params_unknown)
    cond_y = d["contradiction"]
    fn = _compile(cond_y.value, cond_y, cid, scope, compiler, BOOL, errors, keep_ast=True)
    if len(errors) > n or fn is None:
        return None
    ast, compiled = fn
    return Constraint(id=cid, paths=tuple(paths), contradiction_src=cond_y.value, contradiction_ast=ast,
                      contradiction=compiled, message=d["message"].value, message_en=d["message_en"].value,
                      reading=d["reading"].value, actions=actions, each=tuple(eaches), file=cy.src.path,
                      line=cy.loc.line)


def _compile(text: str, y: Y, cid: str, scope: Scope, compiler: Compiler, expect: str | None,
             errors: list[RuleError], keep_ast: bool = False):
    from .lang.check import AlreadyReported, check_expr
    from .lang.parse import Source, parse_expr

    src = Source(text, y.scalar_locator(), cid)
    try:
        ast = parse_expr(text, src)
        check_expr(ast, scope, src, expect, "矛盾条件")
        fn = compiler.compile(ast)
    except AlreadyReported:
        return None
    except RuleError as e:
        errors.append(e)
        return None
    except RecursionError:
        errors.append(CheckError("矛盾条件嵌套过深，无法检查", y.loc, rule_id=cid, message_en="condition nested too deeply"))
        return None
    return (ast, fn) if keep_ast else fn


def _field_type(t: Type | None, names: list[str]) -> Type | None:
    for name in names:
        if t is None or t.kind != OBJECT:
            return None
        t = t.field(name)
    return t


def _path_template(py: Y, cid: str, case_type: Type, var_types: dict[str, Type],
                   errors: list[RuleError]) -> PathTemplate | None:
    text = py.value
    if not _PATH_RE.match(text):
        errors.append(StructureError(f"路径格式不符：{text!r}（应为 student.grade、s.end 或 student.suspensions[last].start）",
                                     py.loc, rule_id=cid, message_en=f"malformed path {text!r}"))
        return None
    segs = [(s[:-6], True) if s.endswith("[last]") else (s, False) for s in text.split(".")]
    head_var = None
    t: Type | None = case_type
    if segs[0][0] in var_types and not segs[0][1]:
        head_var = segs[0][0]
        t = var_types[head_var]
        segs = segs[1:]
    for name, last in segs:
        ft = t.field(name) if t is not None and t.kind == OBJECT else None
        if ft is None:
            options = t.field_names() if t is not None and t.kind == OBJECT else []
            hint = did_you_mean(name, options)
            errors.append(CheckError(f"路径 '{text}' 中的未知字段 '{name}'", py.loc, rule_id=cid,
                                     message_en=f"unknown field '{name}' in path '{text}'",
                                     hint=f"是否应为 '{hint}'？" if hint else None))
            return None
        if last:
            if ft.kind != LIST or ft.elem is None:
                errors.append(CheckError(f"路径 '{text}' 中 '{name}' 不是列表，不能用 [last]", py.loc, rule_id=cid,
                                         message_en=f"'{name}' is not a list"))
                return None
            ft = ft.elem
        t = ft
    return PathTemplate(text, head_var, tuple(segs))


def load_for(source: tuple[str, str] | None, case_type: Type, params: dict, calendar,
             sections: set[str]) -> Consistency:
    """The compiled constraints of a rule set from what its loader read (``source``: shown
    name and text) or, for ``None``, the packaged file.  Raises ``RuleSetError``."""
    shown, text = source if source is not None else (PACKAGED_SHOWN, packaged_text())
    param_types = {n: PARAM_TYPES[p.type] for n, p in params.items()}
    result, errors = compile_text(text, shown, case_type, param_types, calendar, sections=sections)
    if errors:
        raise RuleSetError(errors)
    return result
