"""The case schema read for proofs: every field's domain (enum values, bounds, list length, default).

``lang/types.py`` gives the checker what it needs (kinds, nullability, defaults); a proof also
needs what makes a case *valid* — ``minimum``/``maximum``, ``maxItems``, ``maxLength`` — so that
every counterexample it prints validates against ``case.schema.json``.  Only the vocabulary
``case.schema.json`` uses is understood (the same as ``schema_to_type``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Shape:
    kind: str  # object | array | string | date | enum | integer | number | boolean
    nullable: bool = False
    values: tuple = ()  # enum
    minimum: float | None = None
    maximum: float | None = None
    max_items: int | None = None
    max_length: int | None = None
    items: Shape | None = None
    props: dict[str, Shape] = field(default_factory=dict)
    required: frozenset = frozenset()
    default: Any = None
    has_default: bool = False
    immutable: bool = False  # x-immutable: a fact a registrar cannot change (repairs leave it alone)
    name: str = ""


def _resolve(node: dict, defs: dict) -> tuple[dict, str]:
    ref = node.get("$ref")
    if ref is None:
        return node, ""
    name = ref.rsplit("/", 1)[-1]
    target = dict(defs[name])
    for k, v in node.items():
        if k != "$ref":
            target[k] = v  # sibling keywords (default, x-immutable) win over the definition's
    return target, name


def to_shape(node: dict, defs: dict, depth: int = 0, name: str = "") -> Shape:
    if depth > 32:
        raise ValueError("schema nested too deeply")
    node, ref = _resolve(node, defs)
    name = ref or name
    common: dict[str, Any] = {"default": node.get("default"), "has_default": "default" in node,
              "immutable": bool(node.get("x-immutable", False)), "name": name}
    branches = node.get("anyOf") or node.get("oneOf")
    if branches:
        rest = [b for b in branches if b.get("type") != "null"]
        inner = to_shape(rest[0], defs, depth + 1, name)
        inner.nullable = inner.nullable or len(rest) < len(branches)
        if common["has_default"]:  # keywords beside the anyOf apply to the value
            inner.default, inner.has_default = common["default"], True
        inner.immutable = inner.immutable or common["immutable"]
        return inner
    types = node.get("type")
    nullable = False
    if isinstance(types, list):
        nullable = "null" in types
        types = next(t for t in types if t != "null")
    if "enum" in node:
        values = tuple(v for v in node["enum"] if v is not None)
        return Shape("enum", nullable=nullable or None in node["enum"], values=values, **common)
    if "const" in node:
        return Shape("enum", values=(node["const"],), **common)
    if types == "object":
        props = {k: to_shape(v, defs, depth + 1, k) for k, v in node.get("properties", {}).items()}
        return Shape("object", nullable=nullable, props=props, required=frozenset(node.get("required", ())),
                     **common)
    if types == "array":
        return Shape("array", nullable=nullable, items=to_shape(node.get("items", {}), defs, depth + 1, name),
                     max_items=node.get("maxItems"), **common)
    if types == "string":
        kind = "date" if node.get("format") == "date" else "string"
        return Shape(kind, nullable=nullable, max_length=node.get("maxLength"), **common)
    if types in ("integer", "number"):
        return Shape(types, nullable=nullable, minimum=node.get("minimum"), maximum=node.get("maximum"), **common)
    if types == "boolean":
        return Shape("boolean", nullable=nullable, **common)
    raise ValueError(f"unsupported schema node {sorted(node)}")


def case_shape(schema: dict, action: str) -> Shape:
    """The shape of a case of ``action``: its own section only (the schema forbids the others)."""
    defs = schema.get("$defs", {})
    section = schema.get("x-action-sections", {}).get(action)
    props = {}
    required = set(schema.get("required", ()))
    for k, v in schema["properties"].items():
        if k in schema.get("x-action-sections", {}).values() and k != section:
            continue
        props[k] = to_shape(v, defs, 1, k)
    if section:
        required.add(section)
    return Shape("object", props=props, required=frozenset(required), name="case")
