"""Golden cases: ``cases/<article>/<name>.json`` files that prove each rule.

A golden file is ``{"case": {…}, "expect": {…}}`` where ``expect`` holds

* ``decision``: ``allow`` | ``deny`` | ``undetermined``;
* ``needs`` (optional): paths of unstated facts that must be among the decision's ``needs``
  (on undetermined, ``cites``/``rules`` are matched against the undecided rules);
* ``outcome`` (optional): the expected outcome, ``null`` included;
* ``cites``: cite strings that must appear among the reasons (deny) or the basis (allow);
* ``rules`` (optional): rule ids that must appear there;
* ``obligations`` (optional): ``[{"rule": id | "cite": cite, "due": "YYYY-MM-DD" | null}]`` that must
  be present (matched by rule id, or by cite when no id is given);
* ``approvals`` (optional): the exact approvals;
* ``warnings`` (optional): ``[{"code": …, "rule": id, "cite": cite}]`` (any of the three) that must be
  among the decision's ``warnings``; ``[]`` says the decision has none;
* or ``error``: the ``code`` of the error the case must raise (e.g. ``not_in_force``).

The keys allowed are ``EXPECT_KEYS`` (one place: a new kind of expectation is added there and
in ``compare``); any other key — a typo such as ``decison`` — is an error naming it.

Used by pytest (``cases/conftest.py``), by ``xueji-policy test`` and by the rule
coverage check (every rule applies in one golden case and not in another).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import XuejiError
from .lang.kleene import truth
from .ruleset import RuleSet

#: Keys of a golden file, and of its ``expect``. Add a new kind of expectation here (and in ``compare``).
GOLDEN_KEYS = ("description", "case", "expect")
EXPECT_KEYS = ("decision", "outcome", "cites", "rules", "obligations", "approvals", "needs", "warnings",
               "error")

# An article's folder in a cases directory: cases/13/, cases/annex-1/.
_ARTICLE_DIR = re.compile(r"^(\d+|annex-\d+)$")


class GoldenError(XuejiError):
    """Golden cases that cannot be run: a path that does not exist, no cases found, or files
    that are not golden cases (bad JSON, unknown keys). Every problem, each with its file."""

    code = "golden_case_error"

    MAX_SHOWN = 30  # a folder of wrong files must not flood the terminal

    def __init__(self, problems: list[tuple[str, str]]):
        from .privacy import mask_ids_in_text

        # Keys and paths come from the files: an ID number among them is masked (第三十二条).
        self.problems = [(mask_ids_in_text(w), mask_ids_in_text(m)) for w, m in problems]
        lines = [f"{where}：{msg}" if where else msg for where, msg in self.problems[: self.MAX_SHOWN]]
        if len(problems) > self.MAX_SHOWN:
            lines.append(f"……另有 {len(problems) - self.MAX_SHOWN} 处问题未列出")
        super().__init__("\n".join(lines), f"{len(problems)} problem(s) with the golden cases")


@dataclass
class GoldenResult:
    path: Path
    article: str
    name: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    applied: dict[str, bool] = field(default_factory=dict)  # rule id → applied in this case
    decision: dict | None = None
    case: dict | None = None


def project_cases_dir(rules_dir: Path) -> Path | None:
    """``rules_dir/../cases`` when that is this project's layout — a folder of article folders
    (``13/``, ``annex-1/``) holding JSON files — else ``None``: a ``cases`` folder that merely
    happens to sit beside some rules directory is not taken for golden cases."""
    cases = rules_dir.parent / "cases"
    if not cases.is_dir():
        return None
    for d in cases.iterdir():
        if _ARTICLE_DIR.match(d.name) and d.is_dir() and next(d.glob("*.json"), None) is not None:
            return cases
    return None


def default_cases_dir(rs: RuleSet) -> Path | None:
    """The golden cases of a rule set: ``project_cases_dir`` of its directory."""
    return project_cases_dir(rs.path)


def cases_dir_for(explicit: str | Path | None, rs: RuleSet) -> Path | None:
    """``--cases DIR`` if given (it must exist), else the project's cases beside the rules, else None."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_dir():
            raise GoldenError([(str(path), "黄金案例目录不存在" if not path.exists() else "不是目录")])
        return path
    return default_cases_dir(rs)


def discover(paths: Path | Sequence[Path]) -> list[Path]:
    """Golden files under each path: a cases directory (``*/*.json``), an article's folder
    (``*.json``) or a single file. A path that does not exist, or no file at all, is an error."""
    roots = [paths] if isinstance(paths, Path) else list(paths)
    found: dict[Path, Path] = {}
    missing = [(str(p), "路径不存在") for p in roots if not p.exists()]
    if missing:
        raise GoldenError(missing)
    for root in roots:
        files: Iterable[Path] = [root] if root.is_file() else [*root.glob("*.json"), *root.glob("*/*.json")]
        for f in files:
            found.setdefault(f.resolve(), f)
    if not found:
        where = "、".join(str(p) for p in roots)
        raise GoldenError([("", f"没有找到黄金案例：在 {where} 中查找了 *.json 和 <条号>/*.json")])
    return sorted(found.values(), key=lambda p: (_article_key(p.parent.name), p.name))


def _article_key(name: str):
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


def rule_applications(rs: RuleSet, case: dict, decision: dict) -> dict[str, bool]:
    """For every rule of the case's action in force on its date: did it apply?

    An obligation is what must follow an allowed action, so it counts as applied
    only when the decision is allow and its condition holds.
    """
    day = _dt.date.fromisoformat(case["date"])
    params = rs.params_on(day)
    ar = rs.rules_for(case["action"])
    env: dict = {}
    # A rule that hangs on an unstated fact did not apply (truth() is None for it).
    out = {r.id: truth(r.applies(case, params, env)) is True for r in ar.permits + ar.forbids if r.in_force(day)}
    allowed = decision["decision"] == "allow"
    for r in ar.obligations:
        if r.in_force(day):
            out[r.id] = allowed and truth(r.applies(case, params, env)) is True
    return out


def read_golden(path: Path) -> tuple[dict, dict]:
    """A golden file's ``case`` and ``expect``, or a ``GoldenError`` saying (in Chinese, located) why not."""
    from .errors import CaseError
    from .lang.check import did_you_mean
    from .validate import parse_case_json

    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_GOLDEN_BYTES + 1)
    except OSError as e:
        raise GoldenError([(str(path), f"无法读取：{e.strerror or e}")]) from None
    try:
        doc = parse_case_json(raw, max_bytes=_MAX_GOLDEN_BYTES)
    except CaseError as e:
        line, col = getattr(e, "line", None), getattr(e, "column", None)
        where = f"{path}:{line}:{col}" if line else str(path)
        raise GoldenError([(where, "；".join(p.message for p in e.problems))]) from None
    text = raw.decode("utf-8", "replace")
    if not isinstance(doc, dict):
        raise GoldenError([(str(path), '黄金案例应为 JSON 对象：{"case": {…}, "expect": {…}}')])
    if "case" not in doc and "expect" not in doc:
        raise GoldenError([(str(path), '不是黄金案例：应为 {"case": {…}, "expect": {…}}')])
    problems = _unknown_keys(path, text, doc, GOLDEN_KEYS, "", did_you_mean)
    for key in ("case", "expect"):
        if key not in doc:
            problems.append((str(path), f"缺少 \"{key}\""))
        elif not isinstance(doc[key], dict):
            problems.append((str(path), f"\"{key}\" 应为 JSON 对象"))
    if isinstance(doc.get("expect"), dict):
        expect = doc["expect"]
        problems += _unknown_keys(path, text, expect, EXPECT_KEYS, "expect 中", did_you_mean)
        if "decision" not in expect and "error" not in expect:
            problems.append((str(path), "expect 应给出 \"decision\"（allow、deny 或 undetermined）或 \"error\"（错误代码）"))
    if problems:
        raise GoldenError(problems)
    return doc["case"], doc["expect"]


_MAX_GOLDEN_BYTES = 1 << 20  # a golden case is one case: the same bound as a case file


def _unknown_keys(path: Path, text: str, obj: dict, known: Sequence[str], what: str, did_you_mean) -> list:
    out = []
    for key in obj:
        if key in known:
            continue
        m = re.search(re.escape(f'"{key}"') + r"\s*:", text)  # locate the key for the editor
        where = str(path)
        if m:
            line = text.count("\n", 0, m.start()) + 1
            where = f"{path}:{line}:{m.start() - text.rfind(chr(10), 0, m.start())}"
        guess = did_you_mean(key, known)
        hint = f"（是否应为 \"{guess}\"？）" if guess else ""
        out.append((where, f"{what}有未知的键 \"{key}\"{hint}；可用的键：{'、'.join(known)}"))
    return out


def run_file(path: Path, rs: RuleSet) -> GoldenResult:
    from .engine import evaluate_dict

    res = GoldenResult(path, path.parent.name, path.stem, ok=False)

    try:
        case, expect = read_golden(path)
    except GoldenError as e:
        res.problems.append(e.message)
        return res
    try:
        decision = evaluate_dict(case, ruleset=rs)
    except XuejiError as e:
        if expect.get("error") == e.code:
            res.ok = True
        else:
            res.problems.append(f"出错 {e.code}：{e.message}" + (f"（期望错误 {expect['error']}）" if "error" in expect else ""))
        return res
    if "error" in expect:
        res.problems.append(f"期望错误 {expect['error']}，实际得到决定 {decision['decision']}")
        return res
    res.decision = decision
    res.case = case
    res.applied = rule_applications(rs, case, decision)
    res.problems = compare(decision, expect)
    res.ok = not res.problems
    return res


def compare(decision: dict, expect: dict) -> list[str]:
    problems = []
    if decision["decision"] != expect.get("decision"):
        problems.append(f"决定应为 {expect.get('decision')}，实际为 {decision['decision']}")
    if "outcome" in expect and decision["outcome"] != expect["outcome"]:
        problems.append(f"结果应为 {expect['outcome']}，实际为 {decision['outcome']}")
    shown = decision["reasons"] if decision["decision"] == "deny" else \
        decision.get("undecided", []) if decision["decision"] == "undetermined" else decision["basis"]
    got_cites = {r["cite"] for r in shown}
    for c in expect.get("cites", []):
        if c not in got_cites:
            problems.append(f"缺少引用 {c}（实际：{'、'.join(sorted(got_cites)) or '无'}）")
    got_rules = {r["rule"] for r in shown}
    for r in expect.get("rules", []):
        if r not in got_rules:
            problems.append(f"缺少规则 {r}（实际：{'、'.join(sorted(got_rules)) or '无'}）")
    for ob in expect.get("obligations", []):
        key = "rule" if "rule" in ob else "cite"
        matches = [o for o in decision["obligations"] if o[key] == ob.get(key)]
        if not matches:
            problems.append(f"缺少义务 {ob.get(key)}")
        elif "due" in ob and all(o["due"] != ob["due"] for o in matches):
            problems.append(f"义务 {ob.get(key)} 的期限应为 {ob['due']}，实际为 {'、'.join(str(o['due']) for o in matches)}")
    if "approvals" in expect and sorted(decision["approvals"]) != sorted(expect["approvals"]):
        problems.append(f"审批应为 {expect['approvals']}，实际为 {decision['approvals']}")
    got_needs = [n["path"] for n in decision.get("needs", [])]
    for path in expect.get("needs", []):
        if path not in got_needs:
            problems.append(f"缺少待补充事实 {path}（实际：{'、'.join(got_needs) or '无'}）")
    problems += _compare_warnings(decision.get("warnings", []), expect)
    return problems


def _compare_warnings(got: list[dict], expect: dict) -> list[str]:
    if "warnings" not in expect:
        return []
    want = expect["warnings"]
    if not want and got:
        return [f"不应有提醒，实际有 {'、'.join(w['code'] + '（' + str(w.get('cite')) + '）' for w in got)}"]
    problems = []
    for w in want:
        keys = [k for k in ("code", "rule", "cite") if k in w]
        if not any(all(g.get(k) == w[k] for k in keys) for g in got):
            shown = "、".join(f"{k}={w[k]}" for k in keys)
            problems.append(f"缺少提醒 {shown}（实际：{'、'.join(g['code'] for g in got) or '无'}）")
    return problems


def run_all(paths: Path | Sequence[Path], rs: RuleSet) -> list[GoldenResult]:
    """Run every golden file under ``paths`` (see ``discover``). Files that are not golden cases
    are reported all together as one ``GoldenError`` before anything runs."""
    files = discover(paths)
    problems = []
    for f in files:
        try:
            read_golden(f)
        except GoldenError as e:
            problems += e.problems
    if problems:
        raise GoldenError(problems)
    return [run_file(p, rs) for p in files]


def rule_coverage(rs: RuleSet, results: list[GoldenResult]) -> dict[str, tuple[int, int]]:
    """rule id → (golden cases where it applied, where it was checked and did not)."""
    cov = {r.id: [0, 0] for r in rs.rules}
    for res in results:
        for rid, applied in res.applied.items():
            if rid in cov:
                cov[rid][0 if applied else 1] += 1
    return {k: (a, b) for k, (a, b) in cov.items()}
