"""Article coverage: is every article of the regulation encoded or explained, and every rule proven?

``rules/index.yaml`` lists each article (and annex) with the rule ids that encode it or a
``non_decisional`` reason.  ``article_coverage`` checks the index against the rule set
(listed ids exist and cite that article; every rule citing an article is listed; every
article of the text appears) and against the golden cases (each rule applies in at
least one and does not apply in at least one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import Location, RuleError, StructureError
from .golden import GoldenResult, rule_coverage
from .load import load_yaml_file
from .privacy import mask_ids_in_text, scrub
from .ruleset import RuleSet


@dataclass
class ArticleRow:
    key: str  # "13" or "annex-1"
    label: str  # 第十三条 / 附件1
    title: str
    rules: list[str]
    non_decisional: str | None
    cases_allow: int = 0
    cases_deny: int = 0
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.title = mask_ids_in_text(self.title)  # index.yaml text (第三十二条)

    @property
    def status(self) -> str:
        if self.problems:
            return "缺失"
        return "已编码" if self.rules else "不作判定"

    def to_dict(self) -> dict:
        return {"article": self.key, "label": self.label, "title": self.title, "rules": self.rules,
                "non_decisional": self.non_decisional, "golden_allow": self.cases_allow,
                "golden_deny": self.cases_deny, "status": self.status, "problems": self.problems}


@dataclass
class CoverageReport:
    rows: list[ArticleRow]
    rule_cases: dict[str, tuple[int, int]]
    index_errors: list[RuleError]

    @property
    def ok(self) -> bool:
        return not self.index_errors and not any(r.problems for r in self.rows)

    def to_dict(self) -> dict:
        return scrub({"ok": self.ok, "articles": [r.to_dict() for r in self.rows],  # type: ignore[return-value]
                      "rules": {k: {"applies": a, "does_not_apply": b} for k, (a, b) in self.rule_cases.items()},
                      "index_errors": [e.to_dict() for e in self.index_errors]})


def load_index(rs: RuleSet) -> tuple[dict[str, dict], list[RuleError]]:
    """``rules/index.yaml`` → {"13": {"rules": [...], "non_decisional": ..., "loc": Location}}."""
    path = rs.path / "index.yaml"
    errors: list[RuleError] = []
    if not path.exists():
        return {}, [StructureError("缺少条文索引 index.yaml", Location(f"{rs.path.name}/index.yaml", 1, 1),
                                   message_en="missing index.yaml")]
    try:
        y = load_yaml_file(path, f"{rs.path.name}/index.yaml")
    except RuleError as e:
        return {}, [e]
    out: dict[str, dict] = {}
    for group, prefix in (("articles", ""), ("annexes", "annex-")):
        section = y.get(group)
        if section is None:
            continue
        if not isinstance(section.value, dict):
            errors.append(StructureError(f"{group} 应为映射", section.loc, message_en=f"{group} must be a mapping"))
            continue
        for key, entry in section.value.items():
            d = entry.value if isinstance(entry.value, dict) else {}
            unknown = set(d) - {"rules", "non_decisional", "note"}
            if unknown or not d:
                errors.append(StructureError(f"{prefix}{key}：应有 rules 或 non_decisional（未知的键：{'、'.join(sorted(unknown))}）",
                                             entry.loc, message_en=f"{prefix}{key}: needs rules or non_decisional"))
            rules = [r.value for r in d["rules"].value] if "rules" in d and isinstance(d["rules"].value, list) else []
            out[f"{prefix}{key}"] = {"rules": rules, "rules_loc": d["rules"].loc if "rules" in d else entry.loc,
                                     "non_decisional": d["non_decisional"].value if "non_decisional" in d else None,
                                     "loc": entry.loc}
    return out, errors


def article_coverage(rs: RuleSet, results: list[GoldenResult]) -> CoverageReport:
    index, errors = load_index(rs)
    by_article: dict[str, list[str]] = {}
    for r in rs.rules:
        by_article.setdefault(str(r.article), []).append(r.id)
    rule_ids = {r.id: r for r in rs.rules}
    rule_cases = rule_coverage(rs, results)
    cases_by_article: dict[str, list[GoldenResult]] = {}
    for res in results:
        cases_by_article.setdefault(res.article, []).append(res)

    def sort_key(k: str):
        return (1, int(k.split("-")[1])) if k.startswith("annex-") else (0, int(k))

    rows = []
    for key in sorted(rs.articles, key=sort_key):
        art = rs.articles[key]
        entry = index.get(key)
        label = art.label
        row = ArticleRow(key, label, art.title, [], None)
        if entry is None:
            row.problems.append("未列入 index.yaml")
        else:
            row.rules = list(entry["rules"])
            row.non_decisional = entry["non_decisional"]
            if not row.rules and not row.non_decisional:
                row.problems.append("既无编码规则，也未说明不作判定的理由")
            for rid in row.rules:
                rule = rule_ids.get(rid)
                if rule is None:
                    row.problems.append(f"索引列出的规则 {rid} 不存在")
                elif not key.startswith("annex-") and str(rule.article) != key:
                    row.problems.append(f"索引列出的规则 {rid} 引用的是{rule.cite.display()}")
        for rid in by_article.get(key, []):
            if entry is not None and rid not in entry["rules"]:
                row.problems.append(f"规则 {rid} 引用本条，但未列入 index.yaml（运行 xueji-policy coverage --write-index）")
        for rid in row.rules:
            applied, not_applied = rule_cases.get(rid, (0, 0))
            if rid in rule_ids and not key.startswith("annex-"):
                if applied == 0:
                    row.problems.append(f"规则 {rid} 没有适用的黄金案例")
                if not_applied == 0:
                    row.problems.append(f"规则 {rid} 没有不适用的黄金案例")
        for res in cases_by_article.get(key, []):
            if res.decision is not None:
                if res.decision["decision"] == "allow":
                    row.cases_allow += 1
                else:
                    row.cases_deny += 1
        rows.append(row)
    for key in index:
        if key not in rs.articles:
            errors.append(StructureError(f"index.yaml 列出的 {key} 没有条文文件", index[key]["loc"],
                                         message_en=f"index lists {key}, which has no article file"))
    for row in rows:  # they name rule ids from the rule files (第三十二条)
        row.problems = [mask_ids_in_text(x) for x in row.problems]
    return CoverageReport(rows, rule_cases, errors)


def write_index(rs: RuleSet) -> Path:
    """Refresh the ``rules:`` lists of index.yaml from the rules, keeping every reason and note."""
    import yaml

    path = rs.path / "index.yaml"
    index, _ = load_index(rs)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    by_article: dict[str, list[str]] = {}
    for r in rs.rules:
        by_article.setdefault(str(r.article), []).append(r.id)
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("#")] if path.exists() else []
    lines.append("articles:")
    articles = (raw or {}).get("articles") or {}
    for key in sorted((k for k in rs.articles if not k.startswith("annex-")), key=int):
        old = articles.get(int(key)) or articles.get(key) or {}
        lines.append(f"  {key}:")
        if by_article.get(key):
            lines.append(f"    rules: [{', '.join(by_article[key])}]")
        if old.get("non_decisional") and not by_article.get(key):
            lines.append(f"    non_decisional: {old['non_decisional']}")
        if old.get("note"):
            lines.append(f"    note: {old['note']}")
        if not by_article.get(key) and not old.get("non_decisional"):
            lines.append("    non_decisional: ''  # 待说明")
    annexes = (raw or {}).get("annexes") or {}
    if annexes:
        lines.append("annexes:")
        for key, old in sorted(annexes.items()):
            lines.append(f"  {key}:")
            if old.get("rules"):
                lines.append(f"    rules: [{', '.join(old['rules'])}]")
            for k in ("non_decisional", "note"):
                if old.get(k):
                    lines.append(f"    {k}: {old[k]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- sub-conditions


@dataclass
class Branch:
    rule: str
    where: str  # "when/1/0": the clause and the operand indices from the top
    expr: str
    true: int = 0
    false: int = 0

    @property
    def covered(self) -> bool:
        return self.true > 0 and self.false > 0

    def to_dict(self) -> dict:
        return {"rule": self.rule, "where": self.where, "expr": self.expr, "true": self.true, "false": self.false,
                "covered": self.covered}


def branch_coverage(rs: RuleSet, results: list[GoldenResult]) -> dict[str, list[Branch]]:
    """Every operand of every ``and``/``or``/``not`` in every rule: seen true and false by the golden cases?"""
    import datetime as _dt

    from .explain import trace

    branches: dict[str, dict[str, Branch]] = {r.id: {} for r in rs.rules}
    for r in rs.rules:  # list every branch, seen or not, in source order
        for clause in ("when", "unless"):
            ast = r.when_ast if clause == "when" else r.unless_ast
            if ast is not None:
                for where, expr in _branch_nodes(ast, clause):
                    branches[r.id][where] = Branch(r.id, where, expr)
    for res in results:
        if res.case is None or res.decision is None:
            continue
        params = rs.params_on(_dt.date.fromisoformat(res.case["date"]))
        for entry in trace(rs, res.case, params, res.decision["decision"] == "allow"):
            for clause in ("when", "unless"):
                if clause in entry:
                    for where, value in _branch_values(entry[clause], clause):
                        b = branches[entry["rule"]].get(where)
                        if b is not None:
                            if value:
                                b.true += 1
                            else:
                                b.false += 1
    return {rid: list(bs.values()) for rid, bs in branches.items()}


def _branch_nodes(e, where: str):
    from .lang import ast as A

    if isinstance(e, A.BoolOp):
        for i, o in enumerate(e.operands):
            yield f"{where}/{i}", A.pretty(o)
            yield from _branch_nodes(o, f"{where}/{i}")
    elif isinstance(e, A.Not):
        yield f"{where}/0", A.pretty(e.operand)
        yield from _branch_nodes(e.operand, f"{where}/0")


def _branch_values(node: dict, where: str):
    """Walks a trace node the way ``_branch_nodes`` walks the AST (named conditions stay opaque)."""
    if "let" in node:
        return
    kids = node.get("children") or []
    if kids and "op" not in node:
        for i, child in enumerate(kids):
            yield f"{where}/{i}", bool(child["value"])
            yield from _branch_values(child, f"{where}/{i}")
