"""Reading and checking a case against ``case.schema.json``.

``parse_case_json`` turns the raw input into a JSON value (or a ``CaseError`` of
kind ``malformed_json`` / ``too_large``); ``CaseValidator.validate`` checks it
against the schema and reports **every** failing JSON path at once, each with a
Chinese and an English message.  Messages never contain an ID number: the
value of ``student.id_number`` is never embedded, and every message and path
is passed through :func:`~xueji_policy.privacy.mask_ids_in_text`.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported when a case must be explained, not to read one
    from jsonschema import FormatChecker
    from jsonschema.exceptions import ValidationError

from .contract import JSON_TYPES_ZH as _TYPE_ZH
from .contract import did_you_mean, ecma_pattern, json_path, parse_day, personal_data_paths_of
from .errors import CaseError, CaseProblem
from .fastvalidate import (  # noqa: F401  (re-exported)
    FORMATS,
    MAX_DEPTH,
    MAX_YEAR,
    MIN_YEAR,
    fast_validator,
    is_iso_date,
    json_value_problem,
)
from .privacy import gb11643_birth_date_valid, mask_ids_in_text

__all__ = [
    "DEFAULT_MAX_BYTES",
    "CaseValidator",
    "default_validator",
    "format_checker",
    "is_iso_date",
    "json_path",
    "load_case_schema",
    "parse_case_json",
    "read_case_file",
    "validate_case",
]

DEFAULT_MAX_BYTES = 1 << 20  # 1 MiB
MAX_PROBLEMS = 100  # failing paths listed for one case

# --------------------------------------------------------------------------- schema


@functools.cache
def _read_schema_text(path: str | None) -> str:
    if path is None:
        return resources.files("xueji_policy").joinpath("schemas", "case.schema.json").read_text("utf-8")
    return Path(path).read_text("utf-8")


def load_case_schema(path: str | Path | None = None) -> dict:
    """The case JSON Schema (default: the packaged ``case.schema.json``).

    The file is read once and cached; each call returns a fresh copy, so a
    caller may modify the result without affecting others."""
    return json.loads(_read_schema_text(None if path is None else str(path)))


# --------------------------------------------------------------------------- formats

def format_checker() -> FormatChecker:
    """A FormatChecker knowing exactly ``date`` and ``gb11643`` (non-strings pass: ``type``
    judges them) — the very functions the fast validator is given."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name, func in FORMATS.items():
        checker.checks(name)(func)
    return checker




def _pattern_keyword(validator: Any, pattern: str, instance: object, schema: dict) -> Iterable[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, str) and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"does not match {pattern!r}")  # never the value: it may be an ID number


# --------------------------------------------------------------------------- paths

_RESIDENT_ID_SHAPE = re.compile(r"[0-9]{17}[0-9Xx]")
_ID_SHAPE_ZH = "居民身份证号码应为18位：前17位为数字，末位为数字或大写 X"
_ID_SHAPE_EN = "a resident ID number has 18 characters: 17 digits then a digit or capital X"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: object, limit: int = 60) -> str:
    """A short JSON rendering of a value for a message."""
    try:
        s = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        s = repr(value)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def _types_of(schema: object) -> list[str]:
    if not isinstance(schema, dict):
        return []
    t = schema.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return list(t)
    return []


# --------------------------------------------------------------------------- validator


class CaseValidator:
    """Checks cases against a case schema; see :meth:`validate`."""

    def __init__(self, schema: dict | None = None):
        self.schema = load_case_schema() if schema is None else schema
        from jsonschema import Draft202012Validator, validators

        Draft202012Validator.check_schema(self.schema)
        # Tuples are not JSON arrays (``json_value_problem`` refuses them before the schema).
        ecma = validators.extend(Draft202012Validator, {"pattern": _pattern_keyword})
        self._validator = ecma(self.schema, format_checker=format_checker())
        self._action_sections: dict[str, str] = dict(self.schema.get("x-action-sections", {}))
        self._sections = set(self._action_sections.values())
        # Fields whose value is never embedded in a message: those the schema marks as personal data.
        self._secret_keys = frozenset(p[-1] for p in personal_data_paths_of(self.schema) if p)

    # -- public ---------------------------------------------------------------
    def validate(self, case: object) -> Any:
        """Return ``case`` unchanged if it fits the schema; else raise ``CaseError``
        naming every failing path."""
        problems = self.problems(case)
        if problems:
            raise CaseError(problems)
        return case

    def is_valid(self, case: object) -> bool:
        return not self.problems(case)

    def problems(self, case: object) -> list[CaseProblem]:
        if not isinstance(case, dict):
            return [CaseProblem("$", f"案例必须是 JSON 对象（实际为{_TYPE_ZH.get(_json_type(case), _json_type(case))}）",
                                f"the case must be a JSON object (got {_json_type(case)})")]
        import itertools

        bad = json_value_problem(case)
        if bad is not None:  # not JSON at all (evaluate() takes Python dicts): the schema cannot judge it
            return [CaseProblem(*bad)]
        seen: set[tuple[str, str]] = set()
        found: list[tuple[list, CaseProblem]] = []
        errors = self._validator.iter_errors(case)
        # Every failing path, up to a bound: a case with 100,000 bad items is refused as fast
        # as one with a hundred, and its error report stays readable.
        for err in itertools.islice(errors, MAX_PROBLEMS):
            for leaf in _leaves(err):
                described = self._describe(leaf, case) or [
                    (list(leaf.absolute_path), "不符合格式要求", "does not fit the schema")]
                for parts, zh, en in described:
                    p = CaseProblem(json_path(parts), mask_ids_in_text(zh), mask_ids_in_text(en))
                    if (p.path, p.message) not in seen:
                        seen.add((p.path, p.message))
                        # Sort by path with array indices in numeric order.
                        key = [(0, x, "") if isinstance(x, int) else (1, 0, str(x)) for x in parts]
                        found.append((key, p))
        found.sort(key=lambda kp: kp[0])
        out = [p for _, p in found]
        if next(errors, None) is not None or len(out) > MAX_PROBLEMS:
            out = out[:MAX_PROBLEMS]
            out.append(CaseProblem("$", f"错误过多，只列出前 {MAX_PROBLEMS} 处", f"too many errors: the first {MAX_PROBLEMS} are listed"))
        return out

    # -- messages -------------------------------------------------------------
    def _describe(self, err: ValidationError, case: dict) -> list[tuple[list, str, str]]:
        path = list(err.absolute_path)
        kw = err.validator
        val = err.validator_value
        inst = err.instance
        secret = bool(path) and path[-1] in self._secret_keys  # never embed that value
        action = case.get("action")
        in_action_rule = "then" in err.absolute_schema_path and len(path) <= 1

        if kw is None and err.schema is False:
            # ``properties: {x: false}`` under an action rule: a section belonging to another
            # action.  (jsonschema drops the property name from a false-schema error's path,
            # so the offending sections are read off the case.)
            want = self._action_sections.get(str(action), "?")
            if path:
                names = [path[-1]]
                path = path[:-1]
            else:
                names = [k for k in case if k in self._sections and k != want]
            return [(path + [name], f"'{name}' 部分不属于操作 '{action}'（该操作使用 '{want}' 部分）",
                     f"section '{name}' does not belong to action '{action}' (it uses '{want}')")
                    for name in names]

        if kw == "required":
            res = []
            for name in val:
                if isinstance(inst, dict) and name not in inst:
                    if in_action_rule and not path and name in self._sections:
                        res.append((path + [name], f"操作 '{action}' 需要 '{name}' 部分",
                                    f"action '{action}' requires the '{name}' section"))
                    else:
                        res.append((path + [name], f"缺少必填字段 '{name}'", f"missing required field '{name}'"))
            return res

        if kw == "additionalProperties":
            allowed = list((err.schema.get("properties") or {}).keys()) if isinstance(err.schema, dict) else []
            res = []
            # At most MAX_PROBLEMS + 1 unknown names: 80,000 of them cost seconds of did-you-mean.
            for name in itertools.islice((n for n in inst if n not in allowed), MAX_PROBLEMS + 1) \
                    if isinstance(inst, dict) else ():
                guess = did_you_mean(name, allowed)
                if guess:
                    res.append((path + [name], f"未知字段 '{name}'（是否应为 '{guess}'？）",
                                f"unknown field '{name}' (did you mean '{guess}'?)"))
                else:
                    res.append((path + [name], f"未知字段 '{name}'", f"unknown field '{name}'"))
            return res

        if kw == "enum":
            opts = ", ".join(_show(v) for v in val)
            shown = "" if secret else f" {_show(inst)}"
            close = did_you_mean(inst, [v for v in val if isinstance(v, str)]) \
                if isinstance(inst, str) and not secret else None
            hint_zh = f"（是否应为 {_show(close)}？）" if close else ""
            hint_en = f" (did you mean {_show(close)}?)" if close else ""
            return [(path, f"取值{shown} 不在允许范围 [{opts}]{hint_zh}", f"value{shown} is not one of [{opts}]{hint_en}")]

        if kw == "const":
            return [(path, f"取值应为 {_show(val)}", f"value must be {_show(val)}")]

        if kw == "type":
            types: list[str] = val if isinstance(val, list) else [val]
            got = _json_type(inst)
            return [(path, f"类型应为{'或'.join(_TYPE_ZH.get(t, t) for t in types)}，实际为{_TYPE_ZH.get(got, got)}",
                     f"expected type {' or '.join(types)}, got {got}")]

        if kw == "format":
            if val == "date":
                if parse_day(inst) is not None and not is_iso_date(inst):  # a real day, out of the years
                    return [(path, f"日期超出允许范围（年份应在 {MIN_YEAR}–{MAX_YEAR} 之间）",
                             f"date out of range (the year must be {MIN_YEAR}–{MAX_YEAR})")]
                return [(path, "不是有效日期（应为 YYYY-MM-DD）", "not a valid date (expected YYYY-MM-DD)")]
            if val == "gb11643":
                if isinstance(inst, str) and not _RESIDENT_ID_SHAPE.fullmatch(inst):
                    # The shape is wrong (the pattern keyword, where present, says the same:
                    # the two messages are merged by path and text).
                    return [(path, _ID_SHAPE_ZH, _ID_SHAPE_EN)]
                if isinstance(inst, str) and not gb11643_birth_date_valid(inst):
                    return [(path, "身份证号码中的出生日期无效", "the birth date inside the resident ID number is not a real date")]
                return [(path, "身份证号码校验位错误", "wrong check digit in the resident ID number")]
            return [(path, f"格式不符合 {val}", f"does not match format {val}")]

        if kw == "pattern":
            if secret:  # the one patterned personal-data field: the resident ID's shape
                return [(path, _ID_SHAPE_ZH, _ID_SHAPE_EN)]
            return [(path, "格式不符合要求", "does not match the required pattern")]

        if kw == "maxItems":
            return [(path, f"数组元素过多（最多 {val} 个，实际 {len(inst)} 个）",
                     f"too many items (at most {val}, got {len(inst)})")]
        if kw == "minItems":
            return [(path, f"数组元素过少（至少 {val} 个）", f"too few items (at least {val})")]
        if kw == "uniqueItems":
            return [(path, "数组元素不得重复", "items must be unique")]
        if kw == "maxLength":
            return [(path, f"字符串过长（最多 {val} 个字符）", f"string too long (at most {val} characters)")]
        if kw == "minLength":
            return [(path, f"字符串过短（至少 {val} 个字符）", f"string too short (at least {val} characters)")]
        if kw == "minimum":
            return [(path, f"取值应不小于 {val}", f"must be at least {val}")]
        if kw == "maximum":
            return [(path, f"取值应不大于 {val}", f"must be at most {val}")]
        if kw in ("anyOf", "oneOf"):
            branches = [t for b in (val or []) for t in _types_of(_deref(b, self.schema))]
            branches = list(dict.fromkeys(branches)) or ["?"]
            got = _json_type(inst)
            return [(path, f"类型应为{'或'.join(_TYPE_ZH.get(t, t) for t in branches)}，实际为{_TYPE_ZH.get(got, got)}",
                     f"expected type {' or '.join(branches)}, got {got}")]
        return [(path, f"不符合 schema 约束 {kw}", f"fails schema keyword {kw}")]


def _deref(node: object, root: dict) -> object:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/$defs/"):
        return root.get("$defs", {}).get(node["$ref"][len("#/$defs/"):], node)
    return node


def _leaves(err: ValidationError) -> Iterable[ValidationError]:
    """The meaningful errors under ``err``: for ``anyOf``/``oneOf``, the errors of the
    branch whose type matched (e.g. the object branch of "Leave or null"), not the
    trivial "is not null"; if no branch's type matched, ``err`` itself (a type error)."""
    if err.validator not in ("anyOf", "oneOf") or not err.context:
        yield err
        return
    branches: dict[int, list[ValidationError]] = {}
    for sub in err.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    # A branch failing only because the instance is of another type is not the one meant.
    meant = {
        i: errs for i, errs in branches.items()
        if not all(e.validator == "type" and not e.relative_path for e in errs)
    }
    if not meant:
        yield err
        return
    best = min(meant.values(), key=len)
    for sub in best:
        yield from _leaves(sub)


@functools.lru_cache(maxsize=1)
def default_validator() -> CaseValidator:
    """The validator for the packaged case schema (built once)."""
    return CaseValidator(load_case_schema())


def validate_case(case: object) -> Any:
    """Validate against the packaged schema; see :meth:`CaseValidator.validate`."""
    return default_validator().validate(case)


# --------------------------------------------------------------------------- parsing

_JSON_MSG_ZH = {
    "Expecting value": "此处应为一个值",
    "Expecting property name enclosed in double quotes": "此处应为用双引号括起的字段名",
    "Expecting ':' delimiter": "此处应为冒号 ':'",
    "Expecting ',' delimiter": "此处应为逗号 ','",
    "Unterminated string starting at": "字符串没有结束",
    "Invalid control character at": "字符串中有无效的控制字符",
    "Invalid \\escape": "无效的转义序列",
    "Invalid \\uXXXX escape": "无效的 \\uXXXX 转义",
    "Extra data": "JSON 值之后有多余内容",
    "Illegal trailing comma before end of object": "对象末尾多了逗号",
    "Illegal trailing comma before end of array": "数组末尾多了逗号",
}


def _malformed(zh: str, en: str, *, line: int | None = None, column: int | None = None,
               kind: str = "malformed_json") -> CaseError:
    err = CaseError([CaseProblem("$", mask_ids_in_text(zh), mask_ids_in_text(en))], kind=kind)
    err.line = line  # type: ignore[attr-defined]
    err.column = column  # type: ignore[attr-defined]
    return err


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):  # only then look for the key that came twice
        seen: set = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return out


class _BadNumber(ValueError):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _reject_constant(name: str) -> Any:
    raise _BadNumber(name)


def _finite_float(text: str) -> float:
    f = float(text)
    if f != f or f in (float("inf"), float("-inf")):
        raise _BadNumber(text)
    return f


_MAX_INT_DIGITS = 4300  # Python's own limit on reading an integer from text


# Looked for only after the parser refused a number (a per-number hook would slow every case).
_LONG_INT = re.compile(r"-?[0-9]{" + str(_MAX_INT_DIGITS + 1) + ",}")
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _long_integer(text: str) -> int:
    m = _LONG_INT.search(text)
    return len(m.group(0).lstrip("-")) if m else 0


def _trailing_comma(text: str, pos: int) -> bool:
    """Is the error at a closing bracket right after a comma (``{"a": 1,}``)?"""
    if pos >= len(text) or text[pos] not in "}]":
        return False
    before = text[:pos].rstrip()
    return before.endswith(",")


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"\s*:?|[\[\]{}]')


def _too_deep(text: str) -> str | None:
    """If ``text`` nests objects/arrays more than ``MAX_DEPTH`` deep, the JSON path of the
    top-level field holding that nesting (``$`` if unknown); else ``None``.  Brackets
    inside strings do not count; a malformed text is left to the parser."""
    depth = 0
    top_key: str | None = None
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group(0)
        c = tok[0]
        if c == '"':
            if depth == 1 and tok.endswith(":"):
                try:
                    top_key = json.loads(tok[:-1].rstrip())
                except ValueError:
                    top_key = None
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return json_path([top_key]) if isinstance(top_key, str) else "$"
        else:
            depth -= 1
    return None


def parse_case_json(data: str | bytes | bytearray, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Parse the JSON text of a case.

    Accepts ``str`` or UTF-8 ``bytes`` (a leading UTF-8 BOM is ignored).  Raises
    ``CaseError`` of kind ``too_large`` above ``max_bytes`` (UTF-8 size), and of kind
    ``malformed_json`` for empty input, bytes that are not UTF-8, syntax errors
    (with line and column), duplicate keys, ``NaN``/``Infinity`` or numbers out of
    range.  The result is any JSON value; :meth:`CaseValidator.validate` checks
    that it is a case."""
    if isinstance(data, (bytes, bytearray)):
        raw = bytes(data)
        if len(raw) > max_bytes:
            raise _malformed(f"输入过大：超过 {max_bytes} 字节的上限",
                             f"input too large: over the {max_bytes}-byte limit", kind="too_large")
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            before = raw[: e.start]
            line = before.count(b"\n") + 1
            col = len(before) - (before.rfind(b"\n") + 1) + 1
            raise _malformed(f"输入不是有效的 UTF-8 编码（第 {e.start + 1} 字节，第 {line} 行）；请以 UTF-8 保存案例文件",
                             f"input is not valid UTF-8 (byte {e.start + 1}, line {line}); save the case as UTF-8",
                             line=line, column=col) from None
    elif isinstance(data, str):
        text = data
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise _malformed(f"输入过大：{size} 字节，超过 {max_bytes} 字节的上限",
                             f"input too large: {size} bytes, over the {max_bytes}-byte limit", kind="too_large")
        if text.startswith("\ufeff"):
            text = text[1:]
    else:
        raise TypeError("parse_case_json expects str or bytes")

    if not text.strip():
        raise _malformed("输入为空：应为一个 JSON 对象", "empty input: expected a JSON object")
    if text.count("[") + text.count("{") > MAX_DEPTH:  # only then could it nest too deeply
        # Refused before parsing: a value nested almost to Python's recursion limit parses,
        # then crashes whatever walks it recursively (a validator, an encoder).
        where = _too_deep(text)
        if where is not None:
            raise CaseError([CaseProblem(where, f"JSON 嵌套层数过深：超过 {MAX_DEPTH} 层",
                                         f"JSON nested too deeply: over {MAX_DEPTH} levels")], kind="malformed_json")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant,
                           parse_float=_finite_float)
    except json.JSONDecodeError as e:
        zh = _JSON_MSG_ZH.get(e.msg, e.msg)
        if _trailing_comma(text, e.pos):  # Python < 3.13 does not name it
            zh, e_msg = "对象或数组末尾多了一个逗号", "trailing comma"
        else:
            e_msg = e.msg
        raise _malformed(f"JSON 格式错误：第 {e.lineno} 行第 {e.colno} 列：{zh}",
                         f"malformed JSON at line {e.lineno}, column {e.colno}: {e_msg}",
                         line=e.lineno, column=e.colno) from None
    except _DuplicateKey as e:
        raise _malformed(f"JSON 对象中字段 {_show(e.key)} 重复", f"duplicate key {_show(e.key)} in a JSON object") from None
    except _BadNumber as e:
        raise _malformed(f"不允许的数值 {_show(e.text, 30)}（JSON 不支持 NaN、Infinity 或超出范围的数）",
                         f"number not allowed: {_show(e.text, 30)} (no NaN, Infinity or out-of-range numbers)") from None
    except RecursionError:
        raise _malformed(f"JSON 嵌套层数过深：超过 {MAX_DEPTH} 层", f"JSON nested too deeply: over {MAX_DEPTH} levels") from None
    except ValueError as e:
        digits = _long_integer(text)
        if digits:  # Python refuses to read integers of thousands of digits
            raise _malformed(f"数字位数过多（{digits} 位）：JSON 中的整数不能超过 {_MAX_INT_DIGITS} 位",
                             f"number with too many digits ({digits}); at most {_MAX_INT_DIGITS}") from None
        raise _malformed(f"JSON 数值无法读取：{type(e).__name__}", f"cannot read a JSON number: {e}") from None
    if _MAYBE_SURROGATE.search(text) is None:  # the usual case: no \uD800–\uDFFF escape at all
        return value
    try:  # a lone surrogate (\ud800) is valid JSON text but no character: it could not be written back
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as e:
        raise _malformed("JSON 中含有无法表示的字符（孤立的 \\u 代理项转义）",
                         f"JSON contains a character that cannot be encoded (a lone surrogate escape {e.object[e.start:e.end]!r})") from None
    return value


def read_case_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """The JSON value in a case file (``"-"``: standard input) — the one reader of case files
    (the CLI, golden cases, lint, the service's examples): at most ``max_bytes`` + 1 bytes
    are read, then :func:`parse_case_json` judges them.  A file that cannot be read is a
    ``CaseError`` of kind ``unreadable``."""
    import sys

    from .ioerrors import os_error_zh

    try:
        if str(path) == "-":
            raw = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(path, "rb") as f:  # one byte past the limit: an oversized file is not read whole
                raw = f.read(max_bytes + 1)
    except OSError as e:
        raise CaseError([CaseProblem("$", f"无法读取案例文件 {path}：{os_error_zh(e)}",
                                     f"cannot read case file {path}: {e.strerror}")], kind="unreadable") from None
    return parse_case_json(raw, max_bytes=max_bytes)
