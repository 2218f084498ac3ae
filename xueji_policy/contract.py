"""The contract, read from its one source: ``schemas/case.schema.json`` and ``schemas/decision.schema.json``.

Everything the code needs to know about the shape of a case or a decision is read off
the two schemas here — the actions and the section each one uses (``x-action-sections``),
their titles (``x-action-titles``), the approving bodies in output order with their
labels (``x-labels``), the decision's keys, the fields holding personal data (those
with ``format: gb11643``) — together with the few helpers every reader of a case
shares: the one strict date parser, the one did-you-mean, the Chinese words for JSON
types, the JSON path of a field.  This module imports no pipeline stage (only the
standard library and ``privacy``), so any stage may import it.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from .privacy import mask_ids_in_text

__all__ = [
    "MIN_YEAR", "MAX_YEAR", "JSON_TYPES_ZH", "PERSONAL_DATA_FORMAT", "PERSONAL_DATA_MARK",
    "schema", "case_schema", "decision_schema",
    "action_sections", "action_titles", "actions", "sections", "approval_bodies", "decision_keys",
    "decision_labels", "outcome_labels", "effect_labels", "enum_labels",
    "personal_data_paths", "personal_data_paths_of", "personal_data_keys", "id_number_paths", "paths_where", "value_at",
    "DATE_SHAPE", "parse_day", "parse_date", "is_iso_date", "did_you_mean", "ecma_pattern", "json_path",
]

# --------------------------------------------------------------------------- the schemas


@cache
def schema(name: str) -> dict:
    """A packaged schema (``schemas/<name>``), read once.  Shared: callers must not modify it."""
    return json.loads(resources.files("xueji_policy").joinpath("schemas", name).read_text("utf-8"))


def case_schema() -> dict:
    return schema("case.schema.json")


def decision_schema() -> dict:
    return schema("decision.schema.json")


@cache
def action_sections() -> Mapping[str, str]:
    """action → the case section it uses (``x-action-sections``)."""
    return dict(case_schema()["x-action-sections"])


@cache
def action_titles() -> Mapping[str, str]:
    """action → its Chinese title (``x-action-titles``)."""
    return dict(case_schema().get("x-action-titles", {}))


@cache
def actions() -> tuple[str, ...]:
    """The actions, in the order of the case schema's enum."""
    return tuple(case_schema()["properties"]["action"]["enum"])


@cache
def sections() -> tuple[str, ...]:
    """The case sections, each once, in the order of ``x-action-sections``."""
    return tuple(dict.fromkeys(action_sections().values()))


@cache
def approval_bodies() -> tuple[tuple[str, ...], Mapping[str, str]]:
    """The approving bodies in their output order (the decision schema's enum order), and
    their Chinese names (its ``x-labels``)."""
    items = decision_schema()["properties"]["approvals"]["items"]
    return tuple(items["enum"]), _labels(items)


def _labels(node: dict) -> Mapping[str, str]:
    labels = dict(node.get("x-labels", {}))
    missing = [v for v in node["enum"] if v is not None and v not in labels]
    if missing:  # a label for every value: a new enum value cannot go out unnamed
        raise ValueError(f"x-labels lacks {missing}")
    return labels


def enum_labels(node: Mapping[str, Any]) -> dict[str, str]:
    """An enum's values (null left out) → their Chinese labels (the node's ``x-labels``); a value
    without a label stands for itself, so that a rule set's own case schema need not label its enums."""
    labels = node.get("x-labels") or {}
    return {v: str(labels.get(v, v)) for v in node.get("enum", ()) if v is not None}


@cache
def decision_labels() -> Mapping[str, str]:
    """allow/deny → 准予/不予 (``x-labels`` of the decision's ``decision``)."""
    return _labels(decision_schema()["properties"]["decision"])


@cache
def outcome_labels() -> Mapping[str, str]:
    """An outcome → its Chinese name (``x-labels`` of the decision's ``outcome``)."""
    return _labels(decision_schema()["properties"]["outcome"])


@cache
def effect_labels() -> Mapping[str, str]:
    """A rule's effect → 许可/禁止/义务 (``x-labels`` of the rule-file schema's ``effect``)."""
    return _labels(schema("rule-file.schema.json")["$defs"]["rule"]["properties"]["effect"])


@cache
def decision_keys() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The decision's signature: (keys always present in this order, keys present only when set)."""
    s = decision_schema()
    required = tuple(s["required"])
    return required, tuple(k for k in s["properties"] if k not in required)


# --------------------------------------------------------------------------- personal data

PERSONAL_DATA_FORMAT = "gb11643"  # the schema marks ID numbers (第三十二条) with this format
PERSONAL_DATA_MARK = "x-personal-data"  # and other fields built from one (the 学籍号) with this key


def _deref(node: Any, root: dict) -> Any:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return root["$defs"][ref[len("#/$defs/"):]]
    return node


def _paths(node: Any, root: dict, trail: tuple, out: set, seen: frozenset, marked: Callable[[dict], bool]) -> None:
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:  # a recursive definition: its fields are found at the first visit
            return
        seen = seen | {ref}
        node = {**_deref(node, root), **{k: v for k, v in node.items() if k != "$ref"}}
    if marked(node):
        out.add(trail)
    for name, sub in (node.get("properties") or {}).items():
        _paths(sub, root, trail + (name,), out, seen, marked)
    if isinstance(node.get("items"), dict):
        _paths(node["items"], root, trail + ("*",), out, seen, marked)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key) or ():
            _paths(sub, root, trail, out, seen, marked)
    for key in ("then", "else"):
        _paths(node.get(key), root, trail, out, seen, marked)


def paths_where(root: dict, marked: Callable[[dict], bool]) -> frozenset[tuple[str, ...]]:
    """The paths of the schema nodes ``marked`` holds for (``"*"`` stands for any array index)."""
    out: set[tuple[str, ...]] = set()
    _paths(root, root, (), out, frozenset(), marked)
    return frozenset(out)


def _is_id_number(node: dict) -> bool:
    return node.get("format") == PERSONAL_DATA_FORMAT


def _is_personal(node: dict) -> bool:
    return node.get("format") == PERSONAL_DATA_FORMAT or node.get(PERSONAL_DATA_MARK) is True


def personal_data_paths_of(root: dict) -> frozenset[tuple[str, ...]]:
    """Where a schema holds personal data: the fields with ``format: gb11643`` (ID numbers)
    and those marked ``x-personal-data: true`` (a number built from one, such as the 学籍号)."""
    return paths_where(root, _is_personal)


@cache
def personal_data_paths(schema_name: str = "case.schema.json") -> frozenset[tuple[str, ...]]:
    """:func:`personal_data_paths_of` a packaged schema (the case schema by default)."""
    return personal_data_paths_of(schema(schema_name))


@cache
def personal_data_keys(schema_name: str = "case.schema.json") -> frozenset[str]:
    """The field names that hold personal data (the last step of each personal-data path)."""
    return frozenset(p[-1] for p in personal_data_paths(schema_name) if p)


@cache
def id_number_paths(schema_name: str = "case.schema.json") -> frozenset[tuple[str, ...]]:
    """The fields holding an ID number (``format: gb11643``): ``{("student", "id_number")}``."""
    return paths_where(schema(schema_name), _is_id_number)


def value_at(doc: object, path: Iterable[str]) -> object:
    """The value at ``path`` in a JSON document, or ``None`` (no ``"*"`` steps)."""
    for step in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(step)
    return doc


# --------------------------------------------------------------------------- dates

MIN_YEAR, MAX_YEAR = 1900, 2199  # dates in a case: date arithmetic on them can never overflow

DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits: a regex \d would take '２'
_fromiso = _dt.date.fromisoformat


def parse_day(value: object) -> _dt.date | None:
    """A strict ``YYYY-MM-DD`` (ASCII digits, a real day, any year) as a date; else ``None``.
    ``date.fromisoformat`` alone also takes ``20250901`` and ``2025-W36-1``."""
    if type(value) is not str or len(value) != 10 or not DATE_SHAPE.fullmatch(value):
        return None
    try:
        return _fromiso(value)
    except ValueError:
        return None


def parse_date(value: object) -> _dt.date | None:
    """:func:`parse_day`, within the years a case may name (``MIN_YEAR``–``MAX_YEAR``)."""
    day = parse_day(value)
    return day if day is not None and MIN_YEAR <= day.year <= MAX_YEAR else None


def is_iso_date(value: object) -> bool:
    """Strict ``YYYY-MM-DD`` (ASCII digits only) naming a real day in years 1900–2199.
    (:func:`parse_date` inlined: the case validators call it for every date of every case.)"""
    if type(value) is not str or len(value) != 10 or not DATE_SHAPE.fullmatch(value):
        return False
    try:
        return MIN_YEAR <= _fromiso(value).year <= MAX_YEAR
    except ValueError:
        return False


# --------------------------------------------------------------------------- words and hints

# The Chinese names of JSON types, for every translator of schema errors (cases and rule files).
JSON_TYPES_ZH: Mapping[str, str] = {
    "string": "字符串", "integer": "整数", "number": "数值", "boolean": "布尔值",
    "object": "对象", "array": "数组", "null": "空值（null）"}


def did_you_mean(name: str, options: Iterable[str]) -> str | None:
    """The option closest to a misspelt ``name`` (or the same name in another case), if any."""
    options = list(options)
    matches = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if not matches:
        lowered = {o.lower(): o for o in options}
        if name.lower() in lowered:
            matches = [lowered[name.lower()]]
    return matches[0] if matches else None


def _ecma_pattern(pattern: str) -> re.Pattern[str]:
    r"""Compile a schema ``pattern`` so that Python reads it as jsonschema-rs does.

    Python's ``$`` also matches before a final newline (``"…X\n"`` would pass
    ``^…X$``) and its ``\d``/``\w``/``\s`` match any Unicode digit, letter or space;
    in the schema's regex dialect ``$`` is the very end and those classes are ASCII.
    So an unescaped ``$`` outside a character class becomes ``\Z``, and the pattern is
    compiled with ``re.ASCII``."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "$":
            c = r"\Z"
        out.append(c)
        i += 1
    return re.compile("".join(out), re.ASCII)


ecma_pattern = lru_cache(maxsize=256)(_ecma_pattern)  # any schema may be given: bounded


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(parts: Iterable[object]) -> str:
    """``$.transfer.to_school.enrollment``, ``$.student.suspensions[0].start``, ``$['a b']``
    (an ID number in a key is masked)."""
    out = "$"
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif _IDENT.fullmatch(str(p)):
            out += f".{p}"
        else:
            out += "[" + json.dumps(str(p), ensure_ascii=False) + "]"
    return mask_ids_in_text(out)
