"""The case and decision schemas, the validator, the pydantic models and the privacy helpers."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from xueji_policy.errors import CaseError
from xueji_policy.lang.types import action_sections, schema_to_type
from xueji_policy.models import ACTION_SECTIONS, Case, Decision, Student
from xueji_policy.privacy import gb11643_check_char, gb11643_valid, mask_id, mask_ids_in_text
from xueji_policy.validate import (
    CaseValidator,
    is_iso_date,
    load_case_schema,
    parse_case_json,
    validate_case,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "xueji_policy" / "schemas"
EXAMPLES = ROOT / "examples"
ACTIONS = list(ACTION_SECTIONS)


def _load(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text("utf-8"))


CASE_SCHEMA = _load("case.schema.json")
DECISION_SCHEMA = _load("decision.schema.json")
VALIDATOR = CaseValidator(CASE_SCHEMA)


def example(action: str) -> dict:
    return json.loads((EXAMPLES / f"{action}.json").read_text("utf-8"))


def problems_of(case) -> list:
    with pytest.raises(CaseError) as ei:
        VALIDATOR.validate(case)
    assert ei.value.code == "invalid_case"
    return ei.value.problems


def paths_of(case) -> set[str]:
    return {p.path for p in problems_of(case)}


def pydantic_accepts(case) -> bool:
    try:
        Case.model_validate(case)
    except ValidationError:
        return False
    return True


def make_id(region: str, birth: str, seq: int) -> str:
    body = f"{region}{birth}{seq:03d}"
    return body + gb11643_check_char(body)


# =========================================================================== schemas


@pytest.mark.parametrize("schema", [CASE_SCHEMA, DECISION_SCHEMA], ids=["case", "decision"])
def test_schemas_are_valid_2020_12(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_packaged_schema_is_the_file_and_a_copy():
    a = load_case_schema()
    assert a == CASE_SCHEMA
    a["properties"].clear()
    assert load_case_schema() == CASE_SCHEMA


def test_case_schema_top_level_shape():
    s = CASE_SCHEMA
    assert s["type"] == "object" and s["additionalProperties"] is False
    assert s["required"] == ["action", "date", "student"]
    assert s["properties"]["action"]["enum"] == ACTIONS
    assert len(ACTIONS) == 15
    assert s["x-action-sections"] == ACTION_SECTIONS
    sections = set(ACTION_SECTIONS.values())
    assert sections == {"registration", "transfer", "suspension", "resumption", "withdrawal", "graduation",
                        "sanction", "revocation", "appeal", "info_change", "reissue", "cancellation"}
    assert set(s["properties"]) == {"case_id", "action", "date", "student"} | sections
    # one if/then rule per action, requiring its section and forbidding the others
    rules = {r["if"]["properties"]["action"]["const"]: r["then"] for r in s["allOf"]}
    assert set(rules) == set(ACTIONS)
    for action, then in rules.items():
        want = ACTION_SECTIONS[action]
        assert then["required"] == [want]
        assert {k for k, v in then["properties"].items() if v is False} == sections - {want}


def _walk(node, path, defs, out):
    """Every schema node reachable through properties / items / anyOf / $defs (not allOf rules)."""
    if not isinstance(node, dict):
        return
    out.append((path, node))
    for k, v in node.get("properties", {}).items():
        _walk(v, f"{path}.{k}", defs, out)
    if "items" in node:
        _walk(node["items"], f"{path}[]", defs, out)
    for i, b in enumerate(node.get("anyOf", [])):
        _walk(b, f"{path}|{i}", defs, out)


def _all_nodes(schema):
    out: list = []
    _walk(schema, "$", schema["$defs"], out)
    for name, d in schema["$defs"].items():
        _walk(d, f"#{name}", schema["$defs"], out)
    return out


@pytest.mark.parametrize("schema", [CASE_SCHEMA, DECISION_SCHEMA], ids=["case", "decision"])
def test_schema_style(schema):
    nodes = _all_nodes(schema)
    for path, node in nodes:
        if path.endswith("trace[]"):
            continue  # free-form trace steps
        t = node.get("type")
        types = t if isinstance(t, list) else [t]
        if "object" in types:
            assert node.get("additionalProperties") is False, path
            assert isinstance(node.get("properties"), dict), path
            for k in node.get("required", []):
                assert k in node["properties"], (path, k)
        if "array" in types:
            assert isinstance(node.get("maxItems"), int), path
        if "string" in types and "enum" not in node:
            assert isinstance(node.get("maxLength"), int) or "pattern" in node, path
        if "$ref" in node:
            assert node["$ref"].startswith("#/$defs/") and node["$ref"][8:] in schema["$defs"], path
    # every property carries a description
    for path, node in nodes:
        for k, v in node.get("properties", {}).items():
            assert isinstance(v, dict) and v.get("description"), f"{path}.{k}"


def test_case_schema_defaults_and_required():
    p = CASE_SCHEMA["properties"]
    d = CASE_SCHEMA["$defs"]
    # v2: no schema default stands in for a fact (an absent key is unknown)
    assert "default" not in d["Student"]["properties"]["gaokao_registered"]
    assert "default" not in d["Student"]["properties"]["suspensions"]
    assert set(d["Student"]["required"]) == {"name", "id_type", "id_number", "status"}
    assert "default" not in p["graduation"]["properties"]["credits_required"]
    assert "credits_required" not in p["graduation"]["required"]
    # Facts inside sections have no default: absent means "not stated" (null), and
    # rules decide only on facts stated (an absent fact is not held against the student).
    assert "default" not in p["registration"]["properties"]["contact_failed"]
    assert "default" not in d["Leave"]["properties"]["has_proof"]
    assert "default" not in p["suspension"]["properties"]["written_application"]
    expected_required = {
        "transfer": {"from_school", "to_school", "reason", "semester_start"},
        "suspension": {"reason", "start"},
        "resumption": {"requested_return"},
        "withdrawal": {"trigger"},
        "graduation": {"study_period_complete", "credits_earned"},
        "sanction": {"level"},
        "revocation": {"level", "decided_on"},
        "appeal": {"stage"},
        "info_change": {"field", "requested_by"},
        "reissue": {"certificate", "previous_reissues"},
        "cancellation": {"death_on"},
        "registration": {"admission", "school_start"},
    }
    for sec, req in expected_required.items():
        assert set(p[sec]["required"]) == req, sec
    # no boolean of a section has a default: an absent fact is unknown
    for sec in expected_required:
        for k, v in p[sec]["properties"].items():
            if v.get("type") == "boolean" and k not in p[sec]["required"]:
                assert "default" not in v, (sec, k)


def test_case_schema_is_readable_by_the_type_checker():
    t = schema_to_type(CASE_SCHEMA)
    assert action_sections(CASE_SCHEMA) == ACTION_SECTIONS
    assert t.field("date").kind == "date"
    assert t.field("student").field("suspensions").elem.field("end").nullable
    assert t.field("student").field("grade").kind == "int"
    assert t.field("registration").field("leave").nullable
    assert t.field("suspension").field("medical_certificate_level").kind == "enum"
    assert t.field("graduation").field("credits_required").nullable  # absent: a parameter supplies it
    assert not t.field("graduation").field("proficiency_exams").has_default
    assert t.field("transfer").field("liaoning_gaokao_eligible").nullable


# =========================================================================== examples


@pytest.mark.parametrize("action", ACTIONS)
def test_examples_are_valid(action):
    path = EXAMPLES / f"{action}.json"
    case = parse_case_json(path.read_bytes())
    assert case["action"] == action
    assert case["date"].startswith("2025-")
    assert VALIDATOR.validate(case) is case
    assert validate_case(case) is case
    m = Case.model_validate(case)
    assert m.section_name == ACTION_SECTIONS[action]
    assert m.section is getattr(m, ACTION_SECTIONS[action])
    assert m.date.year == 2025
    assert gb11643_valid(case["student"]["id_number"])
    assert m.student.id_number not in repr(m)


def test_example_schools_are_local():
    cities = set()
    for action in ACTIONS:
        c = example(action)
        if "school" in c["student"]:
            cities.add(c["student"]["school"]["city"])
    assert "营口市" in cities


# =========================================================================== invalid cases


def _set(case, dotted, value):
    *head, last = dotted.split(".")
    node = case
    for k in head:
        node = node[int(k)] if isinstance(node, list) else node[k]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return case


def _del(case, dotted):
    *head, last = dotted.split(".")
    node = case
    for k in head:
        node = node[k]
    del node[last]
    return case


INVALID = [
    # (id, base example, mutate, expected path, message fragment)
    ("required", "transfer_in", lambda c: _del(c, "transfer.reason"), "$.transfer.reason", "缺少必填字段 'reason'"),
    ("required_student", "appeal", lambda c: _del(c, "student.name"), "$.student.name", "缺少必填字段 'name'"),
    ("required_nested", "transfer_in", lambda c: _del(c, "transfer.to_school.level"),
     "$.transfer.to_school.level", "缺少必填字段"),
    ("required_top", "appeal", lambda c: _del(c, "date"), "$.date", "缺少必填字段 'date'"),
    ("unknown_top", "transfer_in", lambda c: _set(c, "transfr", {}), "$.transfr", "是否应为 'transfer'"),
    ("unknown_nested", "transfer_in", lambda c: _set(c, "transfer.to_school.enrolment", 3),
     "$.transfer.to_school.enrolment", "是否应为 'enrollment'"),
    ("unknown_no_guess", "appeal", lambda c: _set(c, "appeal.zzz", 1), "$.appeal.zzz", "未知字段 'zzz'"),
    ("enum", "appeal", lambda c: _set(c, "student.status", "active"), "$.student.status", "不在允许范围"),
    ("enum_action", "appeal", lambda c: _set(c, "action", "promotion"), "$.action", "不在允许范围"),
    ("type", "transfer_in", lambda c: _set(c, "transfer.to_school.enrollment", "many"),
     "$.transfer.to_school.enrollment", "类型应为整数"),
    ("type_bool", "sanction", lambda c: _set(c, "sanction.fraud_free", True), "$.sanction.fraud_free", "未知字段"),
    ("type_bool2", "sanction", lambda c: _set(c, "sanction.parents_consulted", "yes"),
     "$.sanction.parents_consulted", "类型应为布尔值"),
    ("minimum", "transfer_in", lambda c: _set(c, "transfer.to_school.enrollment", -1),
     "$.transfer.to_school.enrollment", "不小于 0"),
    ("minimum_array_item", "transfer_in", lambda c: _set(c, "transfer.to_school.grade_class_sizes.1", -5),
     "$.transfer.to_school.grade_class_sizes[1]", "不小于 0"),
    ("grade_range", "appeal", lambda c: _set(c, "student.grade", 4), "$.student.grade", "不大于 3"),
    ("date_day", "appeal", lambda c: _set(c, "date", "2025-02-30"), "$.date", "不是有效日期（应为 YYYY-MM-DD）"),
    ("date_slash", "appeal", lambda c: _set(c, "date", "2025/02/01"), "$.date", "不是有效日期"),
    ("date_compact", "appeal", lambda c: _set(c, "date", "20250201"), "$.date", "不是有效日期"),
    ("date_nested_nullable", "appeal", lambda c: _set(c, "appeal.review_decision_received_on", "2025-13-01"),
     "$.appeal.review_decision_received_on", "不是有效日期"),
    ("date_nullable_type", "appeal", lambda c: _set(c, "appeal.review_decision_received_on", 20250606),
     "$.appeal.review_decision_received_on", "类型应为字符串或空值"),
    ("nullable_ref_deep", "registration",
     lambda c: _set(c, "registration.leave", {"requested_on": "2025/09/03", "until": "2025-10-31"}),
     "$.registration.leave.requested_on", "不是有效日期"),
    ("nullable_ref_type", "registration", lambda c: _set(c, "registration.leave", "tomorrow"),
     "$.registration.leave", "类型应为对象或空值"),
    ("maxItems", "suspension_extension",
     lambda c: _set(c, "student.suspensions", [{"start": "2024-03-18", "reason": "illness"}] * 21),
     "$.student.suspensions", "最多 20 个"),
    ("maxLength", "appeal", lambda c: _set(c, "student.name", "张" * 201), "$.student.name", "最多 200 个字符"),
    ("array_item_enum", "transfer_in", lambda c: _set(c, "transfer.materials", ["hukou_proof", "passport"]),
     "$.transfer.materials[1]", "不在允许范围"),
    ("suspension_entry", "suspension_extension", lambda c: _set(c, "student.suspensions.0.reason", "bored"),
     "$.student.suspensions[0].reason", "不在允许范围"),
    ("other_section", "transfer_in", lambda c: _set(c, "suspension", {"reason": "other", "start": "2025-09-01"}),
     "$.suspension", "不属于操作 'transfer_in'"),
    ("missing_section", "transfer_in", lambda c: _del(c, "transfer"), "$.transfer", "操作 'transfer_in' 需要 'transfer' 部分"),
    ("null_section", "appeal", lambda c: _set(c, "appeal", None), "$.appeal", "类型应为对象"),
    ("evaluation_grade", "graduation", lambda c: _set(c, "graduation.evaluation.sports_health", "F"),
     "$.graduation.evaluation.sports_health", "不在允许范围"),
    ("exam_shape", "graduation", lambda c: _set(c, "graduation.proficiency_exams.0", {"subject": "语文"}),
     "$.graduation.proficiency_exams[0].passed", "缺少必填字段 'passed'"),
    ("credits_negative", "graduation", lambda c: _set(c, "graduation.credits_earned", -1),
     "$.graduation.credits_earned", "不小于 0"),
    ("id_pattern", "appeal", lambda c: _set(c, "student.id_number", "21080220080612126"),
     "$.student.id_number", "18位"),
]


@pytest.mark.parametrize("name,base,mutate,path,fragment", INVALID, ids=[x[0] for x in INVALID])
def test_invalid_cases(name, base, mutate, path, fragment):
    case = mutate(example(base))
    problems = problems_of(case)
    at = [p for p in problems if p.path == path]
    assert at, [p.to_dict() for p in problems]
    assert any(fragment in p.message for p in at), [p.to_dict() for p in at]
    for p in problems:
        assert p.message and p.message_en
    # the pydantic model rejects it as well
    assert not pydantic_accepts(case)


def test_wrong_section_and_missing_section_both_reported():
    case = example("transfer_in")
    case["action"] = "suspension"
    problems = problems_of(case)
    msgs = {p.path: p.message for p in problems}
    assert msgs["$.suspension"] == "操作 'suspension' 需要 'suspension' 部分"
    assert "'transfer' 部分不属于操作 'suspension'" in msgs["$.transfer"]


def test_two_problems_at_once():
    case = example("transfer_in")
    case["transfer"]["to_school"]["enrollment"] = -3
    del case["student"]["status"]
    assert paths_of(case) == {"$.transfer.to_school.enrollment", "$.student.status"}


def test_many_problems_reported_in_path_order():
    case = example("suspension_extension")
    case["student"]["suspensions"] = [{"start": "2024-03-18", "reason": "x"}] * 12
    case["date"] = "2025-02-29"
    paths = [p.path for p in problems_of(case)]
    assert paths[0] == "$.date"
    idx = [int(p.split("[")[1].split("]")[0]) for p in paths if "[" in p]
    assert idx == sorted(idx) and len(idx) == 12


@pytest.mark.parametrize("value", [[], [example("appeal")], "case", 3, None, True])
def test_non_object_case(value):
    problems = problems_of(value)
    assert len(problems) == 1
    assert problems[0].path == "$"
    assert "案例必须是 JSON 对象" in problems[0].message


def test_valid_case_returned_unchanged():
    case = example("graduation")
    before = copy.deepcopy(case)
    assert VALIDATOR.validate(case) is case
    assert case == before  # no defaults filled in


def _leaks(err: CaseError, secret: str) -> bool:
    texts = [str(err), err.message, err.message_en, json.dumps(err.to_dict(), ensure_ascii=False),
             json.dumps(err.to_dict())]
    return any(secret in t for t in texts)


def test_wrong_check_digit_reported_without_the_number():
    case = example("appeal")
    good = case["student"]["id_number"]
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    case["student"]["id_number"] = bad
    with pytest.raises(CaseError) as ei:
        VALIDATOR.validate(case)
    err = ei.value
    assert [p.path for p in err.problems] == ["$.student.id_number"]
    assert "身份证号码校验位错误" in err.problems[0].message
    assert "check digit" in err.problems[0].message_en
    assert not _leaks(err, bad)
    assert not _leaks(err, bad[4:14])


def test_bad_birth_date_in_id_reported():
    case = example("appeal")
    bad = make_id("210802", "20090230", 1)
    case["student"]["id_number"] = bad
    problems = problems_of(case)
    assert [p.path for p in problems] == ["$.student.id_number"]
    assert "出生日期" in problems[0].message


def test_id_number_never_echoed_anywhere():
    secret = make_id("210804", "20080101", 321)
    case = example("appeal")
    case["student"]["status"] = secret  # enum error would show the value
    case[secret] = 1  # unknown key: path and message
    case["appeal"]["stage"] = f"见 {secret} 号"
    case["student"]["id_number"] = 12  # type error at id_number
    with pytest.raises(CaseError) as ei:
        VALIDATOR.validate(case)
    err = ei.value
    assert len(err.problems) >= 4
    assert not _leaks(err, secret)
    assert mask_id(secret) in str(err)


def test_foreign_id_not_checked():
    case = example("appeal")
    case["student"]["id_type"] = "foreign"
    case["student"]["id_number"] = "E12345678"
    assert VALIDATOR.validate(case) is case
    assert pydantic_accepts(case)
    case["student"]["id_number"] = "E" * 33
    assert paths_of(case) == {"$.student.id_number"}


def test_lowercase_x_rejected_by_the_schema():
    region, birth = "110105", "19491231"
    good = make_id(region, birth, 2)
    assert good.endswith("X")
    case = example("appeal")
    case["student"]["id_number"] = good
    assert VALIDATOR.is_valid(case)
    case["student"]["id_number"] = good.lower()
    assert paths_of(case) == {"$.student.id_number"}
    assert not pydantic_accepts(case)


# =========================================================================== parsing


def test_parse_case_json_ok():
    assert parse_case_json('{"a": [1, 2.5, "营口"]}') == {"a": [1, 2.5, "营口"]}
    assert parse_case_json(b'{"a": 1}') == {"a": 1}
    assert parse_case_json(b"\xef\xbb\xbf{\"a\": 1}") == {"a": 1}
    assert parse_case_json("\ufeff{\"a\": 1}") == {"a": 1}
    assert parse_case_json("[1]") == [1]  # any JSON value; the validator judges its shape


def _parse_err(data, **kw) -> CaseError:
    with pytest.raises(CaseError) as ei:
        parse_case_json(data, **kw)
    return ei.value


def test_parse_case_json_malformed_has_line_and_column():
    err = _parse_err('{\n  "action": "appeal",\n  "date": 2025-01-01\n}')
    assert err.code == "malformed_json"
    assert err.line == 3 and err.column == 15
    assert "第 3 行第 15 列" in err.problems[0].message
    assert "line 3, column 15" in err.problems[0].message_en
    assert _parse_err('{"a": 1,}').code == "malformed_json"


@pytest.mark.parametrize("data", ["", "   \n", b"", b"\xef\xbb\xbf"])
def test_parse_case_json_empty(data):
    err = _parse_err(data)
    assert err.code == "malformed_json"
    assert "输入为空" in err.problems[0].message


def test_parse_case_json_not_utf8():
    err = _parse_err('{"name": "营口"}'.encode("gbk"))
    assert err.code == "malformed_json"
    assert "UTF-8" in err.problems[0].message and "UTF-8" in err.problems[0].message_en


def test_parse_case_json_too_large():
    big = b'{"a": "' + b"x" * (1 << 20) + b'"}'
    assert _parse_err(big).code == "too_large"
    assert _parse_err(big.decode()).code == "too_large"
    assert _parse_err('{"a": 1}', max_bytes=4).code == "too_large"
    assert parse_case_json('{"a": 1}', max_bytes=8) == {"a": 1}


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 1e999}',
                                  '{"a": 1, "a": 2}', "[" * 200000, '{"a": ' + "9" * 5000 + "}"])
def test_parse_case_json_rejects_odd_json(text):
    assert _parse_err(text).code == "malformed_json"


def test_parse_errors_do_not_echo_ids():
    secret = make_id("210802", "20090514", 22)
    err = _parse_err('{"id": "' + secret + '", "id": 1}')
    assert not _leaks(err, secret)
    err = _parse_err('{"' + secret + '": 1, "' + secret + '": 2}')
    assert not _leaks(err, secret)


def test_is_iso_date():
    assert is_iso_date("2024-02-29")
    for bad in ["2025-02-29", "2025-2-1", "2025/02/01", "20250201", "2025-02-01T00:00", " 2025-02-01", 20250201,
                "２０２５-０２-０１"]:
        assert not is_iso_date(bad), bad


# =========================================================================== agreement


def _mutations(case):
    """Systematic small mutations of a valid case: each yields (label, mutated case)."""
    values = [None, True, -1, 1.5, 2.0, "x" * 201, "2025-02-30", "2025-09-01", {}, [], "other", 0, 3]

    def walk(node, trail):
        if isinstance(node, dict):
            yield trail, node
            for k, v in node.items():
                yield from walk(v, trail + [k])
        elif isinstance(node, list):
            yield trail, node
            for i, v in enumerate(node[:2]):
                yield from walk(v, trail + [i])
        else:
            yield trail, node

    def at(c, trail):
        for k in trail:
            c = c[k]
        return c

    for trail, node in list(walk(case, [])):
        if not trail:
            continue
        parent_trail, key = trail[:-1], trail[-1]
        for v in values:
            c = copy.deepcopy(case)
            at(c, parent_trail)[key] = copy.deepcopy(v)
            yield f"{trail}={v!r:.20}", c
        if isinstance(key, str):
            c = copy.deepcopy(case)
            del at(c, parent_trail)[key]
            yield f"del {trail}", c
        if isinstance(node, dict):
            c = copy.deepcopy(case)
            at(c, trail)["unexpected"] = 1
            yield f"{trail}+unexpected", c
    for sec in set(ACTION_SECTIONS.values()):
        if sec not in case:
            c = copy.deepcopy(case)
            c[sec] = copy.deepcopy(next(example(a)[sec] for a in ACTIONS if ACTION_SECTIONS[a] == sec))
            yield f"+{sec}", c
    for action in ACTIONS:
        c = copy.deepcopy(case)
        c["action"] = action
        yield f"action={action}", c


@pytest.mark.parametrize("action", ACTIONS)
def test_pydantic_and_json_schema_agree(action):
    base = example(action)
    assert VALIDATOR.is_valid(base) and pydantic_accepts(base)
    checked = disagree = 0
    bad = []
    for label, case in _mutations(base):
        checked += 1
        js = VALIDATOR.is_valid(case)
        pd = pydantic_accepts(case)
        if js != pd:
            disagree += 1
            bad.append((label, js, pd))
    assert not bad, bad[:10]
    assert checked > 100


def test_agreement_on_id_numbers():
    for idn, ok in [(make_id("210802", "20090514", 1), True), ("210802200905140011", None),
                    ("2108022009051400", False), ("21080220090514001x", None)]:
        case = example("appeal")
        case["student"]["id_number"] = idn
        js = VALIDATOR.is_valid(case)
        assert js == pydantic_accepts(case), idn
        if ok is not None:
            assert js == ok


# =========================================================================== models


def test_student_repr_and_errors_hide_the_id_number():
    case = example("appeal")
    idn = case["student"]["id_number"]
    s = Student.model_validate(case["student"])
    assert idn not in repr(s) and idn not in str(s)
    assert s.xueji_number and s.xueji_number not in repr(s)
    bad = dict(case["student"], id_number=idn[:17] + ("1" if idn[17] != "1" else "2"))
    with pytest.raises(ValidationError) as ei:
        Student.model_validate(bad)
    assert bad["id_number"] not in str(ei.value)


def test_case_model_defaults():
    c = Case.model_validate(example("appeal"))
    assert c.student.gaokao_registered is None  # v2: unstated, not false
    assert c.registration is None
    g = Case.model_validate(example("graduation")).graduation
    assert g.credits_required is None
    r = Case.model_validate({**example("registration"), "registration": {"admission": "in_plan",
                                                                         "school_start": "2025-09-01"}})
    assert r.registration.contact_failed is None and r.registration.leave is None
    assert r.registration.school_start == dt.date(2025, 9, 1)


def _decision(**kw) -> dict:
    d = {
        "case_id": "2025-TI-0007",
        "action": "transfer_in",
        "decision": "deny",
        "outcome": None,
        "reasons": [{"rule": "transfer.same_city", "article": 13, "paragraph": None, "item": 1, "subitem": 1,
                     "cite": "第十三条第（一）项第1目", "message": "营口市内学校之间不得办理转学。"}],
        "basis": [],
        "obligations": [{"rule": "transfer.deadline", "cite": "第十三条第（三）项", "message": "10个工作日内完成学籍转接。",
                         "due": "2025-09-12", "article": 13, "paragraph": None, "item": 3, "subitem": None}],
        "approvals": ["city_bureau"],
        "ruleset": {"version": "2024.1", "sha256": "ab" * 32},
    }
    d.update(kw)
    return d


def test_decision_model_round_trip():
    dv = Draft202012Validator(DECISION_SCHEMA)
    raw = _decision()
    dv.validate(raw)
    m = Decision.model_validate(raw)
    assert not m.allowed
    out = m.to_dict()
    dv.validate(out)
    assert out["outcome"] is None and "outcome" in out and "case_id" in out
    assert "trace" not in out
    assert out["obligations"][0]["due"] == "2025-09-12"
    assert "paragraph" not in out["obligations"][0] and out["obligations"][0]["item"] == 3
    assert out["reasons"][0]["paragraph"] is None  # Reason fields are all required
    json.dumps(out)

    allow = Decision.model_validate(_decision(decision="allow", outcome="same_grade", reasons=[], case_id=None,
                                              trace=[{"rule": "x", "value": True}]))
    assert allow.allowed
    out = allow.to_dict()
    dv.validate(out)
    assert out["case_id"] is None and out["trace"] == [{"rule": "x", "value": True}]


@pytest.mark.parametrize("change", [
    {"reasons": []},  # deny needs a reason
    {"approvals": ["school", "school"]},
    {"outcome": "promoted"},
    {"decision": "maybe"},
    {"ruleset": {"version": "1", "sha256": "xyz"}},
    {"extra": 1},
    {"trace": None},
])
def test_decision_schema_and_model_agree_on_invalid(change):
    raw = _decision(**change)
    assert not Draft202012Validator(DECISION_SCHEMA).is_valid(raw)
    with pytest.raises(ValidationError):
        Decision.model_validate(raw)


def test_decision_missing_field():
    raw = _decision()
    del raw["outcome"]
    assert not Draft202012Validator(DECISION_SCHEMA).is_valid(raw)
    with pytest.raises(ValidationError):
        Decision.model_validate(raw)


# =========================================================================== privacy


def test_gb11643_valid():
    assert gb11643_valid("11010519491231002X")  # the standard's own example
    assert gb11643_valid("11010519491231002x")
    assert gb11643_valid("440524188001010014")
    assert not gb11643_valid("110105194912310021")  # wrong check digit
    assert not gb11643_valid("11010519491331002X")  # month 13 (check digit recomputed below)
    assert not gb11643_valid(make_id("110105", "19490229", 2))  # not a leap year
    assert gb11643_valid(make_id("110105", "20000229", 2))
    assert not gb11643_valid("11010519491231002")  # 17 characters
    assert not gb11643_valid("1101051949123100２X")  # non-ASCII digit
    assert not gb11643_valid("")
    assert not gb11643_valid(None)  # type: ignore[arg-type]
    for i in range(50):
        idn = make_id("210802", "20080315", i)
        assert gb11643_valid(idn)
        wrong = idn[:17] + next(c for c in "0123456789X" if c != idn[17])
        assert not gb11643_valid(wrong)


def test_mask_id():
    assert mask_id("21080220080315123X") == "2108**********123X"
    assert mask_id("210802080315123") == "2108*******5123"
    assert mask_id("12345678") == "********"
    assert mask_id("123") == "***"
    assert mask_id("") == ""
    assert mask_id("123456789") == "1234*6789"


def test_mask_ids_in_text():
    a = "21080220080315123X"
    b = "210802080315123"
    assert mask_ids_in_text(f"身份证{a}有误") == "身份证2108**********123X有误"
    assert mask_ids_in_text(f"{b}") == "2108*******5123"
    assert mask_ids_in_text(f"{a.lower()}, {b}") == "2108**********123x, 2108*******5123"
    assert mask_ids_in_text("学籍号G" + a) == "学籍号G2108**********123X"
    # a longer digit run may hide an ID number (case_id "<ID>2025"): masked too (issue 10)
    assert mask_ids_in_text("1234567890123456789") == "1234***********6789"
    assert mask_ids_in_text("1234567890123456") == "1234********3456"
    assert mask_ids_in_text("12345678901234") == "12345678901234"
    assert mask_ids_in_text("日期 2025-09-01，班额 50") == "日期 2025-09-01，班额 50"
    assert mask_ids_in_text("") == ""
