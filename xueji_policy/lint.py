"""Lint: warnings beyond ``check``'s errors, for policy staff reviewing a rule set.

* a parameter no rule uses;
* a rule no golden case exercises (or one that never / always applies in them);
* a permit or forbid whose condition can never hold, or always holds; a permit that never
  matters (shadowed); two permits of one action with different outcomes that can apply to the
  same case — *proved* over every valid case with the SMT solver when ``z3`` is importable
  (verify/lintproofs.py), "未能证明" where the solver gives no answer.  Only where no proof is
  possible (z3 missing, or that rule not proved) the never/always and conflict checks fall back
  to sampling — enumerating enums and booleans on top of the golden and generated cases — and
  such a warning says it was sampled, not proved (``method: "sample"``);
* a number written in a message that a parameter holds (``班额不得超过50人``: write ``{class_cap}``);
* a rule whose cited text changed since it was last reviewed (``reviewed_text_sha256``
  in the rule file; ``lint --accept`` records the current hash after review).
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import itertools
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Location
from .golden import GoldenResult, rule_coverage
from .lang import ast as A
from .lang.kleene import truth
from .lang.types import BOOL, ENUM, Type
from .messages import literal_numbers, show_value
from .privacy import mask_ids_in_text, scrub
from .ruleset import Rule, RuleSet

MAX_COMBOS = 64


@dataclass
class Warning_:
    kind: str
    message: str
    loc: Location | None = None
    rule: str | None = None
    method: str | None = None  # "proof" | "sample" for the checks that can be either


    def render(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        rule = f"[{self.rule}] " if self.rule else ""
        return mask_ids_in_text(f"{where}警告：{rule}{self.message}")  # 第三十二条

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"kind": self.kind, "message": self.message, "rule": self.rule}
        if self.method:
            d["method"] = self.method
        if self.loc:
            d.update(file=self.loc.file, line=self.loc.line, column=self.loc.column)
        return scrub(d)  # type: ignore[return-value]


def cited_text_sha256(rs: RuleSet, rule: Rule) -> str:
    structure = rs.article(rule.article).structure
    assert structure is not None  # only annexes have none, and a rule cites an article
    text = structure.text_of(rule.cite)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rule_loc(rule: Rule) -> Location:
    return Location(rule.file, rule.line, 5)


# --------------------------------------------------------------------------- what a rule reads


def _exprs(rule: Rule) -> list[A.Expr]:
    out = [rule.when_ast]
    if rule.unless_ast is not None:
        out.append(rule.unless_ast)
    if rule.due_ast is not None:
        out.append(rule.due_ast)
    out += [o.when_ast for o in rule.outcomes if o.when_ast is not None]
    return out


def _walk_expanded(e: A.Expr, seen: set[int] | None = None):
    """Every node, named conditions expanded once each (they are shared, not copied)."""
    seen = set() if seen is None else seen
    for node in A.walk(e):
        yield node
        if isinstance(node, A.Path) and node.root == "let" and node.expansion is not None \
                and id(node.expansion) not in seen:
            seen.add(id(node.expansion))
            yield from _walk_expanded(node.expansion, seen)


def params_used(rule: Rule) -> set[str]:
    return {n.parts[1] for e in _exprs(rule) for n in _walk_expanded(e)
            if isinstance(n, A.Path) and n.root == "param"}


def stale_numbers(rs: RuleSet) -> list[Warning_]:
    """A number in a rule's message equal to a value of a parameter the rule reads (else one its
    article sets): written as ``{name}`` it follows the parameter when the number is amended.
    One warning per number and rule."""
    out: list[Warning_] = []
    for r in rs.rules:
        used = params_used(r)
        own = {n for n, p in rs.params.items() if p.cite.article == r.article}
        numbers = dict.fromkeys(n for text in (r.message, r.message_unmet) for n, _ in literal_numbers(text or ""))
        for number in numbers:
            for names in (used, own - used):
                hits = [n for n in sorted(names) if n in rs.params and rs.params[n].type in ("int", "number", "monthday")
                        and any(show_value(v) == number for _, v in rs.params[n].values)]
                if hits:
                    listed = "、".join(f"{n}（{rs.params[n].title}）" for n in hits)
                    out.append(Warning_("number_in_message",
                                        f"消息中的“{number}”与参数 {listed}的取值相同：请写成 {{{hits[0]}}}，"
                                        f"修改参数时消息才会随之改变", _rule_loc(r), r.id))
                    break
    return out


def finite_paths(rule: Rule) -> dict[tuple[str, ...], list]:
    """Case paths the rule reads whose values are finite: enums and booleans (and null if nullable)."""
    out: dict[tuple[str, ...], list] = {}
    for e in _exprs(rule):
        for n in _walk_expanded(e):
            if isinstance(n, A.Path) and n.root == "case" and isinstance(n.type, Type):
                t = n.type
                if t.kind == ENUM:
                    values = list(t.values)
                elif t.kind == BOOL:
                    values = [True, False]
                else:
                    continue
                if t.nullable:
                    values.append(None)
                out[n.parts] = values
    return out


def _set(case: dict, path: tuple[str, ...], value) -> None:
    cur = case
    for k in path[:-1]:
        nxt = cur.get(k)
        if not isinstance(nxt, dict):
            nxt = cur[k] = {}
        cur = nxt
    if value is None:
        cur.pop(path[-1], None)
    else:
        cur[path[-1]] = value


# --------------------------------------------------------------------------- search


class _Search:
    """Applies enumerated enum/boolean values to base cases and evaluates rules."""

    def __init__(self, rs: RuleSet, bases_by_action: dict[str, list[dict]], seed: int = 0):
        self.rs = rs
        self.bases = bases_by_action
        self.rng = random.Random(seed)

    def combos(self, paths: dict) -> list[tuple]:
        keys = list(paths)
        domains = [paths[k] for k in keys]
        total = 1
        for d in domains:
            total *= len(d)
        if total <= MAX_COMBOS:
            return [tuple(zip(keys, c)) for c in itertools.product(*domains)]
        return [tuple((k, self.rng.choice(d)) for k, d in zip(keys, domains)) for _ in range(MAX_COMBOS)]

    def variants(self, actions, paths):
        combos = self.combos(paths) if paths else [()]
        for action in actions:
            for base in self.bases.get(action, []):
                for combo in combos:
                    case = copy.deepcopy(base)
                    for path, value in combo:
                        _set(case, path, value)
                    yield case

    def outcomes(self, rule: Rule, stop_when_both: bool = True) -> set[bool]:
        seen: set[bool] = set()
        for case in self.variants(rule.actions, finite_paths(rule)):
            v = self._applies(rule, case)
            if v is not None:
                seen.add(v)
            if stop_when_both and len(seen) == 2:
                break
        return seen

    def together(self, a: Rule, b: Rule) -> dict | None:
        paths = {**finite_paths(a), **finite_paths(b)}
        actions = [x for x in a.actions if x in b.actions]
        for case in self.variants(actions, paths):
            if self._applies(a, case) and self._applies(b, case):
                return case
        return None

    def _applies(self, rule: Rule, case: dict) -> bool | None:
        try:
            day = _dt.date.fromisoformat(case["date"])
            if not rule.in_force(day):
                return None
            # A variant that leaves a fact the rule reads unstated is no evidence either way (v2).
            return truth(rule.applies(case, self.rs.params_on(day), {}))
        except Exception:  # a variant the rules cannot judge (no calendar, not in force): no evidence
            return None


# --------------------------------------------------------------------------- lint


SAMPLED = "抽样所得（未经证明）："


def proofs_available() -> bool:
    """Whether lint can prove (the ``verify`` extra installs z3-solver)."""
    try:
        import z3  # noqa: F401
    except ImportError:
        return False
    return True


def lint(rs: RuleSet, results: list[GoldenResult], generated: int = 40, seed: int = 0,
         prove: bool | None = None) -> list[Warning_]:
    """``prove``: None — by proof when z3 is importable, else sampled; True — by proof; False — sampled."""
    from .generate import generated_cases

    warnings: list[Warning_] = []
    proved: set[str] = set()  # rules whose never/always question a proof settled (no sampling for them)
    proved_pairs: set[tuple[str, str]] = set()  # permit pairs whose conflict question a proof settled
    if prove is None:
        prove = proofs_available()
    if prove:  # by proof over every valid case (verify/lintproofs.py); "未能证明" where it cannot
        from .verify.lintproofs import prove_rules

        proofs = prove_rules(rs)
        proved, proved_pairs = proofs.settled, proofs.settled_pairs
        warnings += [Warning_(f.kind, f.message, _rule_loc(rs.rule(f.rule)), f.rule, "proof") for f in proofs.findings]

    # Parameters no rule reads.
    used = set().union(*(params_used(r) for r in rs.rules)) if rs.rules else set()
    for name, p in rs.params.items():
        if name not in used:
            warnings.append(Warning_("unused_parameter", f"参数 {name}（{p.title}）没有任何规则使用", p.loc))

    # Numbers a message writes out that a parameter holds: the message would go stale on an amendment.
    warnings += stale_numbers(rs)

    # Rules the golden cases do not exercise.
    cov = rule_coverage(rs, results)
    for r in rs.rules:
        applied, not_applied = cov.get(r.id, (0, 0))
        if applied == 0 and not_applied == 0:
            warnings.append(Warning_("untested_rule", "没有黄金案例检验此规则", _rule_loc(r), r.id))
        elif applied == 0:
            warnings.append(Warning_("untested_rule", f"黄金案例中此规则从未适用（不适用 {not_applied} 例）", _rule_loc(r), r.id))
        elif not_applied == 0 and r.effect != "obligation":
            warnings.append(Warning_("untested_rule", f"黄金案例中此规则总是适用（适用 {applied} 例）", _rule_loc(r), r.id))

    # Dead and vacuous conditions, and conflicting permits.
    bases: dict[str, list[dict]] = {}
    for res in results:
        if res.decision is not None:
            case = _golden_case(res)
            if case is not None:
                bases.setdefault(case["action"], []).append(case)
    for case in generated_cases(rs, generated * max(len(rs.actions), 1), seed=seed):
        bases.setdefault(case["action"], []).append(case)
    search = _Search(rs, bases, seed)
    for r in rs.rules:
        if r.effect == "obligation" or r.id in proved:
            continue
        seen = search.outcomes(r)
        if seen == {False}:
            warnings.append(Warning_("never_applies", SAMPLED + "条件在各枚举值、布尔值的组合下都不成立：此规则可能永不适用",
                                     _rule_loc(r), r.id, "sample"))
        elif seen == {True}:
            warnings.append(Warning_("always_applies", SAMPLED + "条件在各枚举值、布尔值的组合下总是成立：此规则可能总是适用",
                                     _rule_loc(r), r.id, "sample"))
    for action in rs.actions:
        permits = rs.rules_for(action).permits
        for a, b in itertools.combinations(permits, 2):
            oa, ob = {o.value for o in a.outcomes}, {o.value for o in b.outcomes}
            if not oa or not ob or oa == ob or (min(a.id, b.id), max(a.id, b.id)) in proved_pairs:
                continue
            example = search.together(a, b)
            if example is not None:  # a case both apply to: a fact, though found by sampling
                warnings.append(Warning_(
                    "conflicting_permits",
                    f"操作 {action} 的许可规则 {a.id}（结果 {'/'.join(sorted(oa))}）与 {b.id}（结果 {'/'.join(sorted(ob))}）"
                    f"可同时适用于同一案例（抽样找到，如 {example.get('case_id') or example['date']}），结果取决于规则顺序",
                    _rule_loc(b), b.id, "sample"))

    # Cited text changed since review.
    for r in rs.rules:
        current = cited_text_sha256(rs, r)
        if r.reviewed_text_sha256 is None:
            warnings.append(Warning_("unreviewed_cite", f"尚未记录复核时所引条文（{r.cite_text}）的摘要；复核后运行 xueji-policy lint --accept",
                                     _rule_loc(r), r.id))
        elif r.reviewed_text_sha256 != current:
            warnings.append(Warning_("cite_text_changed", f"所引条文（{r.cite_text}）自上次复核后已改动，请复核此规则后运行 xueji-policy lint --accept",
                                     _rule_loc(r), r.id))
    return warnings


def _golden_case(res: GoldenResult) -> dict | None:
    from .errors import XuejiError
    from .validate import read_case_file

    try:
        return read_case_file(res.path)["case"]
    except (XuejiError, KeyError, TypeError):
        return None


def accept_reviews(rs: RuleSet) -> list[str]:
    """Write the current cited-text hash into every rule as ``reviewed_text_sha256``.

    Edits the YAML text in place line by line (comments and layout are kept): the
    hash line goes right after the rule's ``cite:`` line, or replaces an existing one.
    """
    changed: list[str] = []
    by_file: dict[str, list[Rule]] = {}
    for r in rs.rules:
        by_file.setdefault(r.file, []).append(r)
    for shown, rules in by_file.items():
        path = rs.path / Path(shown).name
        lines = path.read_text(encoding="utf-8").split("\n")
        starts = sorted(r.line - 1 for r in rules)
        edits = []
        for r in rules:
            start = r.line - 1
            following = [s for s in starts if s > start]
            end = following[0] if following else len(lines)
            block = range(start, end)
            sha = cited_text_sha256(rs, r)
            existing = next((i for i in block if lines[i].lstrip().startswith("reviewed_text_sha256:")), None)
            cite_line = next((i for i in block if lines[i].lstrip().lstrip("- ").startswith("cite:")), None)
            if existing is not None:
                indent = lines[existing][: len(lines[existing]) - len(lines[existing].lstrip())]
                if lines[existing].strip() != f"reviewed_text_sha256: {sha}":
                    edits.append(("replace", existing, f"{indent}reviewed_text_sha256: {sha}"))
                    changed.append(r.id)
            elif cite_line is not None:
                text = lines[cite_line]
                indent = " " * (len(text) - len(text.lstrip(" -")))
                edits.append(("insert", cite_line + 1, f"{indent}reviewed_text_sha256: {sha}"))
                changed.append(r.id)
        for kind, i, text in sorted(edits, key=lambda e: e[1], reverse=True):
            if kind == "replace":
                lines[i] = text
            else:
                lines.insert(i, text)
        if edits:
            path.write_text("\n".join(lines), encoding="utf-8")
    return changed
