"""Every rule is proven by golden cases; every article is encoded or explained."""

from pathlib import Path

from xueji_policy.coverage import article_coverage
from xueji_policy.engine import default_ruleset
from xueji_policy.golden import run_all

ROOT = Path(__file__).resolve().parent.parent


def test_every_rule_has_an_applying_and_a_non_applying_golden_case():
    rs = default_ruleset()
    report = article_coverage(rs, run_all(ROOT / "cases", rs))
    gaps = [f"{rid}: applies in {a}, does not apply in {b}" for rid, (a, b) in report.rule_cases.items() if 0 in (a, b)]
    assert not gaps, "\n".join(gaps)


def test_every_article_is_encoded_or_explained():
    rs = default_ruleset()
    report = article_coverage(rs, run_all(ROOT / "cases", rs))
    assert not report.index_errors
    labels = {r.label for r in report.rows}
    assert len([r for r in report.rows if not r.key.startswith("annex-")]) == 38 and "附件3" in labels
    problems = [f"{r.label}: {p}" for r in report.rows for p in r.problems if "黄金案例" not in p]
    assert not problems, "\n".join(problems)
