"""Message templates: ``{param}`` placeholders in rule messages, filled in with the value in force.

A rule's ``message``, ``message_unmet`` (and so an obligation's text) may name parameters —
``班额不得超过{class_cap}人`` — so that changing a number in ``parameters.yaml`` changes every text
that states it.  ``{{`` and ``}}`` stand for literal braces.  The loader checks every placeholder
against the parameters (``placeholders`` raises ``TemplateError`` with the offset of the mistake);
the plan stage renders each rule's messages once per stretch of dates (``render``), so a decision
only reads finished text.  Plain data only: this module imports no stage.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# A run of digits in a message (ASCII or full-width), not part of a longer number.
_NUMBER = re.compile(r"(?<![0-9０-９.])([0-9０-９]+(?:\.[0-9]+)?)(?![0-9０-９])")
_MONTHDAY = re.compile(r"(\d{1,2})月(\d{1,2})日")


class TemplateError(ValueError):
    """A malformed template: ``offset`` is the position of the mistake in the text."""

    def __init__(self, offset: int, message_zh: str, message_en: str):
        super().__init__(message_en)
        self.offset = offset
        self.message_zh = message_zh
        self.message_en = message_en


def is_template(text: str | None) -> bool:
    return text is not None and ("{" in text or "}" in text)


def placeholders(text: str) -> list[tuple[str, int]]:
    """Every ``{name}`` in ``text`` with the offset of the name; raises ``TemplateError``."""
    out: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "{":
            if text.startswith("{{", i):
                i += 2
                continue
            close = text.find("}", i + 1)
            opener = text.find("{", i + 1)
            if close < 0 or (0 <= opener < close):
                raise TemplateError(i, "'{' 没有对应的 '}'（参数写作 {参数名}；要写字面的大括号请写 {{ }}）",
                                    "unclosed '{' (a parameter is {name}; a literal brace is {{ or }})")
            name = text[i + 1:close].strip()
            start = i + 1 + (len(text[i + 1:close]) - len(text[i + 1:close].lstrip()))
            if not name:
                raise TemplateError(i, "大括号中缺少参数名（如 {class_cap}）", "empty placeholder {}")
            if not _NAME.match(name):
                raise TemplateError(start, f"'{{{name}}}' 不是参数名（只能由字母、数字和下划线组成，如 {{class_cap}}）",
                                    f"{{{name}}} is not a parameter name")
            out.append((name, start))
            i = close + 1
            continue
        if c == "}":
            if text.startswith("}}", i):
                i += 2
                continue
            raise TemplateError(i, "多余的 '}'（要写字面的大括号请写 }}）", "unmatched '}' (a literal brace is }})")
        i += 1
    return out


def show_value(v: Any) -> str:
    """A parameter value as a message states it: 50, 10月31日, 2026年9月1日, 是/否."""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, tuple) and len(v) == 2:  # month-day
        return f"{v[0]}月{v[1]}日"
    if isinstance(v, _dt.date):
        return f"{v.year}年{v.month}月{v.day}日"
    return str(v)


def render(text: str, params: Mapping[str, Any]) -> str:
    """``text`` with every ``{name}`` replaced by the value of ``params[name]`` (checked at load)."""
    if not is_template(text):
        return text
    out: list[str] = []
    last = 0
    for name, start in placeholders(text):
        open_ = text.rfind("{", 0, start)
        close = text.find("}", start)
        out.append(_unescape(text[last:open_]))
        value = params.get(name)
        out.append("（未生效）" if value is None else show_value(value))
        last = close + 1
    out.append(_unescape(text[last:]))
    return "".join(out)


def _unescape(s: str) -> str:
    return s.replace("{{", "{").replace("}}", "}")


def literal_numbers(text: str) -> list[tuple[str, int]]:
    """The numbers a message writes out (outside placeholders), with their offsets: ``50``, ``10月31日``."""
    if is_template(text):
        try:
            spans = [(text.rfind("{", 0, s), text.find("}", s)) for _, s in placeholders(text)]
        except TemplateError:
            spans = []
        text = _blank(text, spans)
    found: list[tuple[str, int]] = []
    dates = []
    for m in _MONTHDAY.finditer(text):
        found.append((f"{int(m.group(1))}月{int(m.group(2))}日", m.start()))
        dates.append(m.span())
    for m in _NUMBER.finditer(text):
        if not any(a <= m.start() < b for a, b in dates):
            found.append((m.group(1).translate(_FULLWIDTH), m.start()))
    return sorted(found, key=lambda t: t[1])


_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        for k in range(a, b + 1):
            chars[k] = " "
    return "".join(chars)
