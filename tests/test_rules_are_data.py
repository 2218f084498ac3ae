"""The engine knows no article, and rule text is never executed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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


def test_no_article_caps_or_deadlines_are_decided_in_python():
    """No comparison in the package involves a regulation number (caps, days, years) or an article label."""
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                for operand in [node.left, *node.comparators]:
                    if isinstance(operand, ast.Constant):
                        v = operand.value
                        assert not (isinstance(v, int) and not isinstance(v, bool) and v in
                                    {14, 15, 20, 31, 50, 144, 3000}), f"{path}:{node.lineno}: {v!r}"
                        assert not (isinstance(v, str) and v.startswith("第") and "条" in v), f"{path}:{node.lineno}: {v!r}"
            if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
                assert node.value not in {3000, 144}, f"{path}:{node.lineno}: {node.value}"


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
