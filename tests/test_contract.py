"""One contract source: the schemas, and what contract.py, models.py and the stages read off them."""

from __future__ import annotations

import ast
import copy
import datetime as dt
import json
import re
import typing
from pathlib import Path

import pytest
from pydantic import ValidationError

from xueji_policy import contract, evaluate, models
from xueji_policy.engine import evaluate_dict
from xueji_policy.golden import run_file
from xueji_policy.models import SchemaModelError, model_from_schema
from xueji_policy.validate import CaseValidator, read_case_file

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "xueji_policy"


def example(action: str) -> dict:
    return json.loads((ROOT / "examples" / f"{action}.json").read_text("utf-8"))


# --------------------------------------------------------------------------- models from the schema


def _literal_values(ann) -> set:
    out: set = set()
    for a in typing.get_args(ann) or ():
        out |= _literal_values(a)
    if typing.get_origin(ann) is typing.Literal:
        out |= set(typing.get_args(ann))
    return out


def test_case_models_have_exactly_the_schema_fields():
    s = contract.case_schema()
    assert list(models.Case.model_fields) == list(s["properties"])
    for name, d in s["$defs"].items():
        if d.get("type") != "object":
            continue
        model = models.SuspensionEntry if name == "Suspension" else getattr(models, name)
        assert list(model.model_fields) == list(d["properties"]), name
        assert {k for k, f in model.model_fields.items() if f.is_required()} == set(d.get("required", ())), name
    for section in contract.sections():
        sub = s["properties"][section]
        model = getattr(models, "".join(w.title() for w in section.split("_")))
        assert list(model.model_fields) == list(sub["properties"]), section
        assert {k for k, f in model.model_fields.items() if f.is_required()} == set(sub.get("required", ())), section


def test_enums_come_from_the_schema():
    s = contract.case_schema()
    assert _literal_values(models.Case.model_fields["action"].annotation) == set(s["properties"]["action"]["enum"])
    assert _literal_values(models.Student.model_fields["status"].annotation) == \
        set(s["$defs"]["Student"]["properties"]["status"]["enum"])
    d = contract.decision_schema()
    assert _literal_values(models.Decision.model_fields["outcome"].annotation) == \
        {v for v in d["properties"]["outcome"]["enum"] if v is not None}
    assert models.ACTION_SECTIONS == s["x-action-sections"]


def test_a_changed_schema_changes_the_models():
    s = copy.deepcopy(contract.case_schema())
    s["$defs"]["School"]["properties"]["level"]["enum"].append("county_model")
    s["properties"]["case_id"]["maxLength"] = 5
    case_model, _ = model_from_schema(s)
    case = {**example("transfer_in"), "case_id": "x"}
    case["transfer"]["to_school"]["level"] = "county_model"
    case_model.model_validate(case)  # the new value is accepted …
    with pytest.raises(ValidationError):
        models.Case.model_validate(case)  # … and not by the shipped contract
    with pytest.raises(ValidationError):
        case_model.model_validate({**example("appeal"), "case_id": "123456"})


@pytest.mark.parametrize("change", [
    lambda s: s["$defs"]["School"]["properties"]["name"].__setitem__("minLength", 1),
    lambda s: s["$defs"]["School"].__setitem__("additionalProperties", True),
    lambda s: s["$defs"]["Student"]["allOf"][0]["then"].__setitem__("else", {}),
])
def test_an_untranslated_schema_keyword_stops_the_generator(change):
    s = copy.deepcopy(contract.case_schema())
    change(s)
    with pytest.raises(SchemaModelError):
        model_from_schema(s)


def test_if_then_rules_are_checked_by_the_models():
    case = example("appeal")
    case["transfer"] = example("transfer_in")["transfer"]  # a section of another action
    with pytest.raises(ValidationError):
        models.Case.model_validate(case)
    case = example("appeal")
    del case["appeal"]
    with pytest.raises(ValidationError):
        models.Case.model_validate(case)
    raw = evaluate_dict(example("transfer_in"))
    with pytest.raises(ValidationError):
        models.Decision.model_validate({**raw, "decision": "deny", "reasons": []})


def test_the_typed_facade_still_works():
    d = evaluate(models.Case.model_validate(example("transfer_in")))
    assert d.decision in contract.decision_labels() and d.to_dict() == evaluate_dict(example("transfer_in"))
    assert d.allowed is (d.decision == "allow") and isinstance(d.reasons, list)


# --------------------------------------------------------------------------- the decision signature


def test_the_decision_signature_is_the_schema():
    required, optional = contract.decision_keys()
    assert list(models.Decision.model_fields) == list(required) + list(optional)
    for action in contract.actions():
        for explain in (False, True):
            d = evaluate_dict(example(action), explain=explain)
            keys = list(d)
            assert keys[:len(required)] == list(required), action  # the engine writes them in this order
            assert set(keys[len(required):]) <= set(optional)


# --------------------------------------------------------------------------- labels


def test_every_enum_label_is_in_the_schemas():
    order, labels = contract.approval_bodies()
    assert set(labels) == set(order)
    assert set(contract.decision_labels()) == {"allow", "deny", "undetermined"}
    assert set(contract.outcome_labels()) == {v for v in contract.decision_schema()["properties"]["outcome"]["enum"] if v}
    assert set(contract.effect_labels()) == {"permit", "forbid", "obligation"}
    from xueji_policy import diff, explain, report

    assert explain.EFFECT_ZH is contract.effect_labels() and explain.APPROVALS_ZH is labels
    assert diff._DECISION_ZH is contract.decision_labels() and report.EFFECT_ZH is explain.EFFECT_ZH


def test_no_python_table_repeats_a_schema_label():
    """A dict literal in the package mapping a schema enum value to its label is a second source."""
    pairs = {(k, v) for m in (contract.approval_bodies()[1], contract.decision_labels(), contract.outcome_labels(),
                              contract.effect_labels(), contract.action_titles()) for k, v in m.items()}
    found = []
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values):
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and (k.value, v.value) in pairs:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {k.value}")
    js = (PKG / "server" / "static" / "app.js").read_text("utf-8")
    found += [f"app.js {k}" for k, v in pairs if re.search(rf"\b{k}\s*:\s*\"{re.escape(v)}\"", js)]
    assert not found


# --------------------------------------------------------------------------- personal data by format


def test_personal_data_is_found_by_format():
    assert contract.id_number_paths() == {("student", "id_number")}
    assert contract.personal_data_paths() == {("student", "id_number"), ("student", "xueji_number")}
    s = copy.deepcopy(contract.case_schema())
    s["$defs"]["School"]["properties"]["name"]["format"] = "gb11643"
    assert ("transfer", "to_school", "name") in contract.personal_data_paths_of(s)


def test_the_validator_never_echoes_a_field_the_schema_marks_personal():
    s = copy.deepcopy(contract.case_schema())
    s["$defs"]["Student"]["properties"]["gender"][contract.PERSONAL_DATA_MARK] = True
    case = example("appeal")
    case["student"]["gender"] = "femalle-secret"
    shown = " ".join(p.message for p in CaseValidator(contract.case_schema()).problems(case))
    hidden = " ".join(p.message for p in CaseValidator(s).problems(case))
    assert "femalle-secret" in shown and "femalle-secret" not in hidden


def test_explain_leaves_out_every_personal_field():
    d = evaluate_dict(example("transfer_in"), explain=True)
    text = json.dumps(d["trace"], ensure_ascii=False)
    assert '"xueji_number"' not in text and '"id_number"' not in text


def test_no_module_names_the_id_field():
    """Only the schema says which field holds the ID number (generate.py is left to its owner)."""
    allowed = {"contract.py", "generate.py"}
    found = [str(p.relative_to(ROOT)) for p in PKG.rglob("*.py")
             if p.name not in allowed and re.search(r"[\"']id_number[\"']", p.read_text("utf-8"))]
    assert not found


# --------------------------------------------------------------------------- one of each helper


@pytest.mark.parametrize("text", ["２０２５-09-01", "20250901", "2025-W36-1", "2025-02-30", "2025-9-01",
                                  "2025-09-01\n", "2025-09-01T00:00", "", None, 20250901])
def test_one_strict_date_parser(text):
    assert contract.parse_day(text) is None and contract.parse_date(text) is None


def test_the_date_parser_bounds_case_years():
    assert contract.parse_day("1899-12-31") == dt.date(1899, 12, 31)
    assert contract.parse_date("1899-12-31") is None and contract.parse_date("2199-12-31") == dt.date(2199, 12, 31)


# Lead-owned modules still to move onto contract.parse_day / contract.did_you_mean (issue 12).
_NOT_YET: set[str] = set()


def test_one_date_parser_and_one_did_you_mean():
    shapes = re.compile(r"\\d\{4\}-\\d\{2\}-\\d\{2\}|\[0-9\]\{4\}-\[0-9\]\{2\}-\[0-9\]\{2\}")
    found = []
    for p in PKG.rglob("*.py"):
        if p.name == "contract.py" or p.name in _NOT_YET:
            continue
        src = p.read_text("utf-8")
        if shapes.search(src) or "get_close_matches" in src:
            found.append(str(p.relative_to(ROOT)))
    assert not found


def test_one_word_for_each_json_type():
    from xueji_policy import shape, validate

    assert shape._JSON_TYPES_ZH is contract.JSON_TYPES_ZH and validate._TYPE_ZH is contract.JSON_TYPES_ZH


def test_contract_imports_no_stage():
    tree = ast.parse((PKG / "contract.py").read_text("utf-8"))
    local = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level}
    assert local == {"privacy"}


# --------------------------------------------------------------------------- one case-file reader


def test_golden_cases_are_read_as_case_files(tmp_path):
    from xueji_policy import default_ruleset

    f = tmp_path / "dup.json"
    case = json.dumps(example("appeal"), ensure_ascii=False)
    f.write_text('{"case": ' + case + ', "expect": {"decision": "allow"}, "expect": {"decision": "deny"}}', "utf-8")
    res = run_file(f, default_ruleset())
    assert not res.ok and "重复" in res.problems[0]  # json.loads would keep the last "expect" silently


def test_read_case_file_is_bounded(tmp_path):
    f = tmp_path / "big.json"
    f.write_bytes(b" " * 100 + b"{}")
    with pytest.raises(Exception) as ei:
        read_case_file(f, max_bytes=50)
    assert getattr(ei.value, "code", None) == "too_large"
    with pytest.raises(Exception) as ei:
        read_case_file(tmp_path / "missing.json")
    assert getattr(ei.value, "code", None) == "unreadable"
