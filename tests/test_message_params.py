"""Messages naming parameters (issue 15): ``班额不得超过{class_cap}人`` says the value in force.

The golden test: the documented amendment of 班额 50 → 45 (a new dated value in
``rules/parameters.yaml``, docs/zh/修改数字与规则.md) changes the deny message to 45 without
touching a rule."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xueji_policy.engine import evaluate_dict
from xueji_policy.errors import RuleSetError
from xueji_policy.messages import TemplateError, literal_numbers, placeholders, render
from xueji_policy.pipeline import load_ruleset

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "zh" / "修改数字与规则.md"


def documented_amendment() -> str:
    """The line the staff guide tells you to add under class_cap's values."""
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"^\s*- \{effective_from: (\d{4}-\d\d-\d\d), value: 45\b[^\n]*\}$", text, re.M)
    assert m, "the guide no longer shows the 班额 50 → 45 amendment"
    return m.group(0).strip()


def amend_class_cap(rules: Path, line: str) -> None:
    p = rules / "parameters.yaml"
    text = p.read_text(encoding="utf-8")
    anchor = "  class_cap:\n"
    head, tail = text.split(anchor, 1)
    block_end = tail.index("      - {effective_from: 2024-08-16, value: 50}\n") + len(
        "      - {effective_from: 2024-08-16, value: 50}\n")
    tail = tail[:block_end] + "      " + line + "\n" + tail[block_end:]
    p.write_text(head + anchor + tail, encoding="utf-8")


def transfer(date: str, semester_start: str) -> dict:
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    case["date"] = date
    case["transfer"]["semester_start"] = semester_start
    case["transfer"]["to_school"]["grade_class_sizes"] = [46, 47, 45, 48]
    return case


def test_class_cap_50_to_45_changes_the_deny_message(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    before = (rules / "13.yaml").read_bytes(), (rules / "4.yaml").read_bytes()
    amend_class_cap(rules, documented_amendment())
    rs = load_ruleset(rules, cache=False)
    assert ((rules / "13.yaml").read_bytes(), (rules / "4.yaml").read_bytes()) == before  # no rule touched

    # Before the amendment: every class under 50, not full.
    old = evaluate_dict(transfer("2026-08-24", "2026-09-01"), ruleset=rs)
    assert old["decision"] == "allow", old["reasons"]
    # After it, the same classes (all ≥ 45) are full, and the message says 45.
    new = evaluate_dict(transfer("2026-09-07", "2026-09-01"), ruleset=rs)
    assert new["decision"] == "deny"
    (reason,) = [r for r in new["reasons"] if r["rule"] == "transfer.target_full"]
    assert "45人" in reason["message"] and "50" not in reason["message"], reason["message"]
    assert "{" not in reason["message"]
    # A full school before the amendment still reads 50.
    full = transfer("2026-08-24", "2026-09-01")
    full["transfer"]["to_school"]["grade_class_sizes"] = [50, 51]
    (reason,) = [r for r in evaluate_dict(full, ruleset=rs)["reasons"] if r["rule"] == "transfer.target_full"]
    assert "班额已满50人" in reason["message"]


def test_report_shows_the_amendments_source_and_note(tmp_path):
    from xueji_policy.report import build_context

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    line = documented_amendment()
    amend_class_cap(rules, line)
    ctx = build_context(load_ruleset(rules, cache=False), [])
    (p,) = [p for a in ctx["articles"] for p in a["params"] if p["name"] == "class_cap"]
    source = re.search(r"source: ([^,}]+)", line)
    assert source and any(h[2] == source.group(1).strip() for h in p["history"]), p
    assert p["note"]
    (r,) = [r for a in ctx["articles"] for r in a["rules"] if r["id"] == "registration.class_cap"]
    assert "班额不得超过45人" in r["message"] or "班额不得超过50人" in r["message"]


def test_shipped_obligation_and_explain_are_rendered():
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    d = evaluate_dict(case, explain=True)
    texts = [o["message"] for o in d["obligations"]] + [e["message"] for e in d["trace"]]
    assert any("10个工作日" in t for t in texts)
    assert not any("{" in t for t in texts), [t for t in texts if "{" in t]


def test_no_shipped_message_leaves_a_placeholder():
    rs = load_ruleset()
    for day in rs.stretch_days():
        params = rs.params_on(day)
        for r in rs.rules:
            rendered = rs.rendered(r, params)
            assert "{" not in rendered.message and "{" not in (rendered.message_unmet or ""), r.id


def test_rendering_is_once_per_rule_and_values():
    rs = load_ruleset()
    r = next(r for r in rs.rules if r.templated)
    params = rs.params_on(rs.effective_from)
    assert rs.rendered(r, params) is rs.rendered(r, dict(params))
    plain = next(r for r in rs.rules if not r.templated)
    assert rs.rendered(plain, params) is plain


@pytest.mark.parametrize("text, offset", [("班额{class_cap人", 2), ("班额}", 2), ("{}", 0), ("{ 1x }", 2),
                                          ("{a{b}", 0)])
def test_malformed_braces(text, offset):
    with pytest.raises(TemplateError) as info:
        placeholders(text)
    assert info.value.offset == offset
    assert re.search(r"[\u4e00-\u9fff]", info.value.message_zh)


def test_render_values_and_escapes():
    params = {"class_cap": 45, "deadline": (10, 31), "credits": 144.0, "on": True}
    assert render("{{班额}}≤{class_cap}人，{deadline}前，{credits}学分，{on}", params) == \
        "{班额}≤45人，10月31日前，144学分，是"


@given(st.text(alphabet=st.sampled_from(list("ab{}班 _1")), max_size=30))
def test_placeholders_never_crash(text):
    try:
        names = placeholders(text)
    except TemplateError as e:
        assert 0 <= e.offset < len(text)
    else:
        out = render(text, {n: 7 for n, _ in names})
        assert out.count("7") >= len(names)


def test_literal_numbers_skip_placeholders():
    assert [n for n, _ in literal_numbers("班额{class_cap}不得超过50人，10月31日前")] == ["50", "10月31日"]


def test_unknown_placeholder_is_a_located_error(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    p = rules / "4.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("{class_cap}", "{class_capp}"), encoding="utf-8")
    with pytest.raises(RuleSetError) as info:
        load_ruleset(rules, cache=False)
    (e,) = info.value.errors
    assert "未知参数 '{class_capp}'" in e.message and e.hint == "是否应为 '{class_cap}'？"
    line = p.read_text(encoding="utf-8").splitlines()[e.loc.line - 1]
    assert line[e.loc.column - 1:].startswith("class_capp}")


def test_cached_rule_set_renders_alike(tmp_path, monkeypatch):
    monkeypatch.setenv("XUEJI_POLICY_CACHE_DIR", str(tmp_path / "cache"))
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    amend_class_cap(rules, documented_amendment())
    first = load_ruleset(rules)
    second = load_ruleset(rules)  # from the cache
    case = transfer("2026-09-07", "2026-09-01")
    assert evaluate_dict(copy.deepcopy(case), ruleset=first)["reasons"] == \
        evaluate_dict(copy.deepcopy(case), ruleset=second)["reasons"]
    assert second.params["class_cap"].sources == first.params["class_cap"].sources


def test_lint_warns_on_a_number_a_parameter_holds(tmp_path):
    from xueji_policy.lint import stale_numbers

    assert stale_numbers(load_ruleset()) == []  # every shipped message names its parameters
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    p = rules / "4.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("班额不得超过{class_cap}人", "班额不得超过50人"), encoding="utf-8")
    (w,) = stale_numbers(load_ruleset(rules, cache=False))
    assert w.kind == "number_in_message" and w.rule == "registration.class_cap"
    assert "“50”" in w.message and "{class_cap}" in w.message


def test_a_rendered_rule_is_finished_text():
    rs = load_ruleset()
    r = next(r for r in rs.rules if r.templated)
    params = rs.params_on(rs.effective_from)
    done = rs.rendered(r, params)
    assert not done.templated and rs.rendered(done, params) is done
    assert rs.message(done, params) == done.message == rs.message(r, params)
