"""Every field and every enum value of the case schema has a Chinese name (issue 15): the form,
the brief explanation and the spreadsheets read them from the schema, never from code."""

from __future__ import annotations

import re

import pytest

from xueji_policy import contract

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _nodes(node, trail=()):
    """(path, node, is_field) for every schema node below ``node`` that describes a value."""
    if not isinstance(node, dict):
        return
    for name, sub in (node.get("properties") or {}).items():
        if isinstance(sub, dict):
            yield trail + (name,), sub, True
            yield from _nodes(sub, trail + (name,))
    if isinstance(node.get("items"), dict):
        yield trail + ("*",), node["items"], True
        yield from _nodes(node["items"], trail + ("*",))
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key) or ():
            yield from _nodes(sub, trail)


def _all_nodes():
    root = contract.case_schema()
    yield from _nodes(root)
    for name, d in root["$defs"].items():
        yield ("$defs", name), d, False
        yield from _nodes(d, ("$defs", name))


def test_every_field_has_a_chinese_title():
    missing = [".".join(p) for p, node, is_field in _all_nodes()
               if is_field and not _CJK.search(str(node.get("title", "")))]
    assert not missing, f"fields without a Chinese title: {missing}"


def test_every_enum_value_has_a_chinese_label():
    unnamed = []
    for path, node, _ in _all_nodes():
        if "enum" not in node:
            continue
        if path == ("action",):
            labels = contract.case_schema()["x-action-titles"]  # the actions' one source of names
        else:
            labels = node.get("x-labels") or {}
        for v in node["enum"]:
            if v is not None and not _CJK.search(str(labels.get(v, ""))):
                unnamed.append(f"{'.'.join(path)} = {v!r}")
    assert not unnamed, f"enum values without a Chinese label (x-labels): {unnamed}"


def test_the_check_can_fail():
    node = {"type": "string", "enum": ["a", "b"], "x-labels": {"a": "甲"}}
    with pytest.raises(ValueError):
        contract.enum_labels(node)
    assert not any(_CJK.search(str(n.get("title", ""))) for _, n, f in _nodes({"properties": {"x": {"type": "string"}}}))


@pytest.mark.parametrize("path, title", [
    ("date", "申请日期"), ("transfer.semester_start", "学期开学日"), ("student.suspensions.*.start", "休学开始日期"),
    ("registration.leave.until", "请假截止日期"), ("transfer.to_school.grade_class_sizes", "相关年级各班人数"),
])
def test_titles_reach_fields_through_refs(path, title):
    assert contract.field_title(path) == title


def test_value_labels_of_fields_lists_and_nullable_refs():
    assert contract.value_labels("transfer.reason")["hukou_move"] == "户籍迁移"
    assert contract.value_labels("transfer.materials")["id_card"] == "身份证"
    assert contract.value_labels("suspension.medical_certificate_level")["county"] == "县级"
    assert contract.value_labels("action")["transfer_in"] == "转入"
    assert contract.value_labels("student.name") == {}
    assert set(contract.case_fields()) >= {"student.school.level", "graduation.evaluation.learning_ability"}
