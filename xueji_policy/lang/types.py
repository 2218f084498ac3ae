"""Types of the condition language, and the case's types read from its JSON Schema.

A type is a base kind plus nullability.  The case schema is the single source of
field names and types: ``schema_to_type`` turns it into an ``OBJECT`` type whose
fields the checker resolves dotted paths against.  Only the restricted schema
vocabulary used by ``case.schema.json`` is understood (type, enum, format: date,
$ref, anyOf with null, properties, items, default).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

INT = "int"
NUMBER = "number"
STRING = "string"
BOOL = "bool"
DATE = "date"
NULL = "null"
ENUM = "enum"
LIST = "list"
OBJECT = "object"
MONTHDAY = "monthday"  # a day of the year without the year, e.g. 10月31日
ANY = "any"  # the element type of an empty list literal

NAMES_ZH = {
    INT: "整数", NUMBER: "数值", STRING: "字符串", BOOL: "布尔值", DATE: "日期", NULL: "空值",
    ENUM: "枚举", LIST: "列表", OBJECT: "对象", MONTHDAY: "月日", ANY: "任意",
}


@dataclass(frozen=True)
class Type:
    kind: str
    nullable: bool = False
    values: tuple = ()  # ENUM: allowed values
    elem: Type | None = None  # LIST
    fields: tuple = ()  # OBJECT: ((name, Type), ...)
    name: str = ""  # OBJECT: display name ($defs key)
    default: Any = None  # schema default, applied when the field is absent
    has_default: bool = False

    # -- helpers -------------------------------------------------------------
    def field(self, name: str) -> Type | None:
        for n, t in self.fields:
            if n == name:
                return t
        return None

    def field_names(self) -> list[str]:
        return [n for n, _ in self.fields]

    def as_nullable(self, nullable: bool = True) -> Type:
        return replace(self, nullable=nullable)

    def is_numeric(self) -> bool:
        return self.kind in (INT, NUMBER)

    def is_stringish(self) -> bool:
        return self.kind in (STRING, ENUM)

    def describe(self) -> str:
        if self.kind == LIST:
            s = f"{NAMES_ZH[LIST]}[{self.elem.describe() if self.elem else '?'}]"
        elif self.kind == ENUM:
            s = "枚举{" + ", ".join(repr(v) for v in self.values if v is not None) + "}"
        elif self.kind == OBJECT:
            s = f"对象 {self.name}" if self.name else "对象"
        else:
            s = NAMES_ZH.get(self.kind, self.kind)
        return s + ("（可空）" if self.nullable and self.kind != NULL else "")

    def describe_en(self) -> str:
        if self.kind == LIST:
            return f"list[{self.elem.describe_en() if self.elem else '?'}]"
        return self.kind + ("?" if self.nullable and self.kind != NULL else "")


T_INT = Type(INT)
T_NUMBER = Type(NUMBER)
T_STRING = Type(STRING)
T_BOOL = Type(BOOL)
T_DATE = Type(DATE)
T_NULL = Type(NULL, nullable=True)
T_MONTHDAY = Type(MONTHDAY)
T_ANY = Type(ANY, nullable=True)


# The types a parameter (rules/parameters.yaml) may have, by their name in that file.
PARAM_TYPES = {"int": T_INT, "number": T_NUMBER, "date": T_DATE, "monthday": T_MONTHDAY, "string": T_STRING,
               "bool": T_BOOL, "string_list": Type(LIST, elem=T_STRING)}


def list_of(t: Type, nullable: bool = False) -> Type:
    return Type(LIST, nullable=nullable, elem=t)


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two values (list elements, coalesce arguments), or None."""
    nullable = a.nullable or b.nullable
    if a.kind == ANY:
        return b.as_nullable(nullable)
    if b.kind == ANY:
        return a.as_nullable(nullable)
    if a.kind == NULL:
        return b.as_nullable(True)
    if b.kind == NULL:
        return a.as_nullable(True)
    if a.is_numeric() and b.is_numeric():
        return Type(INT if a.kind == b.kind == INT else NUMBER, nullable)
    if a.kind == ENUM and b.kind == ENUM:
        return Type(ENUM, nullable, values=tuple(dict.fromkeys(a.values + b.values)))
    if a.is_stringish() and b.is_stringish():
        return Type(STRING, nullable)
    if a.kind == b.kind and a.kind not in (LIST, OBJECT):
        return a.as_nullable(nullable)
    if a.kind == b.kind == LIST:
        e = unify(a.elem or T_ANY, b.elem or T_ANY)
        return list_of(e, nullable) if e else None
    if a.kind == b.kind == OBJECT and a.name == b.name:
        return a.as_nullable(nullable)
    return None


# --------------------------------------------------------------------------- schema


class SchemaShapeError(ValueError):
    """The case schema uses a construct the checker does not understand."""


def schema_to_type(schema: dict) -> Type:
    """The OBJECT type of a whole case, from its JSON Schema."""
    defs = schema.get("$defs", {})
    return _convert(schema, defs, "case", depth=0, sections=set(action_sections(schema).values()))


def action_sections(schema: dict) -> dict[str, str]:
    """action → the case section it requires (``x-action-sections`` in the schema)."""
    return dict(schema.get("x-action-sections", {}))


def _resolve(node: dict, defs: dict) -> tuple[dict, str]:
    ref = node.get("$ref")
    if ref is None:
        return node, ""
    prefix = "#/$defs/"
    if not ref.startswith(prefix) or ref[len(prefix):] not in defs:
        raise SchemaShapeError(f"unsupported $ref {ref!r}")
    name = ref[len(prefix):]
    target = dict(defs[name])
    # Sibling keywords next to $ref (description, default) still apply.
    for k, v in node.items():
        if k != "$ref":
            target.setdefault(k, v)
    return target, name


def _convert(node: dict, defs: dict, name: str, depth: int, sections: frozenset | set = frozenset()) -> Type:
    if depth > 32:
        raise SchemaShapeError("schema nested too deeply")
    node, ref_name = _resolve(node, defs)
    name = ref_name or name
    default = node.get("default")
    has_default = "default" in node

    if "anyOf" in node or "oneOf" in node:
        branches = node.get("anyOf") or node["oneOf"]
        nullable = any(b.get("type") == "null" for b in branches)
        rest = [b for b in branches if b.get("type") != "null"]
        if len(rest) != 1:
            raise SchemaShapeError(f"{name}: only 'X or null' unions are supported")
        inner = _convert(rest[0], defs, name, depth + 1)
        return replace(inner, nullable=inner.nullable or nullable, default=default, has_default=has_default)

    if "const" in node:
        return Type(ENUM, values=(node["const"],), default=default, has_default=has_default)

    if "enum" in node:
        values = tuple(node["enum"])
        nullable = None in values
        return Type(ENUM, nullable=nullable, values=tuple(v for v in values if v is not None),
                    default=default, has_default=has_default)

    types = node.get("type")
    if isinstance(types, list):
        nullable = "null" in types
        rest = [t for t in types if t != "null"]
        if len(rest) != 1:
            raise SchemaShapeError(f"{name}: only 'X or null' type lists are supported")
        base = rest[0]
    else:
        nullable = False
        base = types

    if base == "object":
        props = node.get("properties", {})
        required = set(node.get("required", ()))
        fields = []
        for k, v in props.items():
            t = _convert(v, defs, k, depth + 1)
            # An absent optional field without a default reads as null.
            if k not in required and not t.has_default and not (depth == 0 and k in sections):
                t = t.as_nullable(True)
            fields.append((k, t))
        return Type(OBJECT, nullable=nullable, fields=tuple(fields), name=name,
                    default=default, has_default=has_default)
    if base == "array":
        elem = _convert(node.get("items", {}), defs, name, depth + 1)
        return Type(LIST, nullable=nullable, elem=elem, default=default, has_default=has_default)
    if base == "string":
        kind = DATE if node.get("format") == "date" else STRING
        return Type(kind, nullable=nullable, default=default, has_default=has_default)
    if base == "integer":
        return Type(INT, nullable=nullable, default=default, has_default=has_default)
    if base == "number":
        return Type(NUMBER, nullable=nullable, default=default, has_default=has_default)
    if base == "boolean":
        return Type(BOOL, nullable=nullable, default=default, has_default=has_default)
    if base == "null":
        return T_NULL
    raise SchemaShapeError(f"{name}: unsupported schema node {sorted(node)}")
