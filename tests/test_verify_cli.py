"""``xueji-policy verify``: the shipped guarantees prove in CI; mistakes are located errors (exit 2)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from xueji_policy.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_properties_prove_from_the_command_line(capsys):
    assert main(["verify", str(ROOT / "rules" / "properties.yaml")]) == 0
    out = capsys.readouterr().out
    m = re.search(r"共 (\d+) 条性质：(\d+) 条已证明", out)
    assert m and m.group(1) == m.group(2) and int(m.group(1)) >= 8
    assert "被反驳 [" not in out and "列表长度 ≤ 4" in out


def test_a_refuted_property_exits_1_with_a_counterexample(tmp_path, capsys):
    p = tmp_path / "p.yaml"
    p.write_text("properties:\n  - id: never\n    action: transfer_in\n    expect: deny\n", encoding="utf-8")
    assert main(["verify", str(p), "--json"]) == 1
    (r,) = json.loads(capsys.readouterr().out)
    assert r["status"] == "refuted" and r["engine_decision"] == "allow" and r["counterexample"]["action"] == "transfer_in"


def test_a_typo_in_given_is_a_located_error(tmp_path, capsys):
    p = tmp_path / "p.yaml"
    p.write_text("properties:\n  - id: typo\n    action: transfer_in\n    given: transfer.to_shcool.enrollment > 1\n"
                 "    expect: deny\n", encoding="utf-8")
    assert main(["verify", str(p)]) == 2
    err = capsys.readouterr().err
    assert f"{p}:4:" in err and "Traceback" not in err


def test_a_bad_date_is_an_error(capsys):
    assert main(["verify", str(ROOT / "rules" / "properties.yaml"), "--date", "2025-13-01"]) == 2
    assert "--date" in capsys.readouterr().err


def test_compare_names_a_stricter_amendment(tmp_path, capsys):
    new = tmp_path / "new"
    shutil.copytree(ROOT / "rules", new)
    text = (new / "parameters.yaml").read_text(encoding="utf-8")
    i = text.index("  class_cap:")
    j = text.index("value: 50", i)
    (new / "parameters.yaml").write_text(text[:j] + "value: 45" + text[j + 9:], encoding="utf-8")
    assert main(["verify", "--compare", str(ROOT / "rules"), str(new), "--action", "transfer_in",
                 "--action", "suspension"]) == 1
    out = capsys.readouterr().out
    assert "transfer_in：更严格（stricter" in out and "suspension：等价（equivalent" in out


def test_explain_repair_lists_changes_and_the_earliest_date(tmp_path, capsys):
    case = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))
    case["date"] = "2025-07-01"
    p = tmp_path / "c.json"
    p.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    assert main(["explain", str(p), "--repair"]) == 1
    out = capsys.readouterr().out
    assert "事实不变时最早可获准的日期：2025-08-18" in out


def test_a_counterexample_the_engine_does_not_confirm_is_reported_as_a_bug(tmp_path, capsys, monkeypatch):
    import xueji_policy.verify.properties as props

    monkeypatch.setattr(props, "engine_decision", lambda rs, case: "deny")  # the engine "disagrees"
    p = tmp_path / "p.yaml"
    p.write_text("properties:\n  - id: never\n    action: transfer_in\n    expect: deny\n", encoding="utf-8")
    assert main(["verify", str(p)]) == 2
    captured = capsys.readouterr()
    assert "证明程序缺陷" in captured.err and "反例" not in captured.out


def test_an_unknown_key_in_a_property_is_located(tmp_path, capsys):
    p = tmp_path / "p.yaml"
    p.write_text("properties:\n  - id: x\n    action: transfer_in\n    expect: deny\n    gven: true\n", encoding="utf-8")
    assert main(["verify", str(p)]) == 2
    err = capsys.readouterr().err
    assert "gven" in err and f"{p}:5:" in err


def test_what_the_encoding_cannot_translate_is_not_proved_never_proved(tmp_path, capsys, monkeypatch):
    from xueji_policy.verify.encode import Encoder, Unsupported

    def refuse(self, e, env):
        raise Unsupported("quantifier")

    monkeypatch.setattr(Encoder, "e_Quant", refuse)
    assert main(["verify", str(ROOT / "rules" / "properties.yaml")]) == 1
    out = capsys.readouterr().out
    assert "未能证明 [no-transfer-into-a-full-grade]" in out


def test_compare_takes_several_actions_and_refuses_an_unknown_one(tmp_path, capsys):
    # An action neither rule set has is a mistake (exit 2, with a did-you-mean), never "equivalent".
    assert main(["verify", "--compare", str(ROOT / "rules"), str(ROOT / "rules"), "--action", "transfer_in",
                 "transfr_out"]) == 2
    assert "'transfer_out'" in capsys.readouterr().err
    assert main(["verify", "--compare", str(ROOT / "rules"), str(ROOT / "rules"), "--action", "sanction",
                 "certificate_reissue", "--json"]) == 0
    assert [c["action"] for c in json.loads(capsys.readouterr().out)] == ["sanction", "certificate_reissue"]
