"""The hot path's case validator: jsonschema-rs over the published ``case.schema.json``.

Same schema, same verdicts as the reference validator in ``validate.py`` (a property
test, ``tests/test_validators_agree.py``, holds them together), in microseconds; it
gives no messages — a case it rejects goes to the reference validator, which names
every failing path in Chinese.  Kept in its own module so that deciding a valid case
never imports the Python jsonschema.

Both validators first ask :func:`json_value_problem` whether the value is JSON at all
(a ``dict`` from ``evaluate()`` may hold a ``datetime.date``, bytes, an ``int`` key, a
5000-digit integer, NaN, a set, or nest a thousand levels deep: jsonschema-rs raises
on some of these and wrongly accepts others).  And both use the same Python functions
for the formats (``date``, ``gb11643``), so a format can never mean two things.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .contract import MAX_YEAR, MIN_YEAR, is_iso_date, json_path  # noqa: F401  (re-exported)
from .privacy import gb11643_valid

# --------------------------------------------------------------------------- bounds

MAX_DEPTH = 64  # nested objects/arrays in a case; a valid case has fewer than 8
MAX_INT = 2**53 - 1  # I-JSON (RFC 7493): integers every JSON reader represents exactly


def _date_format(value: object) -> bool:
    return not isinstance(value, str) or is_iso_date(value)


def _gb11643_format(value: object) -> bool:
    return not isinstance(value, str) or gb11643_valid(value)


# One table for both validators: the format checkers are these very functions.
FORMATS: dict[str, Callable[[object], bool]] = {"date": _date_format, "gb11643": _gb11643_format}


# --------------------------------------------------------------------------- JSON-ness

_isfinite = math.isfinite
_TYPE_NAMES_ZH = {"date": "日期对象", "datetime": "日期时间对象", "bytes": "字节串", "bytearray": "字节串",
                  "set": "集合", "frozenset": "集合", "tuple": "元组", "Decimal": "Decimal 数"}


def _encodable(s: str) -> bool:
    if s.isascii():
        return True
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no character, cannot be written back out
        return False
    return True


def _scan(value: Any, max_depth: int) -> bool:
    """True iff ``value`` is plain JSON within the bounds (no path: the cheap pass, run on
    every case, so the common types are tested first and nothing is allocated per node)."""
    level = [value]
    depth = 0
    texts: list[str] = []  # non-ASCII strings and keys: checked for lone surrogates in one encode
    keep = texts.append
    while level:
        depth += 1
        nxt: list = []
        extend = nxt.extend
        for x in level:
            t = type(x)
            if t is str:
                if not x.isascii():
                    keep(x)
            elif t is dict:
                if depth > max_depth:
                    return False
                try:
                    keys = "".join(x)
                except TypeError:  # a key that is not a string
                    return False
                if not keys.isascii():
                    keep(keys)
                extend(x.values())
            elif t is list:
                if depth > max_depth:
                    return False
                extend(x)
            elif t is int:
                if x > MAX_INT or x < -MAX_INT:
                    return False
            elif t is bool or x is None:
                pass
            elif t is float:
                if not _isfinite(x):
                    return False
            else:
                return False
        level = nxt
    return not texts or _encodable("".join(texts))


_path = json_path


def _problem_at(x: Any, parts: list, depth: int, max_depth: int) -> tuple[str, str, str] | None:
    """The first problem at or under ``x`` as (path, zh, en), depth first."""
    stack: list[tuple[Any, list, int]] = [(x, parts, depth)]
    while stack:
        x, parts, depth = stack.pop()
        if depth > max_depth and type(x) in (dict, list):
            # Named by the top-level field it sits in: a 64-step path would help nobody.
            return (_path(parts[:1]), f"JSON 嵌套层数过深：超过 {max_depth} 层", f"JSON nested too deeply: over {max_depth} levels")
        t = type(x)
        if t is str:
            if not _encodable(x):
                return (_path(parts), "字符串中含有无法表示的字符（孤立的代理项）",
                        "the string holds a character that cannot be encoded (a lone surrogate)")
        elif t is dict:
            children = []
            for k, v in x.items():
                if type(k) is not str:
                    shown = type(k).__name__
                    return (_path(parts), f"对象的字段名必须是字符串（此处有 {shown} 类型的字段名）",
                            f"object keys must be strings (found a key of type {shown})")
                if not _encodable(k):
                    return (_path(parts), "字段名中含有无法表示的字符（孤立的代理项）",
                            "a key holds a character that cannot be encoded (a lone surrogate)")
                children.append((v, [*parts, k], depth + 1))
            stack.extend(reversed(children))
        elif t is list:
            stack.extend(reversed([(v, [*parts, i], depth + 1) for i, v in enumerate(x)]))
        elif t is int:
            if not -MAX_INT <= x <= MAX_INT:
                return (_path(parts), f"整数超出范围（绝对值不得超过 {MAX_INT}）",
                        f"integer out of range (absolute value at most {MAX_INT})")
        elif t is float:
            if not math.isfinite(x):
                return (_path(parts), "数值必须是有限数（不允许 NaN 或 Infinity）",
                        "numbers must be finite (no NaN or Infinity)")
        elif t is not bool and x is not None:
            name = t.__name__
            zh = _TYPE_NAMES_ZH.get(name, f"{name} 类型的值")
            return (_path(parts), f"不是 JSON 值：{zh}（只允许对象、数组、字符串、数值、布尔值和 null）",
                    f"not a JSON value: {name} (only objects, arrays, strings, numbers, booleans and null)")
    return None


def json_value_problem(value: Any, max_depth: int = MAX_DEPTH) -> tuple[str, str, str] | None:
    """``None`` if ``value`` is plain JSON (exact ``dict``/``list``/``str``/``int``/``float``/
    ``bool``/``None``, string keys, finite numbers, integers within ±(2⁵³−1), no lone
    surrogates, at most ``max_depth`` levels); else the first problem as
    ``(json_path, message_zh, message_en)``."""
    if _scan(value, max_depth):
        return None
    return _problem_at(value, [], 1, max_depth) or ("$", "不是 JSON 值", "not a JSON value")


# --------------------------------------------------------------------------- validator


def _any(value: object) -> bool:
    return True


def _format_names(schema: object) -> set[str]:
    names: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                names.add(node["format"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names


def _year_pattern() -> str | None:
    """``MIN_YEAR``–``MAX_YEAR`` as a regular expression over the date's text, when the range is
    whole centuries (1900–2199: ``(19|20|21)``); else None."""
    if MIN_YEAR % 100 or MAX_YEAR % 100 != 99:
        return None
    centuries = "|".join(str(c) for c in range(MIN_YEAR // 100, MAX_YEAR // 100 + 1))
    return f"^({centuries})[0-9]{{2}}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _native_dates(schema: dict) -> dict | None:
    """A copy of ``schema`` in which every ``format: date`` also carries the year range as a
    ``pattern``, so that jsonschema-rs checks dates natively (its ``date`` format is the same
    strict calendar check as ``is_iso_date`` — the agreement test holds them together) instead of
    calling back into Python for every date of every case.  None when that cannot be done."""
    pattern = _year_pattern()
    if pattern is None:
        return None
    ok = True

    def copy(node: Any) -> Any:
        nonlocal ok
        if isinstance(node, dict):
            out = {k: copy(v) for k, v in node.items()}
            if out.get("format") == "date":
                if "pattern" in out:
                    ok = False
                out["pattern"] = pattern
            return out
        if isinstance(node, list):
            return [copy(v) for v in node]
        return node

    derived = copy(schema)
    return derived if ok else None


def _action_branch(branch: object) -> str | None:
    """The action of a top-level ``allOf`` branch ``{"if": {"properties": {"action": {"const": A}},
    "required": ["action"]}, "then": …}`` (the case schema's per-action sections), else None."""
    if not isinstance(branch, dict) or set(branch) != {"if", "then"}:
        return None
    cond = branch["if"]
    if not isinstance(cond, dict) or set(cond) != {"properties", "required"} or cond["required"] != ["action"]:
        return None
    props = cond["properties"]
    if not isinstance(props, dict) or set(props) != {"action"} or not isinstance(props["action"], dict) \
            or set(props["action"]) != {"const"} or not isinstance(props["action"]["const"], str):
        return None
    return props["action"]["const"]


def for_action(schema: dict, action: str) -> dict | None:
    """``schema`` for an object whose ``action`` is the string ``action``: each top-level branch
    ``if action is A then …`` resolved (kept as its ``then`` for ``action``, dropped for any
    other A; other branches kept).  For such an object it gives exactly the verdicts of
    ``schema`` — without testing fifteen ``if``s per case.  None if there is no such branch."""
    branches = schema.get("allOf")
    if not isinstance(branches, list) or not any(_action_branch(b) is not None for b in branches):
        return None
    kept = []
    for b in branches:
        a = _action_branch(b)
        if a is None:
            kept.append(b)
        elif a == action:
            kept.append(b["then"])
    out = {k: v for k, v in schema.items() if k != "allOf"}
    if kept:
        out["allOf"] = kept
    return out


class FastValidator:
    """jsonschema-rs behind the JSON-ness check; ``is_valid`` never raises.

    An object with a string ``action`` is checked by a validator of the schema resolved for
    that action (:func:`for_action`, built on first use), any other value by the schema's own."""

    def __init__(self, schema: dict):
        # A format the reference checker does not know is not checked there: nor here
        # (jsonschema-rs would check its own built-in "email", "uri", … and disagree).
        formats: dict[str, Callable[[object], bool]] = {name: _any for name in _format_names(schema)}
        formats.update(FORMATS)
        native = _native_dates(schema)
        if native is not None:  # dates checked in Rust: the year range as a pattern, the day natively
            del formats["date"]
            schema = native
        self._schema = schema
        self._formats = formats
        self._whole: Any = None
        self._by_action: dict[str, Any] = {}

    def _build(self, schema: dict) -> Any:
        import jsonschema_rs

        return jsonschema_rs.validator_for(schema, formats=self._formats, validate_formats=True)

    def _validator(self, case: object) -> Any:
        if type(case) is dict:
            action = case.get("action")
            if type(action) is str:
                v = self._by_action.get(action)
                if v is None and len(self._by_action) < 256:  # only the schema's actions are ever valid
                    special = for_action(self._schema, action)
                    if special is not None:
                        v = self._by_action[action] = self._build(special)
                if v is not None:
                    return v
        if self._whole is None:
            self._whole = self._build(self._schema)
        return self._whole

    def is_valid(self, case: object) -> bool:
        if not _scan(case, MAX_DEPTH):
            return False
        validator = self._validator(case)  # outside the try: a schema jsonschema-rs refuses is an error
        try:
            return bool(validator.is_valid(case))
        except Exception:  # e.g. a value jsonschema-rs cannot convert: the reference validator explains
            return False


def fast_validator(schema: dict) -> FastValidator:
    return FastValidator(schema)
