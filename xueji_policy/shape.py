"""Shape stage: a located YAML document against the JSON Schema of its kind of file.

Every rule-set file has a schema in ``schemas/`` (rule files, parameters, ``ruleset.yaml``,
``definitions.yaml``, the consistency constraints); ``check_shape`` validates a located
document against one and translates each JSON-Schema error into one located Chinese
``StructureError`` — the one translator of schema errors for rule-set files.
"""

from __future__ import annotations

import datetime as _dt

import jsonschema

from .contract import JSON_TYPES_ZH as _JSON_TYPES_ZH  # the case validator's words too
from .contract import did_you_mean, parse_day
from .errors import StructureError
from .load import Y


def check_shape(y: Y, schema: dict) -> list[StructureError]:
    """Every way ``y`` departs from ``schema``, located, in document order."""
    validator = jsonschema.Draft202012Validator(schema, format_checker=_FORMATS)
    errs = sorted(validator.iter_errors(_jsonable(y.plain())), key=lambda e: list(e.absolute_path))
    return [_shape_error(y, e) for e in errs]


def _jsonable(v):
    """YAML gives dates as date objects; the shape schemas see them as ISO strings."""
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()[:10]
    return v


_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date", raises=ValueError)
def _is_date(value) -> bool:
    if isinstance(value, str) and parse_day(value) is None:  # the one strict date parser (contract.py)
        raise ValueError("not YYYY-MM-DD")
    return True


def _node_at(y: Y, path) -> Y:
    cur = y
    for p in path:
        v = cur.value
        if isinstance(v, dict) and p in v:
            cur = v[p]
        elif isinstance(v, list) and isinstance(p, int) and p < len(v):
            cur = v[p]
        else:
            break
    return cur


_KEY_ZH = {"id": "编号", "cite": "引用", "actions": "适用操作", "effect": "效力", "when": "条件", "message": "说明",
           "title": "标题", "text": "条文原文", "rules": "规则", "type": "类型", "values": "取值",
           "value": "取值", "effective_from": "生效日期", "name": "名称", "version": "版本", "terms": "叫法"}


_ENUM_SYNONYMS = {"allow": "permit", "allowed": "permit", "deny": "forbid", "denied": "forbid", "prohibit": "forbid",
                  "must": "obligation", "duty": "obligation", "oblige": "obligation"}


def _where(path: list) -> str:
    """``rules.0.when`` → ``第1条规则的 when`` (people count from one)."""
    out, i = [], 0
    while i < len(path):
        p = path[i]
        if p == "rules" and i + 1 < len(path) and isinstance(path[i + 1], int):
            out.append(f"第{path[i + 1] + 1}条规则")
            i += 2
            continue
        out.append(f"第{p + 1}项" if isinstance(p, int) else str(p))
        i += 1
    return "的 ".join(out) if out else "文件顶层"


def _types_zh(t) -> str:
    ts = t if isinstance(t, list) else [t]
    return "或".join(_JSON_TYPES_ZH.get(str(x), str(x)) for x in ts)


def _shape_error(y: Y, e: jsonschema.ValidationError) -> StructureError:
    node = _node_at(y, e.absolute_path)
    where = _where(list(e.absolute_path))
    rid = None
    path = list(e.absolute_path)
    if len(path) >= 2 and path[0] == "rules":
        r = _node_at(y, path[:2])
        if isinstance(r.value, dict) and "id" in r.value:
            rid = r.value["id"].value
    kw = e.validator
    if kw == "additionalProperties" and isinstance(node.value, dict):
        allowed = list(e.schema.get("properties", {}))
        extra = [k for k in node.value if k not in allowed]
        k = extra[0] if extra else "?"
        hint = did_you_mean(k, allowed)
        return StructureError(f"未知的键 '{k}'", node.key_loc(k), rule_id=rid, message_en=f"unknown key '{k}'",
                              hint=f"是否应为 '{hint}'？" if hint else f"可用的键：{'、'.join(allowed)}")
    if kw == "required":
        missing = [k for k in e.validator_value if not (isinstance(node.value, dict) and k in node.value)]
        k = missing[0] if missing else "?"
        return StructureError(f"缺少必填的键 '{k}'（{_KEY_ZH.get(k, k)}）", node.loc, rule_id=rid,
                              message_en=f"missing required key '{k}'")
    if kw == "enum":
        synonym = _ENUM_SYNONYMS.get(str(e.instance).lower())
        choices = [str(v) for v in e.validator_value]
        hint = synonym if synonym is not None and synonym in choices else did_you_mean(str(e.instance), choices)
        listed = "、".join(choices)
        return StructureError(f"{where}：取值 {e.instance!r} 不在允许范围（{listed}）", node.loc, rule_id=rid,
                              message_en=f"{where}: {e.instance!r} is not one of {listed}",
                              hint=f"是否应为 '{hint}'？" if hint else None)
    if kw == "type":
        return StructureError(f"{where}：应为{_types_zh(e.validator_value)}", node.loc, rule_id=rid,
                              message_en=f"{where}: must be {e.validator_value}")
    if kw == "pattern":
        return StructureError(f"{where}：格式不符", node.loc, rule_id=rid,
                              message_en=f"{where}: does not match {e.validator_value}",
                              hint="规则编号只用小写英文字母、数字、点、下划线和连字符" if path[-1:] == ["id"] else None)
    if kw == "format":
        return StructureError(f"{where}：不是有效日期（应为 YYYY-MM-DD）", node.loc, rule_id=rid,
                              message_en=f"{where}: not a valid date")
    bounds = {"maxProperties": ("最多 {} 项", "at most {} entries"), "maxItems": ("最多 {} 项", "at most {} items"),
              "minItems": ("至少 {} 项", "at least {} items"), "maxLength": ("最长 {} 个字符", "at most {} characters"),
              "minLength": ("至少 {} 个字符", "at least {} characters"), "minimum": ("不小于 {}", "at least {}"),
              "maximum": ("不大于 {}", "at most {}")}
    if kw in bounds:  # never echo the offending value: it may be a whole mapping
        zh, en = bounds[kw]
        return StructureError(f"{where}：超出限制（{zh.format(e.validator_value)}）", node.loc, rule_id=rid,
                              message_en=f"{where}: out of bounds ({en.format(e.validator_value)})")
    if kw == "oneOf" and not path:
        return StructureError("文件须有 article（条号）或 annex（附件号）之一", node.loc,
                              message_en="a rule file has exactly one of article or annex")
    return StructureError(f"{where}：{e.message}", node.loc, rule_id=rid, message_en=f"{where}: {e.message}")
