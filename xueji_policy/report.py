"""The rule set as one self-contained HTML page, article by article, for policy staff.

Each article: its original text; beside it the rules that encode it (condition shown
readably, with the reading), their golden cases with pass/fail, rule and sub-condition
coverage, and the parameters it sets with their dated values.  No server, no network:
styles are inline and the page uses the reader's installed Chinese fonts.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from .coverage import article_coverage, branch_coverage
from .explain import APPROVALS_ZH, EFFECT_ZH, readable_lines
from .golden import GoldenResult, rule_coverage
from .privacy import scrub
from .ruleset import Article, RuleSet


def _text_blocks(art: Article) -> list[dict]:
    """The article's lines, tagged as heading / paragraph / item / subitem for indentation."""
    s = art.structure
    if s is None:
        return [{"kind": "p", "text": line} for line in art.text.splitlines() if line.strip()]
    kinds: dict[int, str] = {}
    for p in s.paragraphs:
        for i in p.lines:
            kinds.setdefault(i, "p")
        for item in p.items:
            for i in item.lines:
                kinds[i] = "item"
            for sub in item.subitems:
                for i in sub.lines:
                    kinds[i] = "subitem"
        for sub in p.subitems:
            for i in sub.lines:
                kinds[i] = "subitem"
    return [{"kind": kinds.get(i, "heading"), "text": line} for i, line in enumerate(s.lines)]


def build_context(rs: RuleSet, results: list[GoldenResult]) -> dict:
    cov = article_coverage(rs, results)
    per_rule = rule_coverage(rs, results)
    branches = branch_coverage(rs, results)
    rows = {r.key: r for r in cov.rows}
    results_by_article: dict[str, list[GoldenResult]] = {}
    for res in results:
        results_by_article.setdefault(res.article, []).append(res)

    # Messages naming parameters ({class_cap}) read with the values in force on the day of the report.
    today = max(_dt.date.today(), rs.effective_from)
    values_now = rs.params_on(today)
    articles = []
    for key, row in rows.items():
        art = rs.articles[key]
        rules = []
        for rid in row.rules:
            try:
                r = rs.rule(rid)
            except KeyError:
                continue
            bs = branches.get(rid, [])
            shown = rs.rendered(r, values_now)
            rules.append({
                "id": r.id, "cite": r.cite_text, "effect": r.effect, "effect_zh": EFFECT_ZH[r.effect],
                "actions": r.actions, "message": shown.message, "message_unmet": shown.message_unmet,
                "template": r.message if r.templated else None,
                "when": readable_lines(r.when_ast), "unless": readable_lines(r.unless_ast) if r.unless_ast else None,
                "due": r.due_src, "outcomes": [(o.value, o.when_src) for o in r.outcomes],
                "approvals": [APPROVALS_ZH.get(a, a) for a in r.approvals], "reading": r.reading,
                "applies": per_rule.get(rid, (0, 0))[0], "does_not_apply": per_rule.get(rid, (0, 0))[1],
                "branches_total": len(bs), "branches_covered": sum(b.covered for b in bs),
                "uncovered": [b.expr for b in bs if not b.covered],
                "elsewhere": str(r.article) != key,
            })
        cases: list[dict[str, Any]] = [{"name": res.path.name, "ok": res.ok, "problems": res.problems,
                  "decision": (res.decision or {}).get("decision"),
                  "description": _description(res)} for res in results_by_article.get(key, [])]
        params = [{"name": p.name, "title": p.title, "unit": p.unit or "", "cite": p.cite.display(),
                   "history": [(d.isoformat(), _show(v), p.source_of(i)) for i, (d, v) in enumerate(p.values)],
                   "note": p.note}
                  for p in rs.params.values() if art.number is not None and p.cite.article == art.number]
        articles.append({"key": key, "label": art.label, "title": art.title, "chapter": art.chapter,
                         "blocks": _text_blocks(art), "rules": rules, "cases": cases, "params": params,
                         "status": row.status, "problems": row.problems, "non_decisional": row.non_decisional,
                         "passed": sum(c["ok"] for c in cases), "failed": sum(not c["ok"] for c in cases)})
    return {
        "name": rs.name, "document": rs.document, "version": rs.version, "sha256": rs.sha256,
        "effective_from": rs.effective_from.isoformat(), "generated": _dt.date.today().isoformat(),
        "articles": articles, "n_rules": len(rs.rules), "n_cases": len(results),
        "n_failed": sum(not r.ok for r in results), "coverage_ok": cov.ok,
    }


def _show(v) -> str:
    if isinstance(v, tuple) and len(v) == 2:  # month-day
        return f"{v[0]}月{v[1]}日"
    return str(v)


def _description(res: GoldenResult) -> str:
    import json

    try:
        return json.loads(res.path.read_text(encoding="utf-8")).get("description", "")
    except (OSError, ValueError):
        return ""


def render(rs: RuleSet, results: list[GoldenResult]) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("xueji_policy", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    # 第三十二条, once for the page: rule text, literals, case file names, problems.
    context: dict = scrub(build_context(rs, results))  # type: ignore[assignment]
    return env.get_template("report.html.j2").render(**context)


def write_report(rs: RuleSet, results: list[GoldenResult], out: Path) -> Path:
    out.write_text(render(rs, results), encoding="utf-8")
    return out

