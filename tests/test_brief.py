"""The brief explanation (issue 15): only the deciding rules, each one Chinese sentence with the
facts and computed dates that decided it, in the schema's Chinese words."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import cases

from xueji_policy import evaluate
from xueji_policy.brief import brief_text
from xueji_policy.engine import evaluate_dict
from xueji_policy.errors import XuejiError
from xueji_policy.lang import ast as A

ROOT = Path(__file__).resolve().parent.parent
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CJK = re.compile(r"[\u4e00-\u9fff]")
# What a parent should never read: condition syntax, rule-language names, English identifiers.
SYNTAX = re.compile(r"params\.|coalesce|add_days|==|!=|>=|<=|\b[a-z]+_[a-z_]+\b|\btrue\b|\bfalse\b|\bnull\b")


def _shipped_cases() -> list[tuple[str, dict]]:
    out = [(p.stem, json.loads(p.read_text(encoding="utf-8"))) for p in sorted((ROOT / "examples").glob("*.json"))]
    for n, line in enumerate((ROOT / "examples" / "batch.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            out.append((f"batch-{n}", json.loads(line)))
    return out


SHIPPED = _shipped_cases()
DENIED = [(name, c) for name, c in SHIPPED if evaluate_dict(c)["decision"] == "deny"]


def example(name: str) -> dict:
    return json.loads((ROOT / "examples" / f"{name}.json").read_text(encoding="utf-8"))


def _reads_dates(rs, rule_id: str) -> bool:
    r = rs.rule(rule_id)
    asts = [r.when_ast] + ([r.unless_ast] if r.unless_ast is not None else [])
    return any(getattr(n.type, "kind", None) == "date" for e in asts for n in A.walk(e))


def test_a_shipped_example_is_denied_on_dates():
    assert any(name == "transfer_in_late" for name, _ in DENIED)


@pytest.mark.parametrize("name,case", DENIED, ids=[n for n, _ in DENIED])
def test_every_shipped_deny_reads_as_chinese_with_its_dates(name, case):
    from xueji_policy.engine import default_ruleset

    d = evaluate_dict(case, explain="brief")
    assert [b["rule"] for b in d["brief"]] == [r["rule"] for r in d["reasons"]]
    for b in d["brief"]:
        text = b["text"]
        assert CJK.search(text) and text.endswith(f"（{b['cite']}）"), text
        assert not SYNTAX.search(text), text
        if _reads_dates(default_ruleset(), b["rule"]):  # a rule deciding on dates shows them
            assert len(DATE.findall(text)) >= 2, text


def test_the_late_transfer_golden_brief():
    d = evaluate_dict(example("transfer_in_late"), explain="brief")
    # window_end is named by the rule's terms (data), its computation spelled out beside it
    assert [b["text"] for b in d["brief"]] == [
        "开始办理转学手续之日 2026-03-11（申请日期 2026-03-11） 晚于 学期开学后两周的最后一天 2026-03-10（学期开学日 2026-02-24 后 14 天）（第十三条第（一）项第6目）",
        "开始办理转学手续之日 2026-03-11（申请日期 2026-03-11） 晚于 学期开学后两周的最后一天 2026-03-10（学期开学日 2026-02-24 后 14 天）（第十三条第（三）项）",
    ]
    assert brief_text(d).splitlines()[0] == "不予办理转入。"


def test_an_early_transfer_names_the_first_day_of_the_window():
    case = example("transfer_in")
    case["date"] = "2025-08-10"
    texts = [b["text"] for b in evaluate_dict(case, explain="brief")["brief"]]
    assert texts == ["开始办理转学手续之日 2025-08-10（申请日期 2025-08-10） 早于 学期开学前两周的第一天 2025-08-18（学期开学日 2025-09-01 前 14 天）"
                     "（第十三条第（三）项）"]


def test_without_terms_the_computation_is_spelled_out(tmp_path):
    from xueji_policy.pipeline import load_ruleset

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    f = rules / "13.yaml"
    f.write_text("\n".join(line for line in f.read_text(encoding="utf-8").splitlines()
                           if not line.strip().startswith("terms:")) + "\n", encoding="utf-8")
    d = evaluate_dict(example("transfer_in_late"), ruleset=load_ruleset(rules), explain="brief")
    assert d["brief"][1]["text"] == "申请日期 2026-03-11 晚于 学期开学日 2026-02-24 后 14 天（2026-03-10）（第十三条第（三）项）"


def test_a_term_must_name_a_let(tmp_path):
    from xueji_policy.errors import RuleSetError
    from xueji_policy.pipeline import load_ruleset

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    f = rules / "13.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("window_end: 学期开学后", "window_ends: 学期开学后", 1),
                 encoding="utf-8")
    with pytest.raises(RuleSetError) as e:
        load_ruleset(rules)
    text = str(e.value) + "".join(f"{x}" for x in getattr(e.value, "errors", []))
    assert "terms 中的 'window_ends' 不是命名条件（let）" in text and "window_end" in text


GOLDEN = [
    # (what changes in the allowed transfer, the expected brief lines)
    ({"transfer.to_school.grade_class_sizes": [50, 52]},
     ["转入学校的相关年级各班人数的项数 2 大于 0；转入学校的相关年级各班人数 50、52 均达到 班额上限 50人（第十三条第（一）项第4目）"]),
    ({"transfer.to_school.enrollment": 3000},
     ["转入学校的在校学生人数 3000 达到 校额上限 3000人（第十三条第（一）项第4目）"]),
    ({"transfer.materials": ["application_and_pledge", "hukou_proof", "id_card", "school_level_proof", "study_record",
                             "guardian_work_proof"]},
     ["已提交的申请材料不含房照或固定居住证明（第十三条第（三）项）"]),
    ({"student.gaokao_registered": True}, ["已报名参加高考：是（第十三条第（一）项第5目）"]),
    ({"transfer.from_school.city": "营口市", "student.school.city": "营口市"},
     ["转出学校的所在城市 营口市 为 本市 营口市；转入学校的所在城市 营口市 为 本市 营口市（第十三条第（一）项第1目）"]),
]


def _with(case: dict, changes: dict) -> dict:
    case = copy.deepcopy(case)
    for path, value in changes.items():
        *head, last = path.split(".")
        node = case
        for step in head:
            node = node[step]
        node[last] = value
    return case


@pytest.mark.parametrize("changes,lines", GOLDEN, ids=[next(iter(c)) for c, _ in GOLDEN])
def test_golden_briefs(changes, lines):
    d = evaluate_dict(_with(example("transfer_in"), changes), explain="brief")
    assert d["decision"] == "deny"
    assert [b["text"] for b in d["brief"]] == lines


def test_a_failed_permit_names_the_fact_in_its_chinese_label():
    d = evaluate_dict(_with(example("transfer_in"), {"transfer.reason": "other"}), explain="brief")
    texts = {b["rule"]: b["text"] for b in d["brief"]}
    assert texts["transfer.grounds"] == \
        "转学原因 其他 不属于（户籍迁移、实际居住地迁移、父母或其他法定监护人工作调动）（第十三条第（一）项）"


def test_an_enum_fact_reads_in_chinese():
    d = evaluate_dict(example("info_change"), explain="brief")
    assert [b["text"] for b in d["brief"]] == [
        "证件类型为居民身份证；拟修改的信息 姓名 属于（姓名、性别、民族、出生年月、身份证号码、照片）（第六条）"]


@pytest.mark.parametrize("name,case", [(n, c) for n, c in SHIPPED if not n.startswith("batch")],
                         ids=[n for n, _ in SHIPPED if not n.startswith("batch")])
def test_an_allow_gives_its_basis(name, case):
    d = evaluate_dict(case, explain="brief")
    assert [b["rule"] for b in d["brief"]] == [r["rule"] for r in (d["reasons"] if d["decision"] == "deny"
                                                                   else d["basis"])]
    assert all(CJK.search(b["text"]) and not SYNTAX.search(b["text"]) for b in d["brief"]), d["brief"]


def test_the_python_api_keeps_true_and_full():
    case = example("transfer_in_late")
    brief = evaluate(case, explain="brief")
    assert brief.brief and brief.brief[0].cite == "第十三条第（一）项第6目" and brief.trace is None
    assert brief.to_dict()["brief"] == evaluate_dict(case, explain="brief")["brief"]
    for mode in (True, "full"):
        d = evaluate(case, explain=mode)
        assert d.trace and d.brief is None
    assert "brief" not in evaluate(case).to_dict()


def test_explain_brief_on_the_command_line():
    proc = subprocess.run([sys.executable, "-m", "xueji_policy", "explain", "--brief", "examples/transfer_in_late.json"],
                          capture_output=True, cwd=ROOT, timeout=120)
    out = proc.stdout.decode()
    assert proc.returncode == 1, proc.stderr.decode()
    assert out.startswith("不予办理转入。\n原因：\n· ")
    assert "开始办理转学手续之日 2026-03-11（申请日期 2026-03-11） 晚于 学期开学后两周的最后一天 2026-03-10（学期开学日 2026-02-24 后 14 天）（第十三条第（三）项）" in out
    assert "条件：" not in out and "transfer." not in out  # not the full trace
    proc = subprocess.run([sys.executable, "-m", "xueji_policy", "explain", "--brief", "--format", "json",
                           "examples/transfer_in.json"], capture_output=True, cwd=ROOT, timeout=120)
    d = json.loads(proc.stdout)
    assert proc.returncode == 0 and d["brief"][0]["rule"] == "transfer.grounds" and "trace" not in d


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(cases())
def test_every_decided_case_has_a_brief_in_chinese(case):
    try:
        d = evaluate_dict(case, explain="brief")
    except XuejiError:
        return
    deciding = d["reasons"] if d["decision"] != "allow" else d["basis"]
    assert [b["rule"] for b in d["brief"]] == [r["rule"] for r in deciding]
    for b in d["brief"]:
        assert CJK.search(b["text"]) and b["text"].endswith(f"（{b['cite']}）")
        # the sentence comes from the rule's condition, not the fallback (its message alone)
        assert not b["text"].startswith(b["message"]), b


def test_an_undetermined_decision_names_the_missing_facts_in_chinese():
    # contract v2 (three-valued facts): the brief text names what is still to be stated
    d = {"action": "suspension", "decision": "undetermined", "reasons": [], "basis": [], "obligations": [],
         "approvals": [], "needs": [{"path": "suspension.written_application", "rules": ["x"], "cites": ["第十四条第（二）项"]}]}
    text = brief_text(d)
    assert text.startswith("尚不能决定是否办理休学。") and "尚需查明：监护人已提出书面申请（第十四条第（二）项）" in text


def test_no_golden_case_brief_shows_condition_syntax():
    """Over every golden case of every article: the sentences are Chinese, never the rule language."""
    from xueji_policy.validate import read_case_file

    leaks, n = [], 0
    for p in sorted((ROOT / "cases").glob("*/*.json")):
        doc = read_case_file(p)
        case = doc.get("case", doc) if isinstance(doc, dict) else doc
        try:
            d = evaluate_dict(case, explain="brief")
        except XuejiError:
            continue
        for b in d["brief"]:
            n += 1
            if SYNTAX.search(b["text"]) or not CJK.search(b["text"]) or "列表" in b["text"]:
                leaks.append(f"{p.parent.name}/{p.name} {b['rule']}: {b['text']}")
    assert n > 200 and not leaks, leaks[:10]


def test_an_item_picked_from_a_list_is_named_so():
    case = json.loads((ROOT / "examples" / "resumption.json").read_text(encoding="utf-8"))
    case["resumption"]["medical_certificate_level"] = "township"
    case["student"]["suspensions"][-1]["reason"] = "illness"
    d = evaluate_dict(case, explain="brief")
    texts = {b["rule"]: b["text"] for b in d["brief"]}
    assert texts["resumption.medical_certificate"] == \
        "历次休学（最后一项）的休学原因为因病；诊断证明出具单位级别 乡镇 不属于（县级、市级、省级）（第十四条第（四）项）"
