"""Pydantic (v2) models generated, at import, from ``case.schema.json`` and ``decision.schema.json``.

The JSON Schemas are the contract and the one source: every model, field, type, bound,
default and enum here is read off them (:func:`model_from_schema`), nothing is written
twice.  The models accept exactly the JSON values the schemas accept (tests/test_schemas.py
checks the agreement on systematic mutations): strict — no string-to-number or
number-to-bool coercion, dates only as ``YYYY-MM-DD`` strings in the case years (or
``datetime.date`` objects), integers may be written as integral floats (``2.0``) as JSON
Schema allows; a field that may be absent but whose type has no ``null`` refuses ``null``;
``if``/``then`` rules (the section an action needs, the resident ID's check digit, a deny's
reason) are checked after the fields.  A schema keyword the generator does not know stops
the import: the models can never silently accept more than the schema.  Fields holding
personal data (``format: gb11643``, ``x-personal-data``) are kept out of ``repr`` and
validation errors never show an input (``hide_input_in_errors``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model, model_validator

from . import contract
from .fastvalidate import FORMATS

__all__ = [
    "ACTION_SECTIONS", "SECTIONS", "Action", "model_from_schema", "SchemaModelError",
    "School", "SuspensionEntry", "Household", "Exam", "Evaluation", "Leave", "Student",
    "Registration", "Transfer", "Suspension", "Resumption", "Withdrawal", "Graduation", "Sanction",
    "Revocation", "Appeal", "InfoChange", "Reissue", "Cancellation", "Case",
    "Reason", "Obligation", "RulesetInfo", "Warning_", "BriefLine", "Decision", "decision_from_dict",
]

ACTION_SECTIONS: dict[str, str] = dict(contract.action_sections())
SECTIONS: tuple[str, ...] = contract.sections()
Action: Any = Literal[contract.actions()]

# --------------------------------------------------------------------------- scalar checks


def _to_date(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        raise ValueError("应为日期 YYYY-MM-DD，而不是日期时间")
    if isinstance(v, dt.date):
        if not contract.MIN_YEAR <= v.year <= contract.MAX_YEAR:
            raise ValueError(f"日期超出允许范围（年份应在 {contract.MIN_YEAR}–{contract.MAX_YEAR} 之间）")
        return v
    if isinstance(v, str):
        day = contract.parse_date(v)
        if day is None:
            if contract.parse_day(v) is not None:
                raise ValueError(f"日期超出允许范围（年份应在 {contract.MIN_YEAR}–{contract.MAX_YEAR} 之间）")
            raise ValueError("不是有效日期（应为 YYYY-MM-DD）")
        return day
    raise ValueError("日期应为 YYYY-MM-DD 字符串")


def _to_int(v: Any) -> Any:
    # JSON Schema's "integer" accepts 2.0; booleans are not numbers.
    if isinstance(v, bool):
        raise ValueError("应为整数")
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _to_number(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("应为数值")
    return v


_Date = Annotated[dt.date, BeforeValidator(_to_date)]


def _format_check(fmt: str) -> Callable[[Any], Any]:
    check = FORMATS[fmt]  # the very functions both case validators use

    def after(v: Any) -> Any:
        if not check(v):
            raise ValueError(f"不符合格式 {fmt}")  # never the value: it may be an ID number
        return v
    return after


def _pattern_check(pattern: str) -> Callable[[Any], Any]:
    def after(v: Any) -> Any:
        if isinstance(v, str) and not contract.ecma_pattern(pattern).search(v):
            raise ValueError("格式不符合要求")
        return v
    return after


def _unique(v: Any) -> Any:
    if isinstance(v, list) and len({repr(x) for x in v}) != len(v):
        raise ValueError("数组元素不得重复")
    return v


class _NotNull:
    """Annotated marker: the field may be absent but, as in the schema, not ``null``."""

    def __repr__(self) -> str:
        return "NOT_NULL"


NOT_NULL = _NotNull()

# --------------------------------------------------------------------------- base classes


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, hide_input_in_errors=True)

    # The schema's ``if {field: const} then {...}`` rules: (field, const, required, properties).
    _conditions: ClassVar[tuple[tuple[str, Any, tuple[str, ...], tuple[tuple[str, Any], ...]], ...]] = ()

    if TYPE_CHECKING:  # the fields are generated: any attribute may be one
        def __getattr__(self, name: str) -> Any: ...

    @model_validator(mode="before")
    @classmethod
    def _absent_not_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, info in cls.model_fields.items():
                if name in data and data[name] is None and any(m is NOT_NULL for m in info.metadata):
                    raise ValueError(f"'{name}' 可以省略，但不能为 null")
        return data

    @model_validator(mode="after")
    def _if_then(self) -> Any:
        for key, const, required, props in self._conditions:
            if getattr(self, key) != const:
                continue
            for name in required:
                if name not in self.model_fields_set or getattr(self, name) is None:
                    raise ValueError(f"'{key}' 为 '{const}' 时需要 '{name}'")
            for name, sub in props:
                value = getattr(self, name)
                if sub is False:
                    if name in self.model_fields_set and value is not None:
                        raise ValueError(f"'{name}' 不属于 '{key}' 为 '{const}' 的情形")
                elif value is not None:
                    _check_then(name, value, sub)
        return self


def _check_then(name: str, value: Any, sub: dict) -> None:
    """The few keywords an ``if``/``then`` of the schemas applies to one field."""
    for kw, arg in sub.items():
        if kw == "pattern":
            _pattern_check(arg)(value)
        elif kw == "format":
            _format_check(arg)(value)
        elif kw == "minItems":
            if len(value) < arg:
                raise ValueError(f"'{name}' 至少应有 {arg} 项")
        elif kw not in ("type", "description"):  # the type is the field's own
            raise SchemaModelError(f"unsupported keyword {kw!r} in a then-rule for {name!r}")


class CaseModel(_Model):
    """A case (``case.schema.json``); the fields are generated."""

    @property
    def section_name(self) -> str:
        return ACTION_SECTIONS[self.action]

    @property
    def section(self) -> BaseModel:
        """The section belonging to the case's action."""
        return getattr(self, self.section_name)


class DecisionModel(_Model):
    """A decision (``decision.schema.json``); the fields are generated."""

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def to_dict(self) -> dict:
        """A JSON-ready dict matching ``decision.schema.json``: dates as ISO strings; the
        required keys always present (``case_id`` and ``outcome`` may be null); an optional
        key (``trace``, ``warnings``, an obligation's article/paragraph/item/subitem) only
        when set."""
        d = self.model_dump(mode="json")
        for k in _DECISION_OPTIONAL:
            if d.get(k) is None:
                d.pop(k, None)
        if not d.get("warnings"):  # no warnings: the key is left out
            d.pop("warnings", None)
        for ob in d["obligations"]:
            for k in _OBLIGATION_OPTIONAL:
                if ob.get(k) is None:
                    ob.pop(k, None)
        return d


# --------------------------------------------------------------------------- the generator


class SchemaModelError(Exception):
    """The schema uses something the model generator does not translate (a bug, at import)."""


_KNOWN = frozenset({
    "type", "enum", "const", "maxLength", "minimum", "maximum", "items", "maxItems", "minItems", "uniqueItems",
    "properties", "required", "additionalProperties", "$ref", "anyOf", "allOf", "format", "pattern",
    "default", "description", "title", "$comment", "$schema", "$id", "$defs",
    # x-immutable marks facts a registrar cannot change (verify/repair.py), x-reading says why a
    # default is definitional (v2: no default may stand in for a fact): no bearing on the models.
    "x-action-sections", "x-action-titles", "x-labels", "x-immutable", "x-reading", contract.PERSONAL_DATA_MARK})
_SCALARS: dict[str, Any] = {"string": str, "boolean": bool}


def _camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.split("_"))


class _Generator:
    def __init__(self, root: dict, names: dict[str, str], bases: dict[str, type[_Model]]):
        self.root = root
        self.names = names  # schema location → class name, where the default name would not do
        self.bases = bases
        self.models: dict[str, type[_Model]] = {}  # by $defs name / schema location
        self.personal = {p[-1] for p in contract.personal_data_paths_of(root) if p}

    # -- one node → (annotation, nullable) ---------------------------------------
    def annotation(self, node: Any, where: str) -> tuple[Any, bool]:
        if not isinstance(node, dict):
            raise SchemaModelError(f"{where}: not a schema object")
        unknown = set(node) - _KNOWN
        if unknown:
            raise SchemaModelError(f"{where}: keyword(s) {sorted(unknown)} not translated into the models")
        ref = node.get("$ref")
        if ref is not None:
            name = ref.removeprefix("#/$defs/")
            target = self.root["$defs"][name]
            if target.get("type") == "object":
                return self.model(target, f"#/$defs/{name}", name), False
            return self.annotation({**target, **{k: v for k, v in node.items() if k != "$ref"}}, f"#/$defs/{name}")
        if "anyOf" in node:
            parts = [self.annotation(b, f"{where}/anyOf/{i}") for i, b in enumerate(node["anyOf"])]
            types = [t for t, _ in parts if t is not type(None)]
            nullable = any(n or t is type(None) for t, n in parts)
            ann = types[0]
            for t in types[1:]:
                ann = ann | t
            return ann, nullable
        t = node.get("type")
        types = list(t) if isinstance(t, list) else [t]
        nullable = "null" in types
        types = [x for x in types if x != "null"]
        if "const" in node:
            return Literal[node["const"]], False
        if "enum" in node:
            values = tuple(v for v in node["enum"] if v is not None)
            return Literal[values], nullable or None in node["enum"]
        if not types:
            return type(None), True
        if len(types) != 1:
            raise SchemaModelError(f"{where}: several non-null types {types}")
        kind = types[0]
        checks: list[Any] = []
        if "pattern" in node:
            checks.append(AfterValidator(_pattern_check(node["pattern"])))
        if "format" in node and node["format"] != "date":
            checks.append(AfterValidator(_format_check(node["format"])))
        if kind == "string":
            if node.get("format") == "date":
                return _Date, nullable
            return Annotated[str, Field(max_length=node.get("maxLength")), *checks], nullable
        if kind in ("integer", "number"):
            base, before = (int, _to_int) if kind == "integer" else (float, _to_number)
            return Annotated[base, BeforeValidator(before),
                             Field(ge=node.get("minimum"), le=node.get("maximum"))], nullable
        if kind == "boolean":
            return bool, nullable
        if kind == "array":
            item, item_null = self.annotation(node.get("items", {}), f"{where}/items")
            if item_null:
                item = item | None
            if node.get("uniqueItems"):
                checks.append(AfterValidator(_unique))
            return Annotated[list[item], Field(min_length=node.get("minItems"),  # type: ignore[valid-type]
                                               max_length=node.get("maxItems")), *checks], nullable
        if kind == "object":
            if "properties" not in node:  # free-form (a trace step)
                return dict[str, Any], nullable
            return self.model(node, where, _camel(where.rsplit("/", 1)[-1])), nullable
        raise SchemaModelError(f"{where}: type {kind!r} not translated")

    # -- one object schema → a model ---------------------------------------------
    def model(self, node: dict, where: str, default_name: str) -> type[_Model]:
        if where in self.models:
            return self.models[where]
        if node.get("additionalProperties") is not False:
            raise SchemaModelError(f"{where}: an object must forbid additional properties")
        required = set(node.get("required", ()))
        fields: dict[str, Any] = {}
        for name, sub in node["properties"].items():
            ann, nullable = self.annotation(sub, f"{where}/properties/{name}")
            kw: dict[str, Any] = {"description": sub.get("description")}
            if name in self.personal:
                kw["repr"] = False
            if name in required:
                fields[name] = (ann | None if nullable else ann, Field(**kw))
            elif "default" in sub and sub["default"] is not None:
                d = sub["default"]
                kw.update({"default_factory": list} if d == [] else {"default": d})
                fields[name] = (ann | None if nullable else ann, Field(**kw))
            elif nullable:
                fields[name] = (ann | None, Field(default=None, **kw))
            else:
                fields[name] = (Annotated[ann | None, NOT_NULL], Field(default=None, **kw))
        cls = create_model(
            self.names.get(where, default_name), __base__=self.bases.get(where, _Model),
            __module__=__name__, __doc__=node.get("description"), **fields)
        cls._conditions = tuple(self.conditions(node, where))
        self.models[where] = cls
        return cls

    def conditions(self, node: dict, where: str):
        for i, rule in enumerate(node.get("allOf", ())):
            cond = rule.get("if", {})
            props = cond.get("properties", {})
            if set(rule) - {"if", "then"} or len(props) != 1 or set(cond) - {"properties", "required"}:
                raise SchemaModelError(f"{where}/allOf/{i}: only 'if {{field: {{const}}}} then' is translated")
            (key, test), = props.items()
            if set(test) != {"const"}:
                raise SchemaModelError(f"{where}/allOf/{i}: only a const test is translated")
            then = rule["then"]
            if set(then) - {"required", "properties"}:
                raise SchemaModelError(f"{where}/allOf/{i}/then: only required and properties are translated")
            yield key, test["const"], tuple(then.get("required", ())), tuple(then.get("properties", {}).items())


def model_from_schema(root: dict, *, names: dict[str, str] | None = None,
                      bases: dict[str, type[_Model]] | None = None) -> tuple[type[_Model], dict[str, type[_Model]]]:
    """The model of a JSON Schema (its root object) and of every object inside it, by location
    (``#``, ``#/$defs/School``, ``#/properties/transfer``, …)."""
    gen = _Generator(root, names or {}, bases or {})
    top = gen.model(root, "#", "Root")
    for name, d in root.get("$defs", {}).items():
        if d.get("type") == "object":
            gen.model(d, f"#/$defs/{name}", name)
    return top, gen.models


# --------------------------------------------------------------------------- the models

_case_top, _case = model_from_schema(contract.case_schema(), names={"#": "Case", "#/$defs/Suspension": "SuspensionEntry"},
                                     bases={"#": CaseModel})
_decision_top, _decision = model_from_schema(
    contract.decision_schema(), names={"#": "Decision", "#/properties/ruleset": "RulesetInfo",
                                       "#/properties/warnings/items": "Warning_", "#/properties/brief/items": "BriefLine"},
    bases={"#": DecisionModel})


def _section(section: str) -> type[_Model]:
    return _case[f"#/properties/{section}"]


if TYPE_CHECKING:  # for the type checker, the generated classes are their bases
    Case = CaseModel
    Decision = DecisionModel
    School = SuspensionEntry = Household = Exam = Evaluation = Leave = Student = _Model
    Registration = Transfer = Suspension = Resumption = Withdrawal = Graduation = Sanction = _Model
    Revocation = Appeal = InfoChange = Reissue = Cancellation = _Model
    Reason = Obligation = RulesetInfo = Warning_ = BriefLine = _Model
else:
    Case = _case_top
    Decision = _decision_top
    School, SuspensionEntry, Household, Exam, Evaluation, Leave, Student = (
        _case[f"#/$defs/{n}"] for n in ("School", "Suspension", "Household", "Exam", "Evaluation", "Leave", "Student"))
    Registration, Transfer, Suspension, Resumption, Withdrawal, Graduation, Sanction, Revocation, Appeal, \
        InfoChange, Reissue, Cancellation = (_section(s) for s in SECTIONS)
    Reason, Obligation = _decision["#/$defs/Reason"], _decision["#/$defs/Obligation"]
    RulesetInfo, Warning_ = _decision["#/properties/ruleset"], _decision["#/properties/warnings/items"]
    BriefLine = _decision["#/properties/brief/items"]

_DECISION_OPTIONAL = contract.decision_keys()[1]
_OBLIGATION_OPTIONAL = tuple(k for k in contract.decision_schema()["$defs"]["Obligation"]["properties"]
                             if k not in contract.decision_schema()["$defs"]["Obligation"]["required"])


def decision_from_dict(d: dict, ruleset: Any = None) -> DecisionModel:
    """A ``Decision`` from the engine's JSON-ready dict.

    Without ``ruleset`` it is validated by pydantic's core.  With the rule set that made
    it (the hot path of ``evaluate``), the models are assembled without re-validating
    what the engine built from checked rules: each rule's Reason model is made once,
    and the decision is put together from parts — the tests hold the result equal to
    the validated one on every case they generate.
    """
    if ruleset is None or any(k in d for k in _OPEN_KEYS):
        # An undetermined or conditional decision (v2) is the rare path: validated in full.
        return Decision.model_validate(d)
    reason = ruleset.reason_model
    obligations = []
    for o in d["obligations"]:
        due = o["due"]
        obligations.append(_assemble(Obligation, {**_OBLIGATION_DEFAULTS, **o,
                                                  "due": dt.date.fromisoformat(due) if due else None}))
    info = ruleset.info_model()
    return _assemble(Decision, {
        **_OPEN_NONE,
        "case_id": d["case_id"], "action": d["action"], "decision": d["decision"], "outcome": d["outcome"],
        "reasons": [reason(r) for r in d["reasons"]], "basis": [reason(r) for r in d["basis"]],
        "obligations": obligations, "approvals": list(d["approvals"]), "ruleset": info,
        "trace": d.get("trace"),
        "brief": [BriefLine.model_validate(b) for b in d["brief"]] if d.get("brief") else None,
        "warnings": [Warning_.model_validate(w) for w in d["warnings"]] if d.get("warnings") else None})


_OBLIGATION_DEFAULTS = dict.fromkeys(_OBLIGATION_OPTIONAL)
# Keys of a decision that hangs on unstated facts (v2); every other optional key is assembled.
_OPEN_KEYS = tuple(k for k in _DECISION_OPTIONAL if k not in ("trace", "warnings"))
_OPEN_NONE = dict.fromkeys(_OPEN_KEYS)  # the assembled model has every field, as a validated one does


_set_dict = object.__setattr__


def _assemble(cls: Any, values: dict) -> Any:
    """What ``model_construct`` does for fully given values, minus its per-field Python loop."""
    m = cls.__new__(cls)
    _set_dict(m, "__dict__", values)
    fields = set(_FIELDS_SET[cls])
    if cls is Decision:
        fields.update(k for k in _DECISION_OPTIONAL if values.get(k) is not None)
    _set_dict(m, "__pydantic_fields_set__", fields)
    _set_dict(m, "__pydantic_extra__", None)
    _set_dict(m, "__pydantic_private__", None)
    return m


# Every field is given (an obligation's cite parts as None when absent; trace only when explaining).
_FIELDS_SET = {Decision: frozenset(set(Decision.model_fields) - set(_DECISION_OPTIONAL)),
               Obligation: frozenset(Obligation.model_fields)}
