"""Every YAML mistake is said in Chinese, at the line where the mistake is (issue 15).

PyYAML's own texts ("expected ',' or '}', but got ']'") never reach a rule author; a key
without its colon is reported on its own line, a quote or bracket left open where it opens."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji_policy.errors import RuleError
from xueji_policy.load import load_yaml_text

# (text, expected line:column, a phrase of the message)
CASES = [
    ("rules:\n  - id: a\n    effect forbid\n    when: x\n", "3:11", "缺少冒号：'effect'"),
    ("rules:\n  - id: a\n    when: x\n    message m\n", "4:12", "缺少冒号：'message'"),
    ("article: 4\ntitle:转学\ntext: |\n  abc\n", "2:6", "冒号后面要有空格"),
    ("a:1\nb: 2\n", "1:2", "冒号后面要有空格"),
    ("actions: [a, b}\n", "1:15", "方括号列表"),
    ("x: {a: 1]\n", "1:9", "花括号"),
    ("a: [1, 2\nb: 3\n", "1:4", "'[' 没有闭合"),
    ('message: "abc\nwhen: x\n', "1:10", "引号未闭合"),
    ("a: 'abc\n", "1:4", "引号未闭合"),
    ("rules:\n  - id: a\n    when: x\n   effect: forbid\n", "4:4", "缩进不一致"),
    ("rules:\n\t- id: a\n", "2:1", "制表符"),
    ("x: @abc\n", "1:4", "字符 '@'"),
    ("x: `abc`\n", "1:4", "字符 '`'"),
    ('x: "a\\qb"\n', "1:7", "转义"),
    ('a: "\\xZZ"\n', "1:7", "十六进制"),
    ("x: a\x07b\n", "1:5", "控制字符"),
    ("a: 1\n---\nb: 2\n", "2:1", "只能有一个 YAML 文档"),
    ("a: 1\n b: 2\n", "2:3", "此处不能出现键值"),
    ("a: 1\n- b\n", "2:1", "列表项"),
    ("a: |x\n  b\n", "1:5", "块标记"),
    ("a: 2024-13-45\n", "1:4", "日期"),
    ("%YAML 1.1\n%YAML 1.1\n---\na: 1\n", "2:1", "指令"),
    ("a: [1, , 2]\n", "1:8", "缺少值"),
]


def _english_left(message: str) -> list[str]:
    """English words outside quotes (a quoted key or token may stay as written)."""
    unquoted = re.sub(r"'[^']*'|\"[^\"]*\"|\{[^}]*\}", "", message)
    return re.findall(r"[A-Za-z]{3,}", re.sub(r"YAML|Tab|YYYY-MM-DD", "", unquoted))


@pytest.mark.parametrize("text, where, phrase", CASES)
def test_yaml_mistake_located_in_chinese(text, where, phrase):
    with pytest.raises(RuleError) as info:
        load_yaml_text(text, "f.yaml")
    e = info.value
    assert f"{e.loc.line}:{e.loc.column}" == where, e.render()
    assert phrase in e.message, e.message
    assert not _english_left(e.message), e.message
    assert "Traceback" not in e.render()


_PIECES = ["a", "b", ":", ": ", "-", "- ", "\n", "  ", "\t", "[", "]", "{", "}", ",", "'", '"', "\\", "|", ">",
           "?", "!", "%", "@", "`", "#", "---", "...", "1", "2024-13-45", "转学", "&", "*"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=24).map("".join))
def test_any_yaml_error_is_chinese(text):
    try:
        load_yaml_text(text, "f.yaml")
    except RuleError as e:
        assert not _english_left(e.message), (text, e.message)
        assert e.loc.line >= 1 and e.loc.column >= 1


def test_calendar_file_yaml_errors_are_chinese_too():
    from xueji_policy.workdays import WorkCalendar

    with pytest.raises(RuleError) as info:
        WorkCalendar(files={"rules/calendar/2027.yaml": b"year: 2027\nsource: x\nholidays: [2027-05-01}\n"})
    e = info.value
    assert (e.loc.file, e.loc.line) == ("rules/calendar/2027.yaml", 3)
    assert "方括号列表" in e.message and not _english_left(e.message), e.message
