"""Property files (``rules/properties.yaml``) and proving their properties.

```yaml
properties:
  - id: no-transfer-into-a-full-grade
    cite: 第十三条第（一）项第4目
    action: transfer_in
    given: |
      len(transfer.to_school.grade_class_sizes) > 0
      and all(s in transfer.to_school.grade_class_sizes: s >= params.class_cap)
    expect: deny            # allow | deny | not allow | not deny
```

``given`` is a condition of the rules' own language, parsed and type-checked like a rule's
``when`` (a mistake is one located Chinese error).  A property holds when *every* case valid
against the schema, of that action, dated within the calendar, for which ``given`` holds, is
decided as ``expect`` says.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import z3

from ..errors import Location, RuleError, StructureError, XuejiError
from ..lang import ast as A
from ..lang.check import LetDef, Scope, check_expr
from ..lang.parse import Source, parse_expr
from ..lang.types import PARAM_TYPES
from ..load import Y, load_yaml_file
from ..ruleset import RuleSet
from .core import (
    EncodingBug,
    Unsupported,
    bound_note,
    concretise,
    consistent,
    decision,
    encoder,
    engine_decision,
    holds,
    model_params,
    nice_numbers,
    param_domain,
    solve,
    symbolic_params,
    universes,
    with_params,
)

EXPECTS = ("allow", "deny", "not allow", "not deny")
MAX_PROPERTIES = 500
_KEYS = {"id", "cite", "action", "given", "expect", "note"}


@dataclass
class Property:
    id: str
    action: str
    expect: str
    given_src: str | None = None
    given: A.Expr | None = None
    cite: str | None = None
    note: str | None = None
    loc: Location | None = None


@dataclass
class Result:
    prop: Property
    status: str  # proved | refuted | unknown | bug
    seconds: float = 0.0
    counterexample: dict | None = None
    decided: str | None = None  # the engine's decision of the counterexample
    params: dict | None = None  # the parameter values of the counterexample (symbolic parameters)
    message: str = ""
    stretches: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"id": self.prop.id, "cite": self.prop.cite, "action": self.prop.action, "expect": self.prop.expect,
             "status": self.status, "seconds": round(self.seconds, 3), "bound": bound_note(),
             "stretches": self.stretches}
        if self.counterexample is not None:
            d["counterexample"] = self.counterexample
            d["engine_decision"] = self.decided
            if self.params is not None:
                d["parameters"] = self.params
        if self.message:
            d["message"] = self.message
        return d


def _err(msg: str, y: Y | None, en: str) -> StructureError:
    return StructureError(msg, y.loc if y is not None else None, message_en=en)


def given_scope(rs: RuleSet, action: str) -> Scope:
    params = {n: PARAM_TYPES[p.type] for n, p in rs.params.items()}
    return Scope(case=rs.case_type, params=params, sections=rs.sections, actions=(action,), lets=_global_lets(rs))


def _global_lets(rs: RuleSet) -> dict:
    """The named conditions of ``definitions.yaml``, so that a property may say ``term_end``."""
    path = rs.path / "definitions.yaml"
    if not path.is_file():
        return {}
    y = load_yaml_file(path, "definitions.yaml")
    out: dict[str, LetDef] = {}
    lets = y.value.get("let") if isinstance(y.value, dict) else None
    for name, ly in (lets.value if lets is not None and isinstance(lets.value, dict) else {}).items():
        text = str(ly.value)
        src = Source(text, ly.scalar_locator())
        try:
            out[name] = LetDef(name, parse_expr(text, src), src)
        except RuleError:
            out[name] = LetDef(name, None, src, failed=True)
    return out


def parse_condition(rs: RuleSet, action: str, text: str, src: Source) -> A.Expr:
    ast = parse_expr(text, src)
    check_expr(ast, given_scope(rs, action), src, "bool", "前提条件（given）")
    return ast


def load_properties(path: str | Path, rs: RuleSet) -> list[Property]:
    """The properties of a file, each checked; every mistake is a located ``RuleError``."""
    shown = str(path)
    y = load_yaml_file(Path(path), shown)
    if not isinstance(y.value, dict) or "properties" not in y.value:
        raise _err("性质文件应为映射，含 properties 列表", y, "a property file is a mapping with 'properties'")
    items = y.value["properties"]
    if not isinstance(items.value, list) or not items.value:
        raise _err("properties 应为非空列表", items, "'properties' must be a non-empty list")
    if len(items.value) > MAX_PROPERTIES:
        raise _err(f"性质过多（至多 {MAX_PROPERTIES} 条）", items, "too many properties")
    out: list[Property] = []
    seen: set[str] = set()
    for py in items.value:
        if not isinstance(py.value, dict):
            raise _err("每条性质应为映射（id、action、expect，可选 given、cite、note）", py, "a property is a mapping")
        v = py.value
        unknown = sorted(set(v) - _KEYS)
        if unknown:
            raise _err(f"未知的键 {unknown[0]!r}（可用：{'、'.join(sorted(_KEYS))}）", py.key_nodes and
                       Y(unknown[0], py.key_nodes[unknown[0]], py.src) or py, f"unknown key {unknown[0]!r}")
        for k in ("id", "action", "expect"):
            if k not in v or not isinstance(v[k].value, str) or not v[k].value.strip():
                raise _err(f"性质缺少 {k}（应为非空文字）", py, f"property needs {k}")
        pid = v["id"].value.strip()
        if pid in seen:
            raise _err(f"性质 id 重复：{pid}", v["id"], f"duplicate property id {pid}")
        seen.add(pid)
        action = v["action"].value.strip()
        if action not in rs.actions:
            from ..lang.check import did_you_mean

            hint = did_you_mean(action, rs.actions)
            raise _err(f"未知的操作 {action!r}" + (f"（是否应为 {hint!r}？）" if hint else ""), v["action"],
                       f"unknown action {action!r}")
        expect = " ".join(v["expect"].value.split())
        if expect not in EXPECTS:
            raise _err(f"expect 应为 {' | '.join(EXPECTS)} 之一，实际为 {expect!r}", v["expect"], "bad expect")
        prop = Property(pid, action, expect, cite=_text(v.get("cite")), note=_text(v.get("note")), loc=py.loc)
        g = v.get("given")
        if g is not None:
            text = "true" if g.value is True else ("false" if g.value is False else str(g.value))
            at = g.scalar_locator() if isinstance(g.value, str) else _fixed(g.loc)
            src = Source(text, at, pid)
            prop.given_src = text
            prop.given = parse_condition(rs, action, text, src)
        out.append(prop)
    return out


def _fixed(loc: Location) -> Callable[[int], Location]:
    return lambda offset: loc


def _text(y: Y | None) -> str | None:
    return None if y is None else str(y.value)


# --------------------------------------------------------------------------- proving


def violates(expect: str, allow) -> object:
    """The assertion that a decision goes against ``expect``."""
    return allow if expect in ("deny", "not allow") else z3.Not(allow)


def decided_against(expect: str, decided: str) -> bool:
    return (decided == "allow") if expect in ("deny", "not allow") else (decided != "allow")


def check_property(rs: RuleSet, prop: Property, day: _dt.date | None = None, symbolic: bool = False) -> Result:
    """Prove ``prop`` on every stretch of dates (or on ``day``); with ``symbolic``, for every
    non-negative value of the numeric parameters too."""
    t0 = time.perf_counter()
    stretches: list[dict] = []
    for u in universes(rs, prop.action, day):
        sym = symbolic_params(rs) if symbolic else {}
        try:
            enc = encoder(u, params={**rs.params_on(u.day), **sym})
            d = decision(enc, u)
            given = enc.cond(prop.given) if prop.given is not None else z3.BoolVal(True)
            cons = consistent(enc, u)
            out = solve(enc.finish() + cons.assertions + param_domain(sym) + [given, violates(prop.expect, d.allow)],
                        nice=nice_numbers(enc))
        except Unsupported as e:
            return Result(prop, "unknown", time.perf_counter() - t0, message=f"未能证明：规则用到了证明尚不支持的写法（{e}）",
                          stretches=stretches)
        stretches.append({"universe": u.describe(), "status": out.status, "seconds": round(out.seconds, 3)})
        if out.status == "unknown":
            return Result(prop, "unknown", time.perf_counter() - t0, message=f"未能证明（求解器：{out.reason}）",
                          stretches=stretches)
        if out.status == "refuted":
            case = concretise(enc, out.model)
            values = model_params(out.model, {n: t for n, t in sym.items() if n in enc.params_read}) if sym else None
            judge = with_params(rs, values) if values else rs
            refused = cons.refuses(case, judge)
            if refused:  # a case the engine refuses, found only because a constraint was left out
                return Result(prop, "unknown", time.perf_counter() - t0, stretches=stretches,
                              message=f"未能证明：找到的案例违反一致性约束，而证明尚不能翻译这些约束：{cons.note(refused)}")
            try:
                decided = engine_decision(judge, case)
                given_ok = holds(judge, prop.given, case)
            except XuejiError as e:
                raise EncodingBug(f"证明的编码有误：反例未通过校验或无法判定（{e.message}）",
                                  f"encoding bug: the counterexample does not validate ({e.message_en})") from None
            if not given_ok or not decided_against(prop.expect, decided):
                raise EncodingBug(f"证明的编码有误：性质 {prop.id} 的反例经 evaluate 复核并不违反性质（决定为 {decided}）",
                                  f"encoding bug: evaluate does not confirm the counterexample of {prop.id}")
            return Result(prop, "refuted", time.perf_counter() - t0, counterexample=case, decided=decided,
                          params=values, stretches=stretches)
    return Result(prop, "proved", time.perf_counter() - t0, stretches=stretches)


def check_file(path: str | Path, rs: RuleSet, day: _dt.date | None = None, symbolic: bool = False) -> list[Result]:
    return [check_property(rs, p, day, symbolic) for p in load_properties(path, rs)]
