"""The condition language: parse ↔ pretty, parse errors, the checker, the compiler's semantics.

Expected values of working-day sums are worked out by hand from the State Council
notice for 2025 (国办发明电〔2024〕12号): 国庆节、中秋节 10月1日（周三）至8日（周三）放假调休，
9月28日（周日）、10月11日（周六）上班.  2025-09-26 was a Friday.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from xueji_policy.errors import CheckError, EvaluationError, Location, ParseError
from xueji_policy.lang import ast as A
from xueji_policy.lang.ast import pretty
from xueji_policy.lang.check import Scope, check_expr
from xueji_policy.lang.compile import compile_expr
from xueji_policy.lang.kleene import Residual
from xueji_policy.lang.parse import Source, parse_expr
from xueji_policy.lang.types import BOOL, DATE, INT, PARAM_TYPES, T_DATE, action_sections, schema_to_type
from xueji_policy.pipeline import load_ruleset
from xueji_policy.validate import load_case_schema
from xueji_policy.workdays import WorkCalendar

D = dt.date


# --------------------------------------------------------------------------- helpers


def shape(x):
    """An AST as nested tuples, comparing what ``==`` compares *and* the Python type of
    each literal (``Literal(True) == Literal(1) == Literal(1.0)`` under dataclass equality)."""
    if isinstance(x, A.Node):
        return (type(x).__name__,) + tuple(shape(getattr(x, f.name)) for f in dataclasses.fields(x) if f.compare)
    if isinstance(x, tuple):
        return tuple(shape(i) for i in x)
    return (type(x).__name__, x)


def assert_round_trip(e: A.Expr) -> str:
    text = pretty(e)
    back = parse_expr(text)
    assert back == e, f"{text!r}: {back!r} != {e!r}"
    assert shape(back) == shape(e), text
    assert pretty(back) == text  # pretty is a fixed point
    return text


@pytest.fixture(scope="module")
def schema():
    return load_case_schema()


@pytest.fixture(scope="module")
def case_type(schema):
    return schema_to_type(schema)


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset()


@pytest.fixture(scope="module")
def param_types(ruleset):
    return {n: PARAM_TYPES[p.type] for n, p in ruleset.params.items()}


@pytest.fixture(scope="module")
def param_values(ruleset):
    return ruleset.params_on(D(2025, 9, 1))


@pytest.fixture(scope="module")
def calendar():
    return WorkCalendar()


@pytest.fixture
def check(schema, case_type, param_types):
    """check(text, actions=(), expect=BOOL) → (ast, type); raises CheckError/ParseError."""

    def _check(text: str, actions: tuple[str, ...] = (), expect: str | None = BOOL):
        scope = Scope(case=case_type, params=dict(param_types), sections=action_sections(schema), actions=actions)
        src = Source(text, rule_id="test.rule")
        e = parse_expr(text, src)
        t = check_expr(e, scope, src, expect=expect)
        return e, t

    return _check


@pytest.fixture
def run(check, param_values, calendar):
    """run(text, case) → the compiled expression's value on ``case``."""

    def _run(text: str, case: dict | None = None, actions: tuple[str, ...] = (), expect: str | None = None,
             params: dict | None = None):
        e, _ = check(text, actions, expect)
        fn = compile_expr(e, calendar)
        return fn(case or {}, param_values if params is None else params, {})

    return _run


def _unknown(value, residual: str) -> bool:
    """An unknown value (v2), with what is left of the expression printed as ``residual``."""
    assert isinstance(value, Residual), value
    assert value.text() == residual, value.text()
    return True


# --------------------------------------------------------------------------- parse: structure


def P(*parts):
    return A.Path(tuple(parts))


def L(v):
    return A.Literal(v)


@pytest.mark.parametrize("text, expected", [
    ("a.b.c", P("a", "b", "c")),
    ("params.school_cap", P("params", "school_cap")),
    ("-3", L(-3)),
    ("- 2.50", L(-2.5)),
    ("-x", A.Neg(P("x"))),
    ("--3", L(3)),  # both minus signs fold into the literal
    ("--x", A.Neg(A.Neg(P("x")))),
    ('"a\\"b"', L('a"b')),
    ("'it\\'s'", L("it's")),
    ('"\\u4e2d文\\n"', L("中文\n")),
    ("[]", A.ListLit(())),
    ("[1, 2,]", A.ListLit((L(1), L(2)))),
    ("a or b and c", A.BoolOp("or", (P("a"), A.BoolOp("and", (P("b"), P("c")))))),
    ("(a or b) and c", A.BoolOp("and", (A.BoolOp("or", (P("a"), P("b"))), P("c")))),
    ("a and b and c", A.BoolOp("and", (P("a"), P("b"), P("c")))),
    ("(a and b) and c", A.BoolOp("and", (P("a"), P("b"), P("c")))),
    ("a and (b and c)", A.BoolOp("and", (P("a"), A.BoolOp("and", (P("b"), P("c")))))),
    ("not a == b", A.Not(A.Compare("==", P("a"), P("b")))),
    ("not a and b", A.BoolOp("and", (A.Not(P("a")), P("b")))),
    ("a - b - c", A.Arith("-", A.Arith("-", P("a"), P("b")), P("c"))),
    ("a - (b - c)", A.Arith("-", P("a"), A.Arith("-", P("b"), P("c")))),
    ("a + 1 < b", A.Compare("<", A.Arith("+", P("a"), L(1)), P("b"))),
    ("a not in [1]", A.In(P("a"), A.ListLit((L(1),)), negated=True)),
    ("a is not null", A.IsNull(P("a"), negated=True)),
    ("last(student.suspensions).start",
     A.Field(A.Call("last", (P("student", "suspensions"),)), "start")),
    ("f().a.b", A.Field(A.Field(A.Call("f", ()), "a"), "b")),
    ("count(s in xs: s.ok)", A.Quant("count", "s", P("xs"), P("s", "ok"))),
    ("a # comment\n and b", A.BoolOp("and", (P("a"), P("b")))),
    ("a\u3000and b", A.BoolOp("and", (P("a"), P("b")))),
])
def test_parse_structure(text, expected):
    e = parse_expr(text)
    assert e == expected
    assert shape(e) == shape(expected)


# --------------------------------------------------------------------------- parse ↔ pretty

ROUND_TRIP = [
    # paths, params, literals
    "student.grade",
    "transfer.to_school.enrollment",
    "params.school_cap",
    "date",
    "0", "42", "-7", "3.25", "-0.5", "100000000000000.0", "0.000001",
    "true", "false", "null",
    '"营口市"', '"quote \\" and backslash \\\\"', "'single \\' quoted'", '"tab\\tnewline\\n"', '""',
    # lists
    "[]", '["enrolled", "suspended"]', "[1, -2, 3.5]", "[[1], [], [2, 3]]", "[a.b, f(x), -y]",
    # not, and/or precedence
    "not a", "not not a", "not (a or b)", "a or b and c", "(a or b) and c", "a and (b or c) and not d",
    "a or (b or c)", "(not a) == b",
    # comparisons, in, is null
    "a == b", "a != 1", "a < b", "a <= 2.5", "a > -1", "a >= params.class_cap",
    '(a == b) == c', 'student.status in ["enrolled", "suspended"]', "x not in xs", "(a in b) in c",
    "x is null", "x is not null", "(x is null) == false", "not x is null",
    # arithmetic on numbers and dates
    "a + b - c", "a - (b + c)", "a - -1", "-(a + b)", "-a + b", "--a",
    "date + 1", "date - 14", "date - student.enrolled_on", "1 + date",
    "add_days(transfer.semester_start, -params.transfer_window_days)",
    # quantifiers, calls, field access on a call
    'any(s in student.suspensions: s.reason == "illness")',
    "all(size in transfer.to_school.grade_class_sizes: size >= params.class_cap)",
    "count(s in student.suspensions: s.end is null) >= 2",
    "any(x in [1, 2]: all(y in ys: x < y))",
    "any(x in a or b: x)",
    "f()", "coalesce(a, b)", "date(2024, 10, 31)", 'date("2024-08-16")',
    "add_working_days(date, params.transfer_completion_workdays)",
    "last(student.suspensions).start", "first(xs).a.b", "f(x).y + 1", "(-x).y", "[1].a", '"s".len',
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_round_trip(text):
    e = parse_expr(text)
    assert_round_trip(e)


@pytest.mark.parametrize("text, printed", [
    ("((a))", "a"),
    ("(a or b) and c", "(a or b) and c"),
    ("(a and b) and c", "a and b and c"),
    ("(a - b) - c", "a - b - c"),
    ("a - (b - c)", "a - (b - c)"),
    ("not (a == b)", "not a == b"),
    ("- 3", "-3"),
    ("1.50", "1.5"),
    ("'x'", '"x"'),
    ("any( s in xs : s )", "any(s in xs: s)"),
])
def test_pretty_is_minimal(text, printed):
    assert pretty(parse_expr(text)) == printed


def test_round_trip_field_of_negative_literal():
    assert_round_trip(parse_expr("(-1).a"))


# --------------------------------------------------------------------------- hypothesis: random ASTs

KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false", "any", "all", "count"}
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True).filter(lambda s: s not in KEYWORDS)
ints = st.integers(min_value=-(10**14), max_value=10**14)
# Decimals as the language writes them: at most 15 integer digits, a few decimal places.
decimals = st.builds(lambda n, k: n / 10**k, st.integers(-(10**12), 10**12), st.integers(0, 6))
literals = st.builds(A.Literal, st.one_of(st.none(), st.booleans(), ints, decimals, st.text(max_size=6)))
paths = st.builds(lambda parts: A.Path(tuple(parts)), st.lists(names, min_size=1, max_size=4))


def _is_number_literal(e) -> bool:
    return isinstance(e, A.Literal) and type(e.value) in (int, float)


def _boolop(op, operands):
    # The parser flattens a left operand of the same operator; build what it would give.
    first, rest = operands[0], list(operands[1:])
    head = list(first.operands) if isinstance(first, A.BoolOp) and first.op == op else [first]
    return A.BoolOp(op, tuple(head + rest))


def _extend(children):
    # Field's object is never a plain path (a.b is one Path) nor a negative number (known bug above).
    field_obj = children.filter(lambda c: not isinstance(c, A.Path)
                                and not (_is_number_literal(c) and c.value < 0))
    return st.one_of(
        st.builds(lambda xs: A.ListLit(tuple(xs)), st.lists(children, max_size=3)),
        st.builds(A.Field, field_obj, names),
        st.builds(A.Not, children),
        # "-3" is folded into Literal(-3) by the parser, so Neg never wraps a number literal.
        st.builds(A.Neg, children.filter(lambda c: not _is_number_literal(c))),
        st.builds(_boolop, st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3)),
        st.builds(A.Compare, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), children, children),
        st.builds(A.Arith, st.sampled_from(["+", "-"]), children, children),
        st.builds(A.In, children, children, st.booleans()),
        st.builds(A.IsNull, children, st.booleans()),
        st.builds(lambda n, xs: A.Call(n, tuple(xs)), names, st.lists(children, max_size=3)),
        st.builds(A.Quant, st.sampled_from(["any", "all", "count"]), names, children, children),
    )


asts = st.recursive(st.one_of(literals, paths), _extend, max_leaves=16)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(asts)
def test_random_ast_round_trips(e):
    text = pretty(e)
    assume(len(text) <= 8000 and text.count("(") + text.count("[") < 40)
    assert_round_trip(e)


# --------------------------------------------------------------------------- hypothesis: fuzzing the parser

TOKENS = ["(", ")", "[", "]", ",", ":", ".", "==", "!=", "<=", ">=", "<", ">", "+", "-", "=", "!", "&", "|",
          "and", "or", "not", "in", "is", "null", "true", "false", "any", "all", "count",
          "x", "student", "params", "date", "f", "1", "007", "2.5", "1.", ".5", "99999999999999999999",
          '"s"', "'t'", '"\\q"', '"unterminated', "'", '"', "\\", " ", "\n", "\t", "\u3000", "#c\n",
          "（", "）", "，", "＝", "“", "学籍"]


def _assert_located_parse_error(text: str) -> None:
    try:
        parse_expr(text)
    except ParseError as e:
        assert isinstance(e.loc, Location)
        assert e.loc.line >= 1 and e.loc.column >= 1
        assert e.message and e.render().startswith(f"{e.loc}: ")
        lines = text.split("\n")
        assert e.loc.line <= len(lines)
        assert e.loc.column <= len(lines[e.loc.line - 1]) + 1


@settings(max_examples=1500, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_parse_arbitrary_text(text):
    _assert_located_parse_error(text)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=30), st.sampled_from(["", " "]))
def test_fuzz_parse_token_soup(tokens, sep):
    _assert_located_parse_error(sep.join(tokens))


@settings(max_examples=300, deadline=None)
@given(asts, st.integers(min_value=0), st.sampled_from(["", ")", "(", ",", " and", "==", "：", "\n+"]))
def test_fuzz_parse_mutated_valid_text(e, cut, junk):
    text = pretty(e)
    i = cut % (len(text) + 1)
    _assert_located_parse_error(text[:i] + junk + text[i:])


@pytest.mark.parametrize("text, where, fragment", [
    ("a = 1", (1, 3), "比较相等请用 '=='"),
    ("a && b", (1, 3), "请用 and"),
    ("（a)", (1, 1), "是否应为半角字符 '('？"),
    ("学籍 == 1", (1, 1), "中文请写在引号内"),
    ("a b", (1, 3), "此处不应出现 'b'"),
    # An early end is reported at the last token (Lark's LALR gives $END the last token's position).
    ("a and\n  b +", (2, None), "此处不应出现 表达式结尾"),
    ("f(a", (1, None), "此处不应出现 表达式结尾"),
    ("", (1, 1), "条件为空"),
    ("1234567890123456", (1, 1), "整数过大"),
    ('"\\q"', (1, 1), "转义字符无效"),
    ("(" * 49 + "1" + ")" * 49, (1, 49), "括号嵌套过深"),
])
def test_parse_errors_are_located(text, where, fragment):
    with pytest.raises(ParseError) as info:
        parse_expr(text)
    e = info.value
    line, column = where
    assert e.loc.line == line, e.render()
    if column is not None:
        assert e.loc.column == column, e.render()
    assert fragment in e.render().split("\n", 1)[0]


def test_parse_error_in_rule_file_source_is_located_in_the_file():
    # A Source with a locator maps offsets into the file (as rule files do).
    src = Source("a = 1", locate=lambda off: Location("rules/13.yaml", 40, 11 + off, "    when: a = 1"), rule_id="r")
    with pytest.raises(ParseError) as info:
        parse_expr("a = 1", src)
    assert str(info.value.loc) == "rules/13.yaml:40:13"
    assert info.value.rule_id == "r"


@pytest.mark.parametrize("text", ["1+" * 500 + "1", "a and " * 500 + "a", "f()" + ".a" * 500])
def test_long_chains_parse_or_fail_cleanly(text):
    try:
        parse_expr(text)
    except ParseError:
        pass


# --------------------------------------------------------------------------- checker


@pytest.mark.parametrize("text, actions, expect, kind", [
    ("transfer.to_school.enrollment >= params.school_cap", ("transfer_in",), BOOL, BOOL),
    ('any(s in student.suspensions: s.reason == "illness")', ("suspension",), BOOL, BOOL),
    ("count(s in student.suspensions: s.end is null)", (), INT, INT),
    ("last(student.suspensions).start + 1", (), DATE, DATE),
    ("add_working_days(date, params.transfer_completion_workdays)", ("transfer_in",), DATE, DATE),
    ("date - student.enrolled_on", (), INT, INT),
    ("coalesce(transfer.current_grade, student.grade)", ("transfer_out",), INT, INT),
    ("date(year(date), params.registration_leave_deadline)", ("registration",), DATE, DATE),
    ('student.status in ["enrolled", "suspended"] and not transfer.from_abroad', ("transfer_in",), BOOL, BOOL),
    ("transfer.household is not null", ("transfer_in",), BOOL, BOOL),
    ("len(transfer.materials) > 0 and student.gaokao_registered", ("transfer_in",), BOOL, BOOL),
    ("suspension.medical_certificate_level not in [\"county\", \"city\", \"province\"]", ("suspension",), BOOL,
     BOOL),
    ("true", (), BOOL, BOOL),
])
def test_check_accepts(check, text, actions, expect, kind):
    _, t = check(text, actions, expect)
    assert t.kind == kind


def test_check_annotates_roots_types_and_defaults(check):
    e, _ = check('student.gaokao_registered and any(s in student.suspensions: s.start < date) '
                 'and len(student.suspensions) < params.suspension_max_times')
    paths = {p.parts: p for p in A.walk(e) if isinstance(p, A.Path)}
    assert paths[("student", "gaokao_registered")].root == "case"
    assert paths[("student", "gaokao_registered")].defaults == (None, None)  # v2: no schema default stands in for a fact
    assert paths[("s", "start")].root == "var"
    assert paths[("s", "start")].type == T_DATE
    assert paths[("params", "suspension_max_times")].root == "param"
    assert paths[("params", "suspension_max_times")].type.kind == INT
    assert all(n.type is not None for n in A.walk(e))


@pytest.mark.parametrize("text, actions, expect, column, fragment", [
    ("transfer.to_shcool.enrollment > 1", (), BOOL, 10,
     "未知字段 'transfer.to_shcool.enrollment'（是否应为 'to_school'？）"),
    ("studnet.grade == 1", (), BOOL, 1, "未知字段 'studnet.grade'（是否应为 'student'？）"),
    ('any(s in student.suspensions: s.reasn == "illness")', (), BOOL, 33, "未知字段 's.reasn'（是否应为 'reason'？）"),
    ("last(student.suspensions).strat", (), None, 27, "未知字段 'strat'（是否应为 'start'？）"),
    ("student.suspensions.start", (), None, 21, "是列表，不能直接取字段 'start'"),
    ("student.grade.x == 1", (), BOOL, 15, "'student.grade' 是整数（可空），没有字段 'x'"),
    ("params.school_capp > 1", (), BOOL, 8, "未知参数 'params.school_capp'（是否应为 'params.school_cap'？）"),
    ("params.school_cap.x > 1", (), BOOL, 1, "参数引用应为 params.参数名"),
    ('suspension.reason == "illness"', ("transfer_in",), BOOL, 1,
     "'suspension' 部分不属于本规则适用的操作（transfer_in）"),
    ("date < 3", (), BOOL, 6, "不能比较日期与整数（<）"),
    ("student.grade < null", (), BOOL, 15, "不能用 < 与 null 比较"),
    ("student.grade and true", (), BOOL, 1, "and的操作数应为布尔值，实际为整数"),
    ("not student.grade", (), BOOL, 5, "not的操作数应为布尔值"),
    ('transfer.reason == "hukou_mov"', (), BOOL, 20, "取值 'hukou_mov' 不在允许范围内"),
    ('transfer.reason in ["hukou_move", "resident_move"]', (), BOOL, 35, "（是否应为 'residence_move'？）"),
    ('transfer.reason in "hukou_move"', (), BOOL, 20, "in 的右边应为列表，实际为字符串"),
    ("date + date", (), None, 6, "不能计算日期 + 日期"),
    ('-"x" == 1', (), BOOL, 1, "负号只能用于数值"),
    ('[1, "a"] == []', (), BOOL, 5, "列表元素类型不一致"),
    ("add_workdays(date, 1)", (), DATE, 1, "未知函数 'add_workdays'（是否应为 'add_working_days'？）"),
    ("add_working_days(date)", (), DATE, 1, "函数 add_working_days 的参数不符：(日期)"),
    ('date("2024-02-30")', (), DATE, 6, "不是有效日期：'2024-02-30'"),
    ("any(student in student.suspensions: true)", (), BOOL, 1, "变量名 'student' 与字段重名"),
    ("any(s in student.grade: true)", (), BOOL, 10, "any(…) 只能遍历列表，实际为整数"),
    ("student.grade", (), BOOL, 1, "条件的结果应为布尔值，实际为整数"),
    ("params.transfer_completion_workdays", (), DATE, 1, "条件的结果应为日期，实际为整数"),
])
def test_check_rejects(check, text, actions, expect, column, fragment):
    with pytest.raises(CheckError) as info:
        check(text, actions, expect)
    e = info.value
    head = e.render().split("\n", 1)[0]
    assert fragment in head
    assert (e.loc.line, e.loc.column) == (1, column), e.render()
    assert e.rule_id == "test.rule"


# --------------------------------------------------------------------------- compiler: null semantics


def test_path_through_missing_value_is_null(run):
    assert run("transfer.to_school.enrollment", {}) is None
    assert _unknown(run("transfer.to_school.enrollment", {"transfer": {}}), "transfer.to_school")  # v2: unstated
    assert run("transfer.to_school.enrollment", {"transfer": {"to_school": None}}) is None
    assert run("transfer.to_school.enrollment", {"transfer": {"to_school": {"enrollment": 7}}}) == 7
    assert run("last(student.suspensions).start", {"student": {"suspensions": []}}) is None
    assert run("first(student.suspensions).reason", {}) is None


def test_ordered_comparison_with_null_is_false(run):
    for op in ("<", "<=", ">", ">="):
        assert run(f"transfer.to_school.enrollment {op} 3000", {}) is False
        assert run(f"3000 {op} transfer.to_school.enrollment", {}) is False
        assert run(f"date {op} student.enrolled_on", {"date": "2025-01-01", "student": {"enrolled_on": None}}) is False
        assert _unknown(run(f"date {op} student.enrolled_on", {"date": "2025-01-01", "student": {}}),
                        f'date("2025-01-01") {op} student.enrolled_on')
    assert run("transfer.to_school.enrollment == null", {}) is True
    assert run("transfer.to_school.enrollment != 3000", {}) is True


def test_not_and_or_of_null(run):
    nulls = {"transfer": {"from_abroad": None, "other_policy_violation": None}}
    assert run("not transfer.from_abroad", nulls) is True
    assert run("transfer.from_abroad and true", nulls) is False
    assert run("transfer.from_abroad or true", nulls) is True
    assert run("transfer.from_abroad or transfer.other_policy_violation", nulls) is False


def test_not_and_or_of_unknown_are_kleene(run):
    unstated = {"transfer": {}}
    assert _unknown(run("not transfer.from_abroad", unstated), "not transfer.from_abroad")
    assert _unknown(run("transfer.from_abroad and true", unstated), "transfer.from_abroad")
    assert run("transfer.from_abroad and false", unstated) is False
    assert run("transfer.from_abroad or true", unstated) is True
    assert _unknown(run("transfer.from_abroad or transfer.other_policy_violation", unstated),
                    "transfer.from_abroad or transfer.other_policy_violation")


def test_arithmetic_with_null_is_null(run):
    assert run("transfer.to_school.enrollment + 1", {}) is None
    assert run("1 - transfer.to_school.enrollment", {}) is None
    assert run("-transfer.current_grade", {}) is None
    assert run("date - student.enrolled_on", {"date": "2025-01-01"}) is None
    assert run("student.enrolled_on + 1", {}) is None
    assert run("add_months(student.enrolled_on, 1)", {}) is None
    assert run("add_working_days(student.enrolled_on, 1)", {}) is None
    assert run("year(student.enrolled_on)", {}) is None


def test_quantifiers_over_null_are_over_empty(run):
    case = {"transfer": {"to_school": {"grade_class_sizes": None}}}
    assert _unknown(run("any(s in transfer.to_school.grade_class_sizes: true)", {"transfer": {"to_school": {}}}),
                    "any(s in transfer.to_school.grade_class_sizes: true)")
    assert run("any(s in transfer.to_school.grade_class_sizes: true)", case) is False
    assert run("all(s in transfer.to_school.grade_class_sizes: false)", case) is True
    assert run("count(s in transfer.to_school.grade_class_sizes: true)", case) == 0
    assert run("len(transfer.to_school.grade_class_sizes)", case) == 0
    assert run("5 in transfer.to_school.grade_class_sizes", case) is False
    assert run("5 not in transfer.to_school.grade_class_sizes", case) is True


def test_len_of_null_is_zero(run):
    assert run("len(transfer.to_school.grade_class_sizes)", {}) == 0
    assert run("len(transfer.to_school.grade_class_sizes)", {"transfer": {"to_school": {"grade_class_sizes": [50, 49]}}}) == 2


def test_coalesce(run):
    assert run("coalesce(transfer.current_grade, student.grade)", {"student": {"grade": 2}}) == 2
    assert run("coalesce(transfer.current_grade, student.grade)",
               {"transfer": {"current_grade": 3}, "student": {"grade": 2}}) == 3
    assert run("coalesce(transfer.current_grade, student.grade)", {}) is None
    assert run("coalesce(transfer.current_grade, 0)", {"transfer": {"current_grade": 0}}) == 0  # 0 is not null


def test_quantifiers_and_variables(run):
    case = {"date": "2025-03-01", "student": {"suspensions": [
        {"start": "2023-09-01", "end": "2024-09-01", "reason": "illness"},
        {"start": "2024-10-08", "end": None, "reason": "other"}]}}
    assert run('any(s in student.suspensions: s.reason == "illness")', case) is True
    assert run('all(s in student.suspensions: s.reason == "illness")', case) is False
    assert run("count(s in student.suspensions: s.start < date)", case) == 2
    assert run("count(s in student.suspensions: s.end is null)", case) == 1
    assert run("last(student.suspensions).start", case) == D(2024, 10, 8)
    assert run("first(student.suspensions).end", case) == D(2024, 9, 1)
    assert run("any(s in student.suspensions: any(t in student.suspensions: t.start > s.start))", case) is True


# --------------------------------------------------------------------------- compiler: dates


def test_date_plus_and_minus_days(run):
    assert run("date + 1", {"date": "2024-02-28"}) == D(2024, 2, 29)
    assert run("1 + date", {"date": "2024-12-31"}) == D(2025, 1, 1)
    assert run("date - 1", {"date": "2024-03-01"}) == D(2024, 2, 29)
    assert run("date - 1 - 1", {"date": "2024-03-01"}) == D(2024, 2, 28)
    assert run("add_days(date, -14)", {"date": "2025-09-01"}) == D(2025, 8, 18)


def test_date_minus_date_is_days(run):
    assert run("date - student.enrolled_on", {"date": "2025-03-01", "student": {"enrolled_on": "2024-03-01"}}) == 365
    assert run("date - student.enrolled_on", {"date": "2024-03-01", "student": {"enrolled_on": "2023-03-01"}}) == 366
    assert run('days_between(date("2024-02-28"), date)', {"date": "2024-03-01"}) == 2


def test_add_months_clamps_to_month_end(run):
    assert run("add_months(date, 1)", {"date": "2024-01-31"}) == D(2024, 2, 29)
    assert run("add_months(date, 1)", {"date": "2023-01-31"}) == D(2023, 2, 28)
    assert run("add_months(date, -1)", {"date": "2024-03-31"}) == D(2024, 2, 29)
    assert run("add_months(date, 13)", {"date": "2024-01-15"}) == D(2025, 2, 15)
    assert run("add_months(date, -12)", {"date": "2024-01-15"}) == D(2023, 1, 15)


def test_add_years_from_leap_day(run):
    assert run("add_years(date, 1)", {"date": "2024-02-29"}) == D(2025, 2, 28)
    assert run("add_years(date, 4)", {"date": "2024-02-29"}) == D(2028, 2, 29)
    assert run("add_years(date, params.suspension_term_years)", {"date": "2024-09-02"}) == D(2025, 9, 2)


def test_date_functions(run):
    case = {"date": "2025-09-26"}
    assert run("year(date)", case) == 2025
    assert (run("month(date)", case), run("day(date)", case)) == (9, 26)
    assert run("date(2024, 10, 31)", case) == D(2024, 10, 31)
    assert run('date("2024-08-16")', case) == D(2024, 8, 16)
    # a month-day parameter (第四条：入学当年10月31日)
    assert run("date(year(date), params.registration_leave_deadline)", case) == D(2025, 10, 31)
    assert run('min(date, date("2020-01-01"))', case) == D(2020, 1, 1)
    assert run('max(date, date("2020-01-01"))', case) == D(2025, 9, 26)


def test_date_out_of_range_is_an_evaluation_error(run):
    with pytest.raises(EvaluationError):
        run("add_months(date, 100000)", {"date": "2024-01-01"})
    with pytest.raises(EvaluationError):
        run("date + 10000000", {"date": "2024-01-01"})


@pytest.mark.parametrize("n, due", [
    (1, D(2025, 9, 28)),    # Sat 27 off; Sun 28 is a 调休 workday
    (2, D(2025, 9, 29)),
    (3, D(2025, 9, 30)),
    (4, D(2025, 10, 9)),    # Oct 1–8 off (国庆 + 中秋)
    (5, D(2025, 10, 10)),
    (6, D(2025, 10, 11)),   # Sat 11 is a 调休 workday
    (7, D(2025, 10, 13)),   # Sun 12 off
    (10, D(2025, 10, 16)),
    (-1, D(2025, 9, 25)),
])
def test_add_working_days_across_national_day_2025(run, n, due):
    assert run(f"add_working_days(date, {n})", {"date": "2025-09-26"}) == due


def test_working_days_across_national_day_2025(run):
    assert run("add_working_days(date, -1)", {"date": "2025-10-09"}) == D(2025, 9, 30)
    assert run("add_working_days(date, 1)", {"date": "2025-10-01"}) == D(2025, 10, 9)
    assert run('working_days_between(date("2025-09-30"), date("2025-10-09"))', {}) == 1
    assert run('working_days_between(date("2025-09-26"), date("2025-10-13"))', {}) == 7
    assert run("add_working_days(date, params.transfer_completion_workdays)",
               {"date": "2025-09-26"}, actions=("transfer_in",)) == D(2025, 10, 16)


# --------------------------------------------------------------------------- compiler: schema defaults


def test_no_schema_default_stands_in_for_a_fact(run):
    # v2: an absent field is unknown, whatever v1's default was; null is "there is none".
    assert _unknown(run("student.gaokao_registered", {"student": {}}), "student.gaokao_registered")
    assert _unknown(run("student.gaokao_registered == false", {"student": {}}), "student.gaokao_registered == false")
    assert run("student.gaokao_registered", {"student": {"gaokao_registered": True}}) is True
    assert _unknown(run("len(student.suspensions)", {"student": {}}), "len(student.suspensions)")
    assert run("len(student.suspensions)", {"student": {"suspensions": []}}) == 0
    assert _unknown(run("withdrawal.consecutive_truancy_weeks >= 2", {"withdrawal": {}}),
                    "withdrawal.consecutive_truancy_weeks >= 2")
    # Another action's section (absent at the top level) is none: it reads null.
    assert run("withdrawal.consecutive_truancy_weeks", {}) is None


def test_an_absent_field_of_a_list_element_is_named_by_its_path(run):
    case = {"student": {"suspensions": [{"start": "2024-09-01", "reason": "other"}]}}
    assert _unknown(run("last(student.suspensions).end", case), "student.suspensions[0].end")
    assert _unknown(run("all(s in student.suspensions: s.end is null)", case), "student.suspensions[0].end is null")
    case["student"]["suspensions"][0]["end"] = None
    assert run("all(s in student.suspensions: s.end is null)", case) is True


# --------------------------------------------------------------------------- compiler: list literals (known bugs)
#
# A list literal of constants is compiled to a frozenset (for fast ``in``); every
# other use of it then sees a set: duplicates vanish, order is lost, indexing fails.


def test_len_of_list_literal_counts_duplicates(run):
    assert run("len([1, 1, 2])") == 3


def test_count_over_list_literal_counts_duplicates(run):
    assert run("count(x in [1, 1]: true)") == 2


def test_first_and_last_of_list_literal(run):
    assert (run("first([3, 1, 2])"), run("last([3, 1, 2])")) == (3, 2)


def test_list_equality_with_list_literal(run):
    assert run("transfer.to_school.grade_class_sizes == [50, 50]",
               {"transfer": {"to_school": {"grade_class_sizes": [50, 50]}}}) is True
    assert run("[1, 2] == [2, 1]") is False
