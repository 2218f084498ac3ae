"""Hypothesis strategies built from ``case.schema.json`` itself (not hand-listed examples).

``cases()`` walks the schema: for a drawn action it builds the common part and the
action's section, choosing optional properties at random, enum values from their
enums, dates mostly inside the years the calendar covers (sometimes before the
rules are in force, or in a year with no holiday data), valid resident ID numbers,
and lists up to a few items.  Values are biased towards the numbers the rules
care about (caps, boundaries) so that interesting branches are reached.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from xueji_policy.privacy import gb11643_check_char
from xueji_policy.validate import load_case_schema

SCHEMA = load_case_schema()
DEFS = SCHEMA["$defs"]
CITIES = ["营口市", "大连市", "沈阳市", "鞍山市", "长春市", "北京市"]
PROVINCES = ["辽宁省", "吉林省", "北京市"]
INTERESTING_INTS = [0, 1, 2, 3, 5, 6, 8, 49, 50, 51, 2999, 3000, 3001]


def _deref(node: dict) -> dict:
    ref = node.get("$ref")
    if ref:
        target = dict(DEFS[ref.rsplit("/", 1)[-1]])
        for k, v in node.items():
            if k != "$ref":
                target.setdefault(k, v)
        return target
    return node


def dates(in_force_bias: bool = True):
    core = st.dates(dt.date(2024, 8, 16), dt.date(2026, 12, 31))
    if not in_force_bias:
        return core
    # Mostly inside the covered years; now and then before 2024-08-16 or in 2027.
    return st.one_of(core, core, core, core, core, core, core, core,
                     st.dates(dt.date(2024, 1, 1), dt.date(2024, 8, 15)),
                     st.dates(dt.date(2027, 1, 1), dt.date(2027, 12, 31)))


@st.composite
def resident_ids(draw):
    area = draw(st.sampled_from(["210802", "210803", "210881", "220104", "110101"]))
    birth = draw(st.dates(dt.date(2005, 1, 1), dt.date(2012, 12, 31)))
    seq = draw(st.integers(0, 999))
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + gb11643_check_char(first17)


def _string(name: str, node: dict):
    if name == "city" or name.endswith("_city"):
        return st.sampled_from(CITIES)
    if name == "province":
        return st.sampled_from(PROVINCES)
    return st.text(alphabet="学生营口第一中学ABC123", min_size=1, max_size=min(node.get("maxLength", 20), 20))


def value(node: dict, name: str = "", depth: int = 0):
    node = _deref(node)
    if "anyOf" in node or "oneOf" in node:
        return st.one_of([value(b, name, depth) for b in node.get("anyOf") or node.get("oneOf")])
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    types = node.get("type")
    if isinstance(types, list):
        return st.one_of([value({**node, "type": t}, name, depth) for t in types])
    if types == "null":
        return st.none()
    if types == "boolean":
        return st.booleans()
    if types == "integer":
        lo, hi = node.get("minimum", 0), node.get("maximum", 4000)
        picks = [i for i in INTERESTING_INTS if lo <= i <= hi]
        return st.one_of(st.sampled_from(picks), st.integers(lo, hi)) if picks else st.integers(lo, hi)
    if types == "number":
        lo = node.get("minimum", 0)
        return st.one_of(st.sampled_from([143.5, 144, 150]),
                         st.floats(lo, 200, allow_nan=False, allow_infinity=False))
    if types == "string":
        if node.get("format") == "date":
            return dates(in_force_bias=False).map(dt.date.isoformat)
        return _string(name, node)
    if types == "array":
        items = node.get("items", {})
        return st.lists(value(items, name, depth + 1), max_size=min(node.get("maxItems", 4), 4))
    if types == "object":
        return obj(node, depth + 1)
    return st.none()


@st.composite
def obj(draw, node: dict, depth: int = 0):
    node = _deref(node)
    required = set(node.get("required", ()))
    out = {}
    for k, sub in node.get("properties", {}).items():
        if k in required or draw(st.booleans()):
            out[k] = draw(value(sub, k, depth))
    return out


@st.composite
def cases(draw, actions=None):
    """A case of a drawn action (schema-shaped; most are schema-valid — filter with the validator)."""
    props = SCHEMA["properties"]
    sections = SCHEMA["x-action-sections"]
    action = draw(st.sampled_from(actions or props["action"]["enum"]))
    student = draw(obj(DEFS["Student"]))
    if student.get("id_type") == "resident_id" or draw(st.booleans()):
        student["id_type"] = "resident_id"
        student["id_number"] = draw(resident_ids())
    case = {"action": action, "date": draw(dates()).isoformat(), "student": student}
    if draw(st.booleans()):
        case["case_id"] = draw(st.text(alphabet="ABC-0123", min_size=1, max_size=12))
    section = sections[action]
    case[section] = draw(obj(props[section]))
    return case
