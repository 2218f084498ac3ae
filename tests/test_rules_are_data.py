"""The engine knows no article, and rule text is never executed."""

from __future__ import annotations

import ast
import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from xueji_policy.errors import CheckError, ParseError, RuleError
from xueji_policy.lang.check import Scope, check_expr
from xueji_policy.lang.parse import Source, parse_expr
from xueji_policy.lang.types import schema_to_type
from xueji_policy.validate import load_case_schema

PACKAGE = Path(__file__).resolve().parent.parent / "xueji_policy"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _trees():
    for path in SOURCES:
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def test_no_eval_exec_or_unsafe_loading_in_the_package():
    banned = {"eval", "exec", "__import__"}
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                assert name not in banned, f"{path}:{node.lineno} calls {name}"
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                    assert (f.value.id, f.attr) not in {("yaml", "load"), ("yaml", "unsafe_load"),
                                                        ("pickle", "loads"), ("pickle", "load")}, \
                        f"{path}:{node.lineno} calls {f.value.id}.{f.attr}"


# --------------------------------------------------------------------------- regulation knowledge
#
# The banned values are not listed here: they are the rule set's own data (every parameter's
# values and effective dates, the rule set's effective date, its name and document number), so a
# new parameter or a changed value is banned from Python the moment it is written in rules/.

RULES = Path(__file__).resolve().parent.parent / "rules"
# Numbers this small are everywhere (indexes, weekdays, digit counts: d.weekday() < 5, len(s) != 10):
# a parameter whose value is so small is still decided only in rules/, but the scan cannot tell.
_SMALL = 10
_ANYWHERE = 100  # a parameter's number at least this large is banned as any literal, not only in comparisons


@dataclass
class Banned:
    numbers: set[int | float] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)  # banned inside any string literal
    exact: set[str] = field(default_factory=set)  # banned as a whole string literal (a month-day "10-31")
    dates: set[_dt.date] = field(default_factory=set)
    monthdays: set[tuple[int, int]] = field(default_factory=set)


def banned_values(rules: Path = RULES) -> Banned:
    params = yaml.safe_load((rules / "parameters.yaml").read_text(encoding="utf-8"))["parameters"]
    meta = yaml.safe_load((rules / "ruleset.yaml").read_text(encoding="utf-8"))
    out = Banned()
    out.dates.add(meta["effective_from"])
    for key in ("name", "document"):
        if meta.get(key):
            out.texts.add(str(meta[key]))
    for p in params.values():
        for entry in p["values"]:
            out.dates.add(entry["effective_from"])
            v = entry["value"]
            if isinstance(v, bool):
                continue
            if isinstance(v, (int, float)):
                out.numbers.add(v)
            elif isinstance(v, _dt.date):
                out.dates.add(v)
            elif p["type"] == "monthday":
                month, day = (int(x) for x in str(v).split("-"))
                out.monthdays.add((month, day))
                out.exact.add(str(v))  # inside a message it is only a format example
            elif isinstance(v, str):
                out.texts.add(v)
                if len(v) > 2 and v[-1] in "省市县区":  # a place is also written without its level: 某某市 → 某某
                    out.texts.add(v[:-1])
    for d in list(out.dates):
        out.texts |= {d.isoformat(), f"{d:%Y%m%d}", f"{d.year}年{d.month}月{d.day}日"}
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _number(node: ast.AST) -> int | float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    return None


def _numbers(nodes: list[ast.expr]) -> list[int | float] | None:
    out = [_number(n) for n in nodes]
    return None if any(n is None for n in out) else [n for n in out if n is not None]


def scan_source(text: str, filename: str, banned: Banned) -> list[str]:
    """Every place in one Python source that writes regulation knowledge as a literal."""
    tree = ast.parse(text, filename)
    skip = _docstrings(tree)
    years = {d.year for d in banned.dates}
    found: list[str] = []

    def hit(node: ast.AST, what: str) -> None:
        found.append(f"{filename}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for t in sorted(banned.texts):
                if t in node.value:
                    hit(node, f"{t!r} in a string")
            if node.value.strip() in banned.exact:
                hit(node, f"the string {node.value!r}")
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool) \
                and node.value in banned.numbers and node.value >= _ANYWHERE:
            hit(node, f"parameter value {node.value!r}")
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                v = _number(operand)
                if v is not None and abs(v) > _SMALL and (abs(v) in banned.numbers or v in years):
                    hit(operand, f"compares with {v!r}")
                if isinstance(operand, ast.Constant) and isinstance(operand.value, str) \
                        and operand.value.startswith("第") and "条" in operand.value:
                    hit(operand, f"compares with the article label {operand.value!r}")
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            args = _numbers(node.args)
            if name in ("date", "datetime") and args is not None and len(args) >= 3 \
                    and all(isinstance(a, int) for a in args[:3]):
                try:
                    day = _dt.date(int(args[0]), int(args[1]), int(args[2]))
                except ValueError:
                    day = None
                if day in banned.dates:
                    hit(node, f"the date {day}")
        if isinstance(node, ast.Tuple) and len(node.elts) == 2:
            pair = _numbers(node.elts)
            if pair is not None and (pair[0], pair[1]) in banned.monthdays:
                hit(node, f"the month-day {tuple(pair)}")
    return found


def test_the_banned_values_are_read_from_the_rules():
    b = banned_values()
    params = yaml.safe_load((RULES / "parameters.yaml").read_text(encoding="utf-8"))["parameters"]
    numbers = {e["value"] for p in params.values() for e in p["values"]
               if isinstance(e["value"], (int, float)) and not isinstance(e["value"], bool)}
    assert numbers and numbers <= b.numbers
    assert {e["effective_from"] for p in params.values() for e in p["values"]} <= b.dates
    assert b.monthdays and any(t.endswith(("市", "省")) for t in b.texts)


def test_no_regulation_knowledge_in_python():
    """No literal in the package (docstrings and comments aside) is a parameter value, an effective date,
    the regulation's name or document number, a place of the rules or an article label."""
    banned = banned_values()
    found = [f for path in SOURCES for f in scan_source(path.read_text(encoding="utf-8"), str(path), banned)]
    assert not found, "\n".join(found)


def test_no_regulation_name_place_or_date_in_the_packaged_page_and_templates():
    """The staff page and the report template take the regulation from the rule set too."""
    banned = banned_values()
    texts = [p for p in PACKAGE.rglob("*") if p.suffix in {".html", ".js", ".css", ".j2"}]
    assert any(p.name == "index.html" for p in texts)
    found = [f"{p}: {t}" for p in texts for t in sorted(banned.texts) if t in p.read_text(encoding="utf-8")]
    assert not found, "\n".join(found)


def _planted() -> Banned:
    return Banned(numbers={5, 14, 50, 3000, 144.5},
                  texts={"营口市", "营口", "2024-08-16", "营教发〔2024〕17号"}, exact={"10-31"},
                  dates={_dt.date(2024, 8, 16)}, monthdays={(10, 31)})


@pytest.mark.parametrize("source", [
    "if size > 50:\n    pass",
    "ok = 14 <= n",
    "if n < -50:\n    pass",
    "CAP = 3000",
    "x = f(-3000)",
    "y = 144.5",
    'CITIES = ["大连市", "营口市"]',
    'msg = "不属于营口的学校"',
    'if city == "营口市":\n    pass',
    "d = _dt.date(2024, 8, 16)",
    "d = date(2024, 8, 16)",
    'd = "2024-08-16"',
    "if day.year >= 2024:\n    pass",
    "DEADLINE = (10, 31)",
    'DEADLINE = "10-31"',
    'DESC = "policy-as-code for 营教发〔2024〕17号"',
    'if cite == "第十三条":\n    pass',
    'def f():\n    """Docstring."""\n    return "营口"',
    'def f():\n    x = 1\n    "not a docstring: 营口"',
])
def test_the_scanner_finds_a_planted_violation(source):
    assert scan_source(source, "planted.py", _planted()), source


@pytest.mark.parametrize("source", [
    '"""The 营口市 rules (2024-08-16): caps of 3000, deadline 10-31."""\nx = 1',
    'def f():\n    """营教发〔2024〕17号, 10-31."""\n    return 0',
    "x = 1  # 3000, 营口市, 2024-08-16",
    "if n > 1 and items[0] == 2:\n    pass",
    "pad = 14",
    "if d.weekday() < 5:\n    pass",
    'msg = "不是有效月日（如 10-31）"',
    "d = date(2025, 1, 1)",
    "t = (1, 2)",
    'label = "第一中学"',
])
def test_the_scanner_lets_docstrings_comments_and_plain_code_pass(source):
    assert scan_source(source, "plain.py", _planted()) == [], source


@pytest.mark.parametrize("text", [
    '__import__("os").system("echo hacked")',
    'open("/etc/passwd")',
    'student.__class__',
    'exec("print(1)")',
    'eval("1")',
    'lambda: 1',
    'student.name; import os',
])
def test_code_in_a_condition_is_refused_never_run(text):
    scope = Scope(case=schema_to_type(load_case_schema()), params={})
    with pytest.raises(RuleError) as ei:
        e = parse_expr(text, Source(text))
        check_expr(e, scope, Source(text))
    assert isinstance(ei.value, (ParseError, CheckError))
