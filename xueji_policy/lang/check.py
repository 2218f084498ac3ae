"""Check stage: resolve every name and type-check an AST against the case schema.

Names come only from the schema (case fields), ``params.*`` (the parameters file)
and quantifier variables; anything else is a ``CheckError`` with a did-you-mean.
The checker annotates the AST in place (``node.type``, ``Path.root``) so that the
compiler needs no second look at the schema.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ..contract import did_you_mean, parse_day
from ..errors import CheckError
from . import ast as A
from .builtins import BUILTINS
from .parse import Source
from .types import (
    ANY,
    BOOL,
    DATE,
    ENUM,
    INT,
    LIST,
    NULL,
    NUMBER,
    OBJECT,
    STRING,
    T_ANY,
    T_BOOL,
    T_INT,
    T_NULL,
    T_NUMBER,
    T_STRING,
    Type,
    list_of,
    unify,
)

# From the one registry of built-ins (builtins.py): signatures and the documentation lines.
FUNCTIONS: dict[str, list[tuple[tuple[str, ...], str]]] = {n: list(b.signatures) for n, b in BUILTINS.items()}
FUNCTION_DOCS_ZH = {n: b.doc_zh for n, b in BUILTINS.items()}


@dataclass
class LetDef:
    """A named expression from a rule file's ``let:`` (or rules/definitions.yaml)."""

    name: str
    ast: A.Expr | None  # None: it did not parse (its error is reported already)
    source: Source
    failed: bool = False  # its error has been reported once; uses stay silent
    # Checked expansions shared by every use in the same context (actions and the types of the
    # quantifier variables the body reads): a let used twice by the next one must not double the
    # work at each level (exponential in the chain's length).
    checked: dict = field(default_factory=dict)
    _heads: frozenset | None = None

    def heads(self) -> frozenset:
        """The first name of every path in the body (the free variables are among them)."""
        if self._heads is None:
            self._heads = frozenset(n.parts[0] for n in A.walk(self.ast) if isinstance(n, A.Path)) \
                if self.ast is not None else frozenset()
        return self._heads


class AlreadyReported(CheckError):
    """A rule uses a named condition whose error was already reported: the rule is
    invalid, but saying so again for every rule that uses it would only add noise."""


@dataclass
class Scope:
    """What names a condition may use."""

    case: Type  # OBJECT type of the whole case
    params: dict[str, Type]
    sections: dict[str, str] = field(default_factory=dict)  # action → section
    actions: tuple[str, ...] = ()  # the rule's actions; () = any
    vars: dict[str, Type] = field(default_factory=dict)
    lets: dict[str, LetDef] = field(default_factory=dict)  # named sub-conditions (``let:``)
    expanding: tuple[str, ...] = ()  # lets being expanded, to refuse recursion
    # A file these names come from failed to load: unknown names are its fault, not the rule's.
    params_unknown: bool = False
    names_unknown: bool = False


    def all_sections(self) -> set[str]:
        return set(self.sections.values())

    def present_sections(self) -> set[str] | None:
        """Sections present in every case of the rule's actions (None: unknown/any)."""
        if not self.actions:
            return None
        return {s for s in (self.sections.get(a) for a in self.actions) if s is not None}




class Checker:
    def __init__(self, scope: Scope, source: Source):
        self.scope = scope
        self.src = source

    # -- errors ---------------------------------------------------------------
    def error(self, msg: str, pos: int, en: str, hint: str | None = None) -> CheckError:
        return CheckError(msg, self.src.location(pos), rule_id=self.src.rule_id, message_en=en, hint=hint)

    # -- entry ----------------------------------------------------------------
    def check(self, e: A.Expr, expect: str | None = None, what: str = "条件") -> Type:
        t = self.visit(e)
        if expect is not None and not _fits(t, expect):
            raise self.error(f"{what}的结果应为{_kind_zh(expect)}，实际为{t.describe()}", e.pos,
                             f"{what} must be {expect}, got {t.describe_en()}")
        return t

    def visit(self, e: A.Expr) -> Type:
        method = getattr(self, "v_" + type(e).__name__)
        t = method(e)
        e.type = t
        return t

    # -- leaves ---------------------------------------------------------------
    def v_Literal(self, e: A.Literal) -> Type:
        v = e.value
        if v is None:
            return T_NULL
        if isinstance(v, bool):
            return T_BOOL
        if isinstance(v, int):
            return T_INT
        if isinstance(v, float):
            return T_NUMBER
        return T_STRING

    def v_ListLit(self, e: A.ListLit) -> Type:
        elem = T_ANY
        for item in e.items:
            t = self.visit(item)
            u = unify(elem, t)
            if u is None:
                raise self.error(f"列表元素类型不一致：{elem.describe()} 与 {t.describe()}", item.pos,
                                 "list elements of different types")
            elem = u
        return list_of(elem)

    def v_Path(self, e: A.Path) -> Type:
        parts = e.parts
        head = parts[0]
        offsets = _part_offsets(e)
        if head in self.scope.vars:
            e.root = "var"
            return self._descend(e, self.scope.vars[head], parts, 1, offsets, head)
        if head in self.scope.lets:
            return self._let(e, head, offsets)
        if head == "params":
            e.root = "param"
            if len(parts) != 2:
                raise self.error("参数引用应为 params.参数名", e.pos, "a parameter is written params.NAME")
            name = parts[1]
            if name not in self.scope.params and self.scope.params_unknown:
                return T_ANY
            if name not in self.scope.params:
                hint = did_you_mean(name, self.scope.params)
                raise self.error(f"未知参数 'params.{name}'", offsets[1], f"unknown parameter 'params.{name}'",
                                 hint=f"是否应为 'params.{hint}'？" if hint else "参数在 rules/parameters.yaml 中定义")
            return self.scope.params[name]
        e.root = "case"
        case_t = self.scope.case
        t = case_t.field(head)
        if t is None and self.scope.names_unknown and len(parts) == 1:
            return T_ANY
        if t is None:
            options = case_t.field_names() + ["params"] + list(self.scope.vars) + list(self.scope.lets)
            hint = did_you_mean(head, options)
            raise self.error(f"未知字段 '{'.'.join(parts)}'", e.pos, f"unknown field '{'.'.join(parts)}'",
                             hint=f"是否应为 '{hint}'？" if hint else None)
        present = self.scope.present_sections()
        if head in self.scope.all_sections() and present is not None and head not in present:
            acts = "、".join(self.scope.actions)
            raise self.error(f"'{head}' 部分不属于本规则适用的操作（{acts}）", e.pos,
                             f"section '{head}' is not part of the cases of actions {acts}")
        e.defaults = (t.default if t.has_default else None,)
        e.present = (_always_there(t),)
        return self._descend(e, t, parts, 1, offsets, head)

    def _let(self, e: A.Path, head: str, offsets) -> Type:
        let = self.scope.lets[head]
        if let.failed:
            raise AlreadyReported("", None)
        assert let.ast is not None  # a let that did not parse is marked failed when it is read
        if head in self.scope.expanding:
            raise self.error(f"命名条件 '{head}' 循环引用自身", e.pos, f"let '{head}' refers to itself")
        free = tuple(sorted((v, repr(t)) for v, t in self.scope.vars.items() if v in let.heads()))
        key = (self.scope.actions, free)
        hit = let.checked.get(key)
        if hit is None:
            # One checked copy per context, shared by all its uses (the AST becomes a DAG).
            expansion = copy.deepcopy(let.ast)
            self.scope.expanding += (head,)
            try:
                t = Checker(self.scope, let.source).visit(expansion)
            except AlreadyReported:
                raise
            except CheckError:
                let.failed = True  # reported now, by this first use; later uses stay silent
                raise
            finally:
                self.scope.expanding = self.scope.expanding[:-1]
            hit = let.checked[key] = (expansion, t)
        expansion, t = hit
        e.root = "let"
        e.expansion = expansion
        if len(e.parts) > 1:
            return self._descend(e, t, e.parts, 1, offsets, head)
        return t

    def _descend(self, e: A.Path, t: Type, parts, i: int, offsets, shown: str) -> Type:
        nullable = t.nullable
        defaults = list(e.defaults)
        present = list(e.present) or [e.root == "var"]  # a bound variable is a list element: there
        while i < len(parts):
            name = parts[i]
            if t.kind == ANY:
                return T_ANY
            if t.kind == LIST:
                raise self.error(f"'{shown}' 是列表，不能直接取字段 '{name}'", offsets[i],
                                 f"'{shown}' is a list; use any/all/count to look inside it",
                                 hint="请用 any(x in 列表: …)、all(…) 或 count(…)")
            if t.kind != OBJECT:
                raise self.error(f"'{shown}' 是{t.describe()}，没有字段 '{name}'", offsets[i],
                                 f"'{shown}' has no field '{name}'")
            ft = t.field(name)
            if ft is None:
                hint = did_you_mean(name, t.field_names())
                raise self.error(f"未知字段 '{'.'.join(parts)}'", offsets[i], f"unknown field '{'.'.join(parts)}'",
                                 hint=f"是否应为 '{hint}'？" if hint else f"'{shown}' 的字段有：{'、'.join(t.field_names())}")
            t = ft
            defaults.append(t.default if t.has_default else None)
            present.append(present[-1] and _always_there(t))
            nullable = nullable or t.nullable
            shown = f"{shown}.{name}"
            i += 1
        e.defaults = tuple(defaults)
        e.present = tuple(present)
        return t.as_nullable(nullable) if nullable != t.nullable else t

    def v_Field(self, e: A.Field) -> Type:
        t = self.visit(e.obj)
        if t.kind == ANY:
            return T_ANY
        if t.kind != OBJECT:
            raise self.error(f"{t.describe()}没有字段 '{e.name}'", e.pos, f"{t.describe_en()} has no field '{e.name}'")
        ft = t.field(e.name)
        if ft is None:
            hint = did_you_mean(e.name, t.field_names())
            raise self.error(f"未知字段 '{e.name}'", e.pos, f"unknown field '{e.name}'",
                             hint=f"是否应为 '{hint}'？" if hint else f"字段有：{'、'.join(t.field_names())}")
        e.default = ft.default if ft.has_default else None
        return ft.as_nullable(True) if t.nullable and not ft.nullable else ft

    # -- boolean --------------------------------------------------------------
    def _bool(self, e: A.Expr, what: str) -> None:
        t = self.visit(e)
        if t.kind not in (BOOL, NULL, ANY):
            raise self.error(f"{what}的操作数应为布尔值，实际为{t.describe()}", e.pos,
                             f"operand of {what} must be boolean, got {t.describe_en()}")

    def v_Not(self, e: A.Not) -> Type:
        self._bool(e.operand, "not")
        return T_BOOL

    def v_BoolOp(self, e: A.BoolOp) -> Type:
        for o in e.operands:
            self._bool(o, e.op)
        return T_BOOL

    # -- comparison -----------------------------------------------------------
    def v_Compare(self, e: A.Compare) -> Type:
        lt, rt = self.visit(e.left), self.visit(e.right)
        if e.op in ("==", "!="):
            self._comparable(e, lt, rt)
            return T_BOOL
        ok = (lt.is_numeric() and rt.is_numeric()) or (lt.kind == rt.kind == DATE) or ANY in (lt.kind, rt.kind)
        if lt.kind == NULL or rt.kind == NULL:
            raise self.error(f"不能用 {e.op} 与 null 比较", e.pos, "cannot order-compare with null",
                             hint="判断是否为空请用 is null / is not null")
        if not ok:
            raise self.error(f"不能比较{lt.describe()}与{rt.describe()}（{e.op}）", e.pos,
                             f"cannot compare {lt.describe_en()} with {rt.describe_en()} using {e.op}")
        return T_BOOL

    def _comparable(self, e: A.Expr, lt: Type, rt: Type) -> None:
        if unify(lt, rt) is None:
            raise self.error(f"不能比较{lt.describe()}与{rt.describe()}", e.pos,
                             f"cannot compare {lt.describe_en()} with {rt.describe_en()}")
        left, right = _operands(e)
        self._enum_literal(lt, right)
        self._enum_literal(rt, left)

    def _enum_literal(self, enum_t: Type, other: A.Expr) -> None:
        """A string literal compared with an enum field must be one of its values."""
        if enum_t.kind != ENUM:
            return
        literals = []
        if isinstance(other, A.Literal) and isinstance(other.value, str):
            literals = [other]
        elif isinstance(other, A.ListLit):
            literals = [i for i in other.items if isinstance(i, A.Literal) and isinstance(i.value, str)]
        for lit in literals:
            if lit.value not in enum_t.values:
                hint = did_you_mean(lit.value, [str(v) for v in enum_t.values])
                allowed = "、".join(repr(v) for v in enum_t.values)
                raise self.error(f"取值 {lit.value!r} 不在允许范围内（{allowed}）", lit.pos,
                                 f"{lit.value!r} is not one of {allowed}",
                                 hint=f"是否应为 {hint!r}？" if hint else None)

    def v_In(self, e: A.In) -> Type:
        lt, rt = self.visit(e.left), self.visit(e.right)
        if rt.kind == ANY:
            return T_BOOL
        if rt.kind != LIST:
            raise self.error(f"in 的右边应为列表，实际为{rt.describe()}", e.right.pos,
                             f"right side of 'in' must be a list, got {rt.describe_en()}")
        elem = rt.elem or T_ANY
        if unify(lt, elem) is None:
            raise self.error(f"{lt.describe()}不能在{rt.describe()}中查找", e.pos,
                             f"cannot look for {lt.describe_en()} in {rt.describe_en()}")
        self._enum_literal(lt, e.right)
        self._enum_literal(elem, e.left)
        return T_BOOL

    def v_IsNull(self, e: A.IsNull) -> Type:
        self.visit(e.operand)
        return T_BOOL

    # -- arithmetic -----------------------------------------------------------
    def v_Neg(self, e: A.Neg) -> Type:
        t = self.visit(e.operand)
        if t.kind != ANY and not t.is_numeric():
            raise self.error(f"负号只能用于数值，实际为{t.describe()}", e.pos, "unary minus needs a number")
        return t

    def v_Arith(self, e: A.Arith) -> Type:
        lt, rt = self.visit(e.left), self.visit(e.right)
        nullable = lt.nullable or rt.nullable
        if ANY in (lt.kind, rt.kind):
            return T_ANY
        if lt.is_numeric() and rt.is_numeric():
            kind = INT if lt.kind == rt.kind == INT else NUMBER
            return Type(kind, nullable)
        if lt.kind == DATE and rt.kind == INT:
            return Type(DATE, nullable)
        if e.op == "+" and lt.kind == INT and rt.kind == DATE:
            return Type(DATE, nullable)
        if e.op == "-" and lt.kind == rt.kind == DATE:
            return Type(INT, nullable)
        raise self.error(f"不能计算{lt.describe()} {e.op} {rt.describe()}", e.pos,
                         f"cannot compute {lt.describe_en()} {e.op} {rt.describe_en()}",
                         hint="日期加减天数请用 日期 + 整数；两个日期相减得天数")

    # -- calls and quantifiers ------------------------------------------------
    def v_Call(self, e: A.Call) -> Type:
        sigs = FUNCTIONS.get(e.name)
        if sigs is None:
            hint = did_you_mean(e.name, FUNCTIONS)
            raise self.error(f"未知函数 '{e.name}'", e.pos, f"unknown function '{e.name}'",
                             hint=f"是否应为 '{hint}'？" if hint else "可用函数：" + "、".join(FUNCTIONS))
        arg_types = [self.visit(a) for a in e.args]
        nullable = any(t.nullable for t in arg_types)
        for params, result in sigs:
            if len(params) != len(arg_types):
                continue
            if params == ("T", "T"):
                u = unify(arg_types[0], arg_types[1])
                if u is not None:
                    return u.as_nullable(arg_types[0].nullable and arg_types[1].nullable)
                continue
            if all(_fits(t, p) for t, p in zip(arg_types, params)):
                if result == "elem":  # first/last: the element type, null for an empty list
                    return (arg_types[0].elem or T_ANY).as_nullable(True)
                if params == (STRING,):
                    self._date_literal(e)
                if result == "numeric":
                    kind = INT if all(t.kind == INT for t in arg_types) else NUMBER
                    return Type(kind, nullable)
                if e.name == "len":
                    return T_INT  # the length of null is 0
                if e.name == "known":
                    return T_BOOL  # never null, never unknown
                return Type(result, nullable)
        got = ", ".join(t.describe() for t in arg_types)
        raise self.error(f"函数 {e.name} 的参数不符：({got})", e.pos, f"wrong arguments to {e.name}",
                         hint=FUNCTION_DOCS_ZH.get(e.name))

    def _date_literal(self, e: A.Call) -> None:
        arg = e.args[0]
        if not (isinstance(arg, A.Literal) and isinstance(arg.value, str)):
            raise self.error("date(\"…\") 只接受日期文字", arg.pos, 'date("…") takes a literal date')
        if parse_day(arg.value) is None:  # the one strict date parser (contract.py)
            raise self.error(f"不是有效日期：{arg.value!r}（应为 YYYY-MM-DD）", arg.pos,
                             f"not a valid date: {arg.value!r}")

    def v_Quant(self, e: A.Quant) -> Type:
        it = self.visit(e.iterable)
        if it.kind == ANY:
            it = list_of(T_ANY)
        if it.kind != LIST:
            raise self.error(f"{e.kind}(…) 只能遍历列表，实际为{it.describe()}", e.iterable.pos,
                             f"{e.kind}(…) iterates over a list, got {it.describe_en()}")
        if e.var == "params" or self.scope.case.field(e.var) is not None or e.var in self.scope.lets:
            raise self.error(f"变量名 '{e.var}' 与字段重名", e.pos, f"variable '{e.var}' shadows a field",
                             hint="请换一个变量名")
        saved = self.scope.vars.get(e.var)
        self.scope.vars[e.var] = (it.elem or T_ANY).as_nullable(False) if (it.elem or T_ANY).kind != ANY else T_ANY
        try:
            self._bool(e.body, e.kind)
        finally:
            if saved is None:
                del self.scope.vars[e.var]
            else:
                self.scope.vars[e.var] = saved
        return T_INT if e.kind == "count" else T_BOOL


def _always_there(t: Type) -> bool:
    """Required and not nullable: a valid case always has it (a default means it may be absent)."""
    return not t.nullable and not t.has_default


def _operands(e):
    return e.left, e.right


def _part_offsets(e: A.Path) -> list[int]:
    offsets, pos = [], e.pos
    for p in e.parts:
        offsets.append(pos)
        pos += len(p) + 1
    return offsets


def _fits(t: Type, kind: str) -> bool:
    if t.kind in (ANY, NULL) or kind == ANY:
        return True
    if kind == "numeric":
        return t.is_numeric()
    if kind == NUMBER:
        return t.is_numeric()
    if kind == STRING:
        return t.is_stringish()
    return t.kind == kind


def _kind_zh(kind: str) -> str:
    from .types import NAMES_ZH

    return NAMES_ZH.get(kind, kind)


def check_expr(e: A.Expr, scope: Scope, source: Source, expect: str | None = BOOL, what: str = "条件") -> Type:
    """Type-check ``e`` in ``scope``; annotates it and returns its type."""
    return Checker(scope, source).check(e, expect, what)
