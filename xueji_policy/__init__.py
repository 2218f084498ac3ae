"""xueji-policy: policy-as-code for 《营口市普通高中学籍管理实施细则（试行）》(营教发〔2024〕17号).

The pipeline, one module per stage::

    rules/*.yaml ──load──▶ located YAML ──shape──▶ rule records ──parse──▶ AST
      (load.py)            (Y nodes)     (schemas/rule-file)     (lang/parse.py + grammar.lark)
                                                                     │
                                    ┌──────────── check ◀────────────┘
                                    │  names & types against case.schema.json,
                                    │  params, cites against the article text
                                    ▼  (lang/check.py, cites.py)
                               compile (lang/compile.py: AST → closures, once)
                                    │
                                    ▼
                               RuleSet (ruleset.py: rules by action, dated parameters,
                                    │    working-day calendar from workdays.py)
                                    ▼
    case JSON ──validate──▶ evaluate (engine.py: permits / forbids / obligations)
               (validate.py)        │
                                    ▼
                               Decision (models.py, schemas/decision.schema.json)
                                    │
                                    ▼
                               explain (explain.py: a readable account)

Each stage reports its own located error type (``errors.py``); a rule set with any
error refuses to load.  The facade below is the stable API.
"""

from .errors import CalendarError, CaseError, NotInForceError, RuleError, RuleSetError, XuejiError  # noqa: E402
from .version import __version__  # noqa: E402, F401  (re-exported)


def __getattr__(name):
    # Import lazily so that `import xueji_policy` (and the CLI's start-up) stays cheap.
    if name in ("evaluate", "evaluate_dict", "default_ruleset"):
        from . import engine

        return getattr(engine, name)
    if name == "load_ruleset":
        from .pipeline import load_ruleset

        return load_ruleset
    if name in ("RuleSet", "Rule"):
        from . import ruleset

        return getattr(ruleset, name)
    if name in ("Decision", "Case", "Reason"):
        from . import models

        return getattr(models, name)
    raise AttributeError(name)


__all__ = ["evaluate", "evaluate_dict", "load_ruleset", "default_ruleset", "RuleSet", "Rule", "Decision", "Case",
           "Reason", "XuejiError", "RuleError", "RuleSetError", "CaseError", "NotInForceError", "CalendarError"]
