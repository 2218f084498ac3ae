"""The rule set: rules, dated parameters, articles and compiled plans — and ``load_ruleset``.

A rules directory holds::

    ruleset.yaml        name, version, effective_from, optional case_schema and case_consistency
    parameters.yaml     every number the articles set, with cite and dated values
    <N>.yaml            article N: number, title, original text, its rules
    annex-<N>.yaml      annex N (text only; annexes are cited through their article)
    calendar/<YYYY>.yaml  holiday schedules that add to or override chinesecalendar

``load_ruleset`` returns the set from the compiled-rule cache when the files are
unchanged (``cache.py``), else runs the full pipeline (``pipeline.py``: read → load → shape →
parse → check → cite → compile), which collects *every* located error and raises
``RuleSetError`` if there is one — never a half-loaded rule set.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from .cites import ArticleStructure, Cite
from .errors import Location, NotInForceError
from .lang import ast as A
from .lang.kleene import Residual, applies
from .lang.types import Type, action_sections
from .messages import is_template, placeholders, render
from .privacy import mask_ids_in_text
from .workdays import WorkCalendar

CALENDAR_WARNING_DAYS = 60  # how early staff are told to add next year's holiday schedule


def default_rules_dir() -> Path:
    """The rules used when none are named: $XUEJI_POLICY_RULES, else the installed package's own.

    The repository's ``rules/`` is the package ``xueji_policy.rules`` (pyproject ``package-dir``):
    a wheel carries a copy, an editable install maps it in place. Found through the import
    system, never through a path beside the source tree.
    """
    env = os.environ.get("XUEJI_POLICY_RULES")
    if env:
        return Path(env)
    from .errors import XuejiError

    try:
        shipped = resources.files("xueji_policy.rules")
    except ModuleNotFoundError:
        raise XuejiError("找不到随包发布的规则（xueji_policy.rules）：请先安装本包（pip install .），"
                         "或用 --rules DIR 或环境变量 XUEJI_POLICY_RULES 指定规则目录",
                         "the shipped rules (xueji_policy.rules) are not installed: pip install the package, "
                         "or name a rules directory with --rules DIR or $XUEJI_POLICY_RULES") from None
    if not isinstance(shipped, Path):  # e.g. a zipped install: the loader reads a real directory
        raise XuejiError(f"随包发布的规则不在文件系统上（{shipped}）：请用 --rules DIR 指定规则目录",
                         f"the shipped rules are not on the file system ({shipped}): use --rules DIR")
    return shipped


# --------------------------------------------------------------------------- values


@dataclass
class Parameter:
    name: str
    title: str
    type: str
    cite: Cite
    values: list[tuple[_dt.date, Any]]  # sorted by effective_from
    unit: str | None = None
    note: str | None = None
    loc: Location | None = None
    sources: list[str | None] = field(default_factory=list)  # each value's source (a notice), as values

    def source_of(self, i: int) -> str | None:
        return self.sources[i] if i < len(self.sources) else None

    def value_on(self, day: _dt.date) -> Any:
        i = bisect.bisect_right([d for d, _ in self.values], day) - 1
        if i < 0:
            raise NotInForceError(f"参数 {self.name}（{self.title}）在 {day} 尚未生效",
                                  f"parameter {self.name} is not in force on {day}")
        return self.values[i][1]


@dataclass
class Article:
    number: int | None
    annex: int | None
    title: str
    text: str
    chapter: str | None
    file: str
    structure: ArticleStructure | None

    @property
    def key(self) -> str:
        return str(self.number) if self.number is not None else f"annex-{self.annex}"

    @property
    def label(self) -> str:
        return Cite(article=self.number).display() if self.number is not None else f"附件{self.annex}"


@dataclass
class Outcome:
    value: str
    when: Callable | None = None
    when_src: str | None = None
    when_ast: A.Expr | None = None

    def __post_init__(self):
        if self.when_src is not None:  # display text only (第三十二条)
            self.when_src = mask_ids_in_text(self.when_src)


@dataclass
class Rule:
    id: str
    article: int
    cite: Cite
    actions: tuple[str, ...]
    effect: str
    message: str
    when_src: str
    when_ast: A.Expr
    when: Callable
    unless_src: str | None = None
    unless_ast: A.Expr | None = None
    unless: Callable | None = None
    message_unmet: str | None = None
    outcomes: tuple[Outcome, ...] = ()
    approvals: tuple[str, ...] = ()
    due_src: str | None = None
    due_ast: A.Expr | None = None
    due: Callable | None = None
    reading: str | None = None
    terms: dict[str, str] = field(default_factory=dict)  # let name → its Chinese name in a brief explanation
    note: str | None = None
    effective_from: _dt.date | None = None
    effective_to: _dt.date | None = None
    reviewed_text_sha256: str | None = None
    file: str = ""
    line: int = 0
    reason: dict = field(default_factory=dict)  # the Reason JSON when this rule decides (computed)
    reason_unmet: dict = field(default_factory=dict)  # … when it is a permit that failed (computed)

    def __post_init__(self):
        # 第三十二条: rule-file text reaches every output (reasons, explain, report, /v1/rules);
        # an ID number written into it is masked here, once.  Only display text: the
        # compiled condition keeps its literals.
        for name in ("message", "message_unmet", "reading", "note", "when_src", "unless_src", "due_src"):
            value = getattr(self, name)
            if isinstance(value, str):
                setattr(self, name, mask_ids_in_text(value))
        # Computed once: the engine reads these on every decision.
        self.cite_text = self.cite.display()
        self.cite_parts = {k: v for k, v in self.cite.to_dict().items() if v is not None}
        self.reason = {"rule": mask_ids_in_text(self.id), **self.cite.to_dict(), "cite": self.cite_text, "message": self.message}
        self.reason_unmet = {**self.reason, "message": self.message_unmet} if self.message_unmet else self.reason
        # Messages naming parameters ({class_cap}) are rendered per stretch of dates (RuleSet.rendered).
        self.templated = is_template(self.message) or is_template(self.message_unmet)

    def in_force(self, day: _dt.date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and \
            (self.effective_to is None or day < self.effective_to)

    def applies(self, case: dict, params: dict, env: dict) -> Any:
        """True, False, or a ``Residual`` when it hangs on a fact the case does not state."""
        w = self.when(case, params, env)
        if type(w) is not Residual and not w:
            return False
        if self.unless is None:
            return w
        return applies(w, self.unless(case, params, env))


@dataclass
class ActionRules:
    permits: tuple[Rule, ...]
    forbids: tuple[Rule, ...]
    obligations: tuple[Rule, ...]


@dataclass
class RuleSet:
    name: str
    version: str
    effective_from: _dt.date
    rules: list[Rule]
    articles: dict[str, Article]
    params: dict[str, Parameter]
    case_schema: dict
    case_type: Type
    calendar: WorkCalendar
    sha256: str
    path: Path
    files: list[str]
    document: str | None = None
    # The rule set's own consistency constraints as read (shown name, text); None: the
    # packaged ones when the case schema is the packaged one, else none (consistency.py).
    consistency_src: tuple[str, str] | None = None
    _by_action: dict[str, ActionRules] = field(default_factory=dict, repr=False)
    _validator: Any = field(default=None, repr=False)
    _fast_validator: Any = field(default=None, repr=False)
    plans: dict = field(default_factory=dict, repr=False)  # the plan stage's cache (plan.py)
    plans_by_day: dict = field(default_factory=dict, repr=False)  # (action, day) → its plan (plan.py)
    _reason_models: dict = field(default_factory=dict, repr=False)
    _rendered: dict = field(default_factory=dict, repr=False)  # (rule id, values) → the rule, messages filled in
    _info_model: Any = field(default=None, repr=False)
    _consistency: Any = field(default=None, repr=False)
    consistency_factory: Any = field(default=None, repr=False)  # RuleSet → its compiled constraints

    def __post_init__(self):
        actions = self.actions
        for a in actions:
            rs = [r for r in self.rules if a in r.actions]
            self._by_action[a] = ActionRules(
                tuple(r for r in rs if r.effect == "permit"),
                tuple(r for r in rs if r.effect == "forbid"),
                tuple(r for r in rs if r.effect == "obligation"))
        # Parameter values change only on their effective dates: precompute the
        # intervals once so that a case's parameters are one bisect away.
        changes = sorted({d for p in self.params.values() for d, _ in p.values})
        self._change_dates = changes
        self._param_sets = [self._params_at(d) for d in changes]
        # Likewise the days on which a rule comes into or goes out of force.
        self._rule_dates = sorted({d for r in self.rules for d in (r.effective_from, r.effective_to) if d})

    def stretch_key(self, day: _dt.date) -> tuple[int, int]:
        """Which stretch of dates ``day`` falls in: the same rules and parameter values hold across one."""
        return bisect.bisect_right(self._rule_dates, day), bisect.bisect_right(self._change_dates, day)

    def stretch_days(self) -> list[_dt.date]:
        """One day in each stretch of dates on which the rules and parameters stay the same."""
        days = {self.effective_from} | {d for d in self._rule_dates + self._change_dates if d >= self.effective_from}
        return sorted(days)

    def reason_model(self, reason: dict):
        """The pydantic Reason of one of this set's rules' reason dicts (built once per rule)."""
        model = self._reason_models.get(id(reason))
        if model is None:
            from .models import Reason

            model = Reason.model_validate(reason)
            if any(reason is r.reason or reason is r.reason_unmet
                   for r in (*self.rules, *self._rendered.values())):
                self._reason_models[id(reason)] = model  # only this set's own dicts: their ids stay theirs
        return model

    def rendered(self, rule: Rule, params: dict) -> Rule:
        """``rule`` with the ``{param}`` placeholders of its messages filled in from ``params``.

        One copy per rule and values, kept: the plan stage asks once per stretch of dates, so a
        decision reads finished text.  A rule without placeholders is returned as it is."""
        if not rule.templated:
            return rule
        names = [n for text in (rule.message, rule.message_unmet) if text for n, _ in placeholders(text)]
        key = (rule.id, tuple(repr(params.get(n)) for n in names))
        out = self._rendered.get(key)
        if out is None:
            out = self._rendered[key] = replace(
                rule, message=render(rule.message, params),
                message_unmet=render(rule.message_unmet, params) if rule.message_unmet else None)
            out.templated = False  # finished text: a literal brace it shows is not a placeholder
        return out

    def message(self, rule: Rule, params: dict) -> str:
        """The rule's message as a decision states it under ``params``."""
        return render(rule.message, params) if rule.templated else rule.message

    def info_model(self):
        """The pydantic RulesetInfo of this set (built once)."""
        if self._info_model is None:
            from .models import RulesetInfo

            self._info_model = RulesetInfo.model_validate(self.info())
        return self._info_model

    @property
    def actions(self) -> list[str]:
        return list(self.case_schema["properties"]["action"]["enum"])

    @property
    def sections(self) -> dict[str, str]:
        return action_sections(self.case_schema)

    def rules_for(self, action: str) -> ActionRules:
        return self._by_action.get(action) or ActionRules((), (), ())

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def _params_at(self, day: _dt.date) -> dict:
        out = {}
        for name, p in self.params.items():
            try:
                out[name] = p.value_on(day)
            except NotInForceError:
                out[name] = None
        return out

    def params_on(self, day: _dt.date) -> dict:
        """The parameter values in force on ``day``."""
        i = bisect.bisect_right(self._change_dates, day) - 1
        if i < 0 or day < self.effective_from:
            raise NotInForceError(
                f"案例日期 {day} 早于规则生效日期 {self.effective_from}（{self.name}）",
                f"the case date {day} is before the rules are in force ({self.effective_from})")
        return self._param_sets[i]

    @property
    def validator(self):
        """The reference validator (jsonschema): every failing path with a Chinese message."""
        if self._validator is None:
            from .validate import CaseValidator

            self._validator = CaseValidator(self.case_schema)
        return self._validator

    def validate(self, case) -> None:
        """Validate once: the fast validator (jsonschema-rs) accepts a good case in
        microseconds; only a rejected case goes to the reference validator for its messages."""
        if self._fast_validator is None:
            from .fastvalidate import fast_validator

            self._fast_validator = fast_validator(self.case_schema)
        if not self._fast_validator.is_valid(case):
            self.validator.validate(case)

    @property
    def consistency(self):
        """The compiled cross-field constraints: set by the loader, or built on first use by the
        factory the compiled-rule cache leaves (the model imports no stage)."""
        if self._consistency is None and self.consistency_factory is not None:
            self._consistency = self.consistency_factory(self)
        return self._consistency

    def article(self, number: int) -> Article:
        return self.articles[str(number)]

    def info(self) -> dict:
        return {"version": self.version, "sha256": self.sha256}

    def calendar_warning(self, today: _dt.date | None = None) -> str | None:
        """A warning when the last published holiday schedule ends within
        ``CALENDAR_WARNING_DAYS`` of today (``check``, ``--version`` and ``/readyz`` show it)."""
        from .workdays import today as _today

        return self.calendar.ends_soon(today or _today(), CALENDAR_WARNING_DAYS)
