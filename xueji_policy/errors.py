"""Errors: every failure the library reports is one of these, never a bare traceback.

Each error has a stable ``code`` (for machines), a Chinese ``message`` (for policy
staff) and an English ``message_en``.  Rule-file problems carry their location
(file, line, column, rule id) and are reported all together by ``RuleSetError``;
case problems carry the JSON paths at fault and are reported together by
``CaseError``.
"""

from __future__ import annotations

from dataclasses import dataclass


class XuejiError(Exception):
    """Base of every error this package raises on purpose."""

    code = "error"
    exit_code = 2

    def __init__(self, message: str, message_en: str | None = None):
        super().__init__(message)
        self.message = message
        self.message_en = message_en or message

    def to_dict(self) -> dict:
        return {"error": self.code, "message": self.message, "message_en": self.message_en}

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- rules


@dataclass
class Location:
    file: str
    line: int  # 1-based
    column: int  # 1-based
    source_line: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class RuleError(XuejiError):
    """One located problem in a rule file.  ``stage`` says which pipeline stage found it."""

    code = "rule_error"
    stage = "rule"

    def __init__(self, message: str, loc: Location | None, *, rule_id: str | None = None,
                 message_en: str | None = None, hint: str | None = None):
        super().__init__(message, message_en)
        self.loc = loc
        self.rule_id = rule_id
        self.hint = hint

    def render(self) -> str:
        """``file:line:col: message`` followed by the offending line and a caret."""
        head = f"{self.loc}: " if self.loc else ""
        rule = f"[{self.rule_id}] " if self.rule_id else ""
        text = f"{head}{rule}{self.message}"
        if self.hint:
            text += f"（{self.hint}）"
        if self.loc and self.loc.source_line is not None:
            src = self.loc.source_line.rstrip("\n")
            # Keep the caret under the right character even when the line has
            # wide (CJK) characters: pad with the same characters' widths.
            prefix = src[: max(self.loc.column - 1, 0)]
            pad = "".join("\u3000" if _is_wide(ch) else ("\t" if ch == "\t" else " ") for ch in prefix)
            text += f"\n    {src}\n    {pad}^"
        return text

    def to_dict(self) -> dict:
        d = super().to_dict()
        d.update(stage=self.stage, rule=self.rule_id, hint=self.hint)
        if self.loc:
            d.update(file=self.loc.file, line=self.loc.line, column=self.loc.column)
        return d

    def __str__(self) -> str:
        return self.render()


def _is_wide(ch: str) -> bool:
    import unicodedata

    return unicodedata.east_asian_width(ch) in ("W", "F")


class YamlError(RuleError):
    code = "yaml_error"
    stage = "load"


class StructureError(RuleError):
    """A rule file that is valid YAML but not of the rule-file shape."""

    code = "structure_error"
    stage = "load"


class ParseError(RuleError):
    code = "parse_error"
    stage = "parse"


class CheckError(RuleError):
    """Names and types: unknown field, wrong operand type, unknown parameter …"""

    code = "check_error"
    stage = "check"


class CiteError(RuleError):
    code = "cite_error"
    stage = "cite"


class DuplicateError(RuleError):
    code = "duplicate_error"
    stage = "ruleset"


class RuleSetError(XuejiError):
    """A rule set that did not load: every error found, in file order."""

    code = "ruleset_error"

    def __init__(self, errors: list[RuleError]):
        self.errors = list(errors)
        n = len(self.errors)
        body = "\n".join(e.render() for e in self.errors)
        super().__init__(f"规则加载失败，共 {n} 处错误：\n{body}",
                         f"the rule set did not load: {n} error(s)\n{body}")

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["errors"] = [e.to_dict() for e in self.errors]
        return d


# --------------------------------------------------------------------------- cases


@dataclass
class CaseProblem:
    path: str  # JSON path, e.g. "$.transfer.to_school.enrollment"
    message: str  # Chinese
    message_en: str = ""
    # Facts that contradict each other (consistency.py): every path involved, ``path`` first.
    paths: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d: dict[str, str | list[str]] = {"path": self.path, "message": self.message, "message_en": self.message_en}
        if self.paths:
            d["paths"] = list(self.paths)
        return d


_CASE_HEADS = {
    "invalid_case": ("案例不符合格式", "invalid case"),
    "malformed_json": ("案例不是有效的 JSON", "malformed case JSON"),
    "too_large": ("案例过大", "case too large"),
    "unreadable": ("无法读取案例", "cannot read the case"),
}


class CaseError(XuejiError):
    """A case that does not fit the case schema: every failing JSON path at once."""

    code = "invalid_case"

    def __init__(self, problems: list[CaseProblem], kind: str = "invalid_case"):
        self.problems = list(problems)
        self.code = kind
        zh = "；".join(f"{p.path}: {p.message}" for p in self.problems)
        en = "; ".join(f"{p.path}: {p.message_en or p.message}" for p in self.problems)
        head_zh, head_en = _CASE_HEADS.get(kind, _CASE_HEADS["invalid_case"])
        super().__init__(f"{head_zh}：{zh}", f"{head_en}: {en}")

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["problems"] = [p.to_dict() for p in self.problems]
        return d


class NotInForceError(XuejiError):
    """The case's date is before any rules are in force."""

    code = "not_in_force"


class CalendarError(XuejiError):
    """A working-day computation touched a year with no holiday schedule."""

    code = "no_calendar"

    def __init__(self, year: int, message: str | None = None, message_en: str | None = None):
        self.year = year
        super().__init__(
            message or f"{year} 年没有法定节假日安排数据，无法计算工作日；请在 rules/calendar/ 中按国务院办公厅通知补充该年数据",
            message_en or f"no statutory holiday schedule for {year}; add it under rules/calendar/ from the State Council notice",
        )


class EvaluationError(XuejiError):
    """A rule failed at run time in a way the checker could not rule out."""

    code = "evaluation_error"
