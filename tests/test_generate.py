"""The case generator knows the regulation only through the rule set it is given."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from xueji_policy.engine import default_ruleset
from xueji_policy.generate import case_generator, generated_cases
from xueji_policy.pipeline import load_ruleset
from xueji_policy.privacy import gb11643_valid

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def amended(tmp_path_factory):
    """The shipped rules with another home city and province, another school cap, a later start and
    another document: nothing of the shipped regulation should be left in what is generated."""
    rules = tmp_path_factory.mktemp("amended") / "rules"
    shutil.copytree(ROOT / "rules", rules)
    params = rules / "parameters.yaml"
    text = params.read_text(encoding="utf-8")
    shipped = default_ruleset()
    home_city = shipped.params["home_city"].values[0][1]
    home_province = shipped.params["home_province"].values[0][1]
    cap = shipped.params["school_cap"].values[0][1]
    start = shipped.effective_from
    later = start.replace(year=start.year + 1)
    for old, new in ((f"value: {home_city}}}", "value: 甲乙市}"), (f"value: {home_province}}}", "value: 丙丁省}"),
                     (f"value: {cap}}}", "value: 4321}"), (f"effective_from: {start}", f"effective_from: {later}")):
        assert old in text, old
        text = text.replace(old, new)
    params.write_text(text, encoding="utf-8")
    meta = rules / "ruleset.yaml"
    text = meta.read_text(encoding="utf-8").replace(f"effective_from: {start}", f"effective_from: {later}")
    text = text.replace(f"name: {shipped.name}", "name: 甲乙市学籍规定").replace(f"document: {shipped.document}", "document: 甲发〔1〕1号")
    meta.write_text(text, encoding="utf-8")
    return load_ruleset(rules, cache=False), (home_city, home_province, cap, start, later)


def test_the_generator_reads_places_numbers_and_dates_from_the_rule_set(amended):
    rs, (home_city, home_province, cap, start, later) = amended
    gen = case_generator(rs)
    assert gen.strings["city"] == ["甲乙市"] and gen.strings["province"] == ["丙丁省"]
    assert 4321 in gen.interesting and cap not in gen.interesting
    assert gen.start == later and gen.top > 4321
    assert gen.dates and min(gen.dates) >= later

    cases = list(generated_cases(rs, 200, seed=5))
    assert len(cases) == 200
    text = repr(cases)
    assert home_city not in text and home_province not in text and start.isoformat() not in text
    assert "甲乙市" in text and "丙丁省" in text
    assert all(dt.date.fromisoformat(c["date"]) >= later for c in cases)
    # Both sides of `x.city == params.home_city` are seen.
    cities = {c["student"]["school"]["city"] for c in cases if "city" in c["student"].get("school", {})}
    assert "甲乙市" in cities and cities - {"甲乙市"}


def test_integers_without_a_maximum_reach_past_the_largest_parameter(amended):
    rs, _ = amended
    sizes = [c["student"]["school"]["enrollment"] for c in generated_cases(rs, 300, seed=2)
             if "enrollment" in c["student"].get("school", {})]
    assert sizes and max(sizes) > 4321 and {4320, 4321, 4322} & set(sizes)


def test_the_service_and_the_cli_name_the_regulation_of_the_rule_set_only(amended, capsys):
    from xueji_policy.cli.main import main
    from xueji_policy.server.app import ServerConfig, create_app

    rs, _ = amended
    assert rs.name == "甲乙市学籍规定" and rs.document == "甲发〔1〕1号"
    description = create_app(ServerConfig(rules=str(rs.path))).description
    assert "《甲乙市学籍规定》（甲发〔1〕1号）" in description
    assert default_ruleset().name not in description and str(default_ruleset().document) not in description
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "学籍管理规则引擎" in out and default_ruleset().name not in out


def test_a_resident_id_exactly_where_the_schema_asks_for_one():
    seen = set()
    for case in generated_cases(default_ruleset(), 150, seed=7):
        s = case["student"]
        seen.add(s["id_type"])
        if s["id_type"] == "resident_id":
            assert gb11643_valid(s["id_number"]), s["id_number"]
        else:
            assert not gb11643_valid(s["id_number"])
    assert "resident_id" in seen and len(seen) > 1
