"""A rule set that can be reloaded while requests are being decided.

``PolicyService`` holds the rule set in force.  ``reload()`` loads the directory
again *beside* the current set and swaps it in only if it loaded completely: a
broken edit is refused with its located errors while the old set keeps serving, so
a bad edit cannot take the service down.  Every evaluation takes one reference to
the set at its start, so it never sees half of an old set and half of a new one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from .errors import RuleSetError
from .pipeline import load_ruleset
from .ruleset import RuleSet


@dataclass
class ReloadResult:
    ok: bool
    sha256: str  # of the rule set serving after the reload
    changed: bool = False
    error: RuleSetError | None = None

    def to_dict(self) -> dict:
        d = {"ok": self.ok, "sha256": self.sha256, "changed": self.changed}
        if self.error is not None:
            d["errors"] = [e.to_dict() for e in self.error.errors]
            d["message"] = self.error.message
        return d


class PolicyService:
    def __init__(self, rules_path: str | Path | None = None, ruleset: RuleSet | None = None):
        self.rules_path = Path(rules_path) if rules_path is not None else None
        self._ruleset = ruleset or load_ruleset(self.rules_path)
        self._lock = threading.Lock()  # one reload at a time; evaluations never wait for it
        self.last_error: RuleSetError | None = None

    @property
    def ruleset(self) -> RuleSet:
        return self._ruleset

    def reload(self) -> ReloadResult:
        with self._lock:
            try:
                fresh = load_ruleset(self.rules_path if self.rules_path is not None else self._ruleset.path)
            except RuleSetError as e:
                self.last_error = e
                return ReloadResult(False, self._ruleset.sha256, False, e)
            changed = fresh.sha256 != self._ruleset.sha256
            self._ruleset = fresh  # one reference assignment: atomic for every reader
            self.last_error = None
            return ReloadResult(True, fresh.sha256, changed)

    def evaluate(self, case, **kw) -> dict:
        from .engine import evaluate_dict

        rs = self._ruleset  # this request's rule set, whatever a concurrent reload does
        return evaluate_dict(case, ruleset=rs, **kw)
