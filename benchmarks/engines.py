"""The 8-rule benchmark policy — 第十三条第（一）项 1–8 over flat facts — in every engine.

Each ``build_<engine>()`` does, once, everything its library lets be done once (load,
parse, compile, pre-parsed handles) and returns ``fired(case) -> set of rule ids``
(``m1`` … ``m8``).  The rules, in words (home city 营口市, school cap 3000):

1. from_city == home and to_city == home
2. from_city != home and from_level == "ordinary" and to_city == home and to_level == "provincial_model"
3. from_city != home and from_ownership == "private" and to_city == home and to_ownership == "public"
4. to_enrollment >= cap or grade_full
5. gaokao_registered
6. mid_semester or (grade == 1 and semester == 1) or (grade == 3 and semester == 2)
7. suspended
8. not same_address or not guardian_hukou_provided or residence_permit_only

Only the standard library is imported at module level, so that a cold-start
subprocess (``python -c "from engines import build; build('cel')"``) pays for exactly
one engine's import.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable

HOME = "营口市"
CAP = 3000
RULE_IDS = tuple(f"m{i}" for i in range(1, 9))
POLICY_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "policy")
ON = _dt.date(2025, 9, 1)  # the day xueji-policy's matcher is built for
XUEJI_PERMIT = "check.decidable"  # the policy's one permit (always holds; not one of m1..m8)

# --------------------------------------------------------------------------- cases

_CITIES = [HOME, HOME, HOME, "大连市", "沈阳市", "北京市", "长春市"]


def make_cases(n: int, seed: int = 20240816) -> list[dict]:
    """``n`` flat cases, reproducible from ``seed``, that make every rule fire often
    (and leave about one case in ten with no prohibition at all)."""
    import random

    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append({
            "case_id": f"b{i}",
            "action": "check",
            "date": "2025-09-01",
            "from_city": rng.choice(_CITIES),
            "to_city": rng.choice(_CITIES),
            "from_level": rng.choice(["ordinary", "provincial_model"]),
            "to_level": rng.choice(["ordinary", "provincial_model"]),
            "from_ownership": rng.choice(["public", "private"]),
            "to_ownership": rng.choice(["public", "private"]),
            "to_enrollment": rng.randint(2500, 3200),
            "grade_full": rng.random() < 0.15,
            "gaokao_registered": rng.random() < 0.15,
            "mid_semester": rng.random() < 0.2,
            "grade": rng.randint(1, 3),
            "semester": rng.randint(1, 2),
            "suspended": rng.random() < 0.15,
            "same_address": rng.random() < 0.85,
            "guardian_hukou_provided": rng.random() < 0.85,
            "residence_permit_only": rng.random() < 0.1,
        })
    return out


# The one case of the cold-start runs (m4, m6 and m8 fire).
ONE_CASE = {
    "case_id": "cold", "action": "check", "date": "2025-09-01", "from_city": "大连市", "to_city": HOME,
    "from_level": "ordinary", "to_level": "ordinary", "from_ownership": "public", "to_ownership": "public",
    "to_enrollment": 3000, "grade_full": False, "gaokao_registered": False, "mid_semester": False, "grade": 3,
    "semester": 2, "suspended": False, "same_address": False, "guardian_hukou_provided": True,
    "residence_permit_only": False,
}

# --------------------------------------------------------------------------- engines


def build_python() -> Callable[[dict], set]:
    """Hand-written Python: the reference every ratio is taken against."""

    def fired(c: dict) -> set:
        out = set()
        if c["from_city"] == HOME and c["to_city"] == HOME:
            out.add("m1")
        if c["from_city"] != HOME and c["from_level"] == "ordinary" and c["to_city"] == HOME \
                and c["to_level"] == "provincial_model":
            out.add("m2")
        if c["from_city"] != HOME and c["from_ownership"] == "private" and c["to_city"] == HOME \
                and c["to_ownership"] == "public":
            out.add("m3")
        if c["to_enrollment"] >= CAP or c["grade_full"]:
            out.add("m4")
        if c["gaokao_registered"]:
            out.add("m5")
        if c["mid_semester"] or (c["grade"] == 1 and c["semester"] == 1) or (c["grade"] == 3 and c["semester"] == 2):
            out.add("m6")
        if c["suspended"]:
            out.add("m7")
        if not c["same_address"] or not c["guardian_hukou_provided"] or c["residence_permit_only"]:
            out.add("m8")
        return out

    return fired


def xueji_ruleset(cache: bool = True):
    from xueji_policy.pipeline import load_ruleset

    return load_ruleset(POLICY_DIR, cache=cache)


def build_xueji() -> Callable[[dict], set]:
    """xueji-policy: the compiled matcher of action ``check`` (rules in force on ``ON``).

    The matcher returns the ids of every rule of the action whose condition holds, so
    its set also holds the policy's permit ``check.decidable`` (one more ``set.add``
    than the other engines do); the equality check ignores that id.  The raw matcher is
    what is timed."""
    from xueji_policy.plan import matcher

    return matcher(xueji_ruleset(), "check", on=ON)


def _jsonlogic_rule() -> dict:
    def var(name):
        return {"var": name}

    def eq(name, value):
        return {"==": [var(name), value]}

    def ne(name, value):
        return {"!=": [var(name), value]}

    conds = {
        "m1": {"and": [eq("from_city", HOME), eq("to_city", HOME)]},
        "m2": {"and": [ne("from_city", HOME), eq("from_level", "ordinary"), eq("to_city", HOME),
                       eq("to_level", "provincial_model")]},
        "m3": {"and": [ne("from_city", HOME), eq("from_ownership", "private"), eq("to_city", HOME),
                       eq("to_ownership", "public")]},
        "m4": {"or": [{">=": [var("to_enrollment"), CAP]}, var("grade_full")]},
        "m5": var("gaokao_registered"),
        "m6": {"or": [var("mid_semester"), {"and": [eq("grade", 1), eq("semester", 1)]},
                      {"and": [eq("grade", 3), eq("semester", 2)]}]},
        "m7": var("suspended"),
        "m8": {"or": [{"!": var("same_address")}, {"!": var("guardian_hukou_provided")},
                      var("residence_permit_only")]},
    }
    # One rule for all eight: the list of the ids whose condition holds (one native call per case).
    return {"merge": [{"if": [cond, [rid], []]} for rid, cond in conds.items()]}


def build_datalogic() -> Callable[[dict], set]:
    """datalogic-py (JSON Logic in Rust): compiled once; evaluated in a Session, the
    documented hot-loop path (one arena reused), on the case dict."""
    import datalogic_py

    engine = datalogic_py.Engine()
    rule = engine.compile_checked(_jsonlogic_rule())
    session = engine.session()
    evaluate = session.evaluate

    def fired(c: dict) -> set:
        return set(evaluate(rule, c))

    return fired


CEL_CONDITIONS = {
    "m1": f'from_city == "{HOME}" && to_city == "{HOME}"',
    "m2": f'from_city != "{HOME}" && from_level == "ordinary" && to_city == "{HOME}" && to_level == "provincial_model"',
    "m3": f'from_city != "{HOME}" && from_ownership == "private" && to_city == "{HOME}" && to_ownership == "public"',
    "m4": f"to_enrollment >= {CAP} || grade_full",
    "m5": "gaokao_registered",
    "m6": "mid_semester || (grade == 1 && semester == 1) || (grade == 3 && semester == 2)",
    "m7": "suspended",
    "m8": "!same_address || !guardian_hukou_provided || residence_permit_only",
}


def build_cel() -> Callable[[dict], set]:
    """common-expression-language (CEL in Rust): one program, compiled once, whose value
    is the list of fired ids; executed with the case dict as its variables."""
    import cel

    src = " + ".join(f'(({cond}) ? ["{rid}"] : [])' for rid, cond in CEL_CONDITIONS.items())
    program = cel.compile(src)
    execute = program.execute

    def fired(c: dict) -> set:
        return set(execute(c))

    return fired


CEDAR_POLICIES = f"""
@id("m1") forbid(principal, action, resource) when {{ context.from_city == "{HOME}" && context.to_city == "{HOME}" }};
@id("m2") forbid(principal, action, resource) when {{ context.from_city != "{HOME}" && context.from_level == "ordinary"
    && context.to_city == "{HOME}" && context.to_level == "provincial_model" }};
@id("m3") forbid(principal, action, resource) when {{ context.from_city != "{HOME}" && context.from_ownership == "private"
    && context.to_city == "{HOME}" && context.to_ownership == "public" }};
@id("m4") forbid(principal, action, resource) when {{ context.to_enrollment >= {CAP} || context.grade_full }};
@id("m5") forbid(principal, action, resource) when {{ context.gaokao_registered }};
@id("m6") forbid(principal, action, resource) when {{ context.mid_semester || (context.grade == 1 && context.semester == 1)
    || (context.grade == 3 && context.semester == 2) }};
@id("m7") forbid(principal, action, resource) when {{ context.suspended }};
@id("m8") forbid(principal, action, resource) when {{ !context.same_address || !context.guardian_hukou_provided
    || context.residence_permit_only }};
@id("decidable") permit(principal, action, resource);
"""


def build_cedar() -> Callable[[dict], set]:
    """cedarpy (Cedar in Rust): 8 ``forbid`` policies with ``@id`` and one ``permit``,
    parsed once into a ``PolicySet`` handle; an empty pre-parsed ``Entities`` handle; the
    facts are the request context.  Fired = the ``@id`` of each determining policy of a
    Deny (``diagnostics.id_annotations_by_reason``)."""
    import cedarpy

    policies = cedarpy.PolicySet.from_str(CEDAR_POLICIES)
    entities = cedarpy.Entities.from_json_str("[]")
    is_authorized = cedarpy.is_authorized
    deny = cedarpy.Decision.Deny
    base = {"principal": 'User::"applicant"', "action": 'Action::"check"', "resource": 'Case::"case"'}

    def fired(c: dict) -> set:
        result = is_authorized({**base, "context": c}, policies, entities)
        if result.decision is deny:
            return set(result.diagnostics.id_annotations_by_reason.values())
        return set()

    return fired


RULE_ENGINE_CONDITIONS = {
    "m1": f'from_city == "{HOME}" and to_city == "{HOME}"',
    "m2": f'from_city != "{HOME}" and from_level == "ordinary" and to_city == "{HOME}" and to_level == "provincial_model"',
    "m3": f'from_city != "{HOME}" and from_ownership == "private" and to_city == "{HOME}" and to_ownership == "public"',
    "m4": f"to_enrollment >= {CAP} or grade_full",
    "m5": "gaokao_registered",
    "m6": "mid_semester or (grade == 1 and semester == 1) or (grade == 3 and semester == 2)",
    "m7": "suspended",
    "m8": "not same_address or not guardian_hukou_provided or residence_permit_only",
}


def build_rule_engine() -> Callable[[dict], set]:
    """rule-engine: 8 ``rule_engine.Rule`` objects compiled once against one typed context."""
    import rule_engine

    DT = rule_engine.DataType
    types = {"from_city": DT.STRING, "to_city": DT.STRING, "from_level": DT.STRING, "to_level": DT.STRING,
             "from_ownership": DT.STRING, "to_ownership": DT.STRING, "to_enrollment": DT.FLOAT,
             "grade_full": DT.BOOLEAN, "gaokao_registered": DT.BOOLEAN, "mid_semester": DT.BOOLEAN,
             "grade": DT.FLOAT, "semester": DT.FLOAT, "suspended": DT.BOOLEAN, "same_address": DT.BOOLEAN,
             "guardian_hukou_provided": DT.BOOLEAN, "residence_permit_only": DT.BOOLEAN,
             "case_id": DT.STRING, "action": DT.STRING, "date": DT.STRING}
    context = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(types))

    rules = [(rid, rule_engine.Rule(text, context=context)) for rid, text in RULE_ENGINE_CONDITIONS.items()]

    def fired(c: dict) -> set:
        return {rid for rid, rule in rules if rule.matches(c)}

    return fired


# ----------------------------------------------------------- optional peers (skipped when not installed)


def build_json_logic_qubit() -> Callable[[dict], set]:
    """json-logic-qubit (JSON Logic, pure Python): no compile step; ``jsonLogic(rule, data)``."""
    from json_logic import jsonLogic

    rule = _jsonlogic_rule()

    def fired(c: dict) -> set:
        return set(jsonLogic(rule, c))

    return fired


def build_cel_python() -> Callable[[dict], set]:
    """cel-python (CEL, pure Python): compiled once with the transpiling ``CompiledRunner``;
    each case's values are converted with ``json_to_cel`` as its documentation shows."""
    import celpy

    src = " + ".join(f'(({cond}) ? ["{rid}"] : [])' for rid, cond in CEL_CONDITIONS.items())
    env = celpy.Environment(runner_class=celpy.CompiledRunner)
    program = env.program(env.compile(src))
    json_to_cel = celpy.json_to_cel

    def fired(c: dict) -> set:
        return {str(x) for x in program.evaluate({k: json_to_cel(v) for k, v in c.items()})}

    return fired


REGO_MODULE = f"""
package bench

import rego.v1

fired contains "m1" if {{ input.from_city == "{HOME}"; input.to_city == "{HOME}" }}
fired contains "m2" if {{ input.from_city != "{HOME}"; input.from_level == "ordinary"; input.to_city == "{HOME}"; input.to_level == "provincial_model" }}
fired contains "m3" if {{ input.from_city != "{HOME}"; input.from_ownership == "private"; input.to_city == "{HOME}"; input.to_ownership == "public" }}
fired contains "m4" if input.to_enrollment >= {CAP}
fired contains "m4" if input.grade_full
fired contains "m5" if input.gaokao_registered
fired contains "m6" if input.mid_semester
fired contains "m6" if {{ input.grade == 1; input.semester == 1 }}
fired contains "m6" if {{ input.grade == 3; input.semester == 2 }}
fired contains "m7" if input.suspended
fired contains "m8" if not input.same_address
fired contains "m8" if not input.guardian_hukou_provided
fired contains "m8" if input.residence_permit_only
"""


def build_regopy() -> Callable[[dict], set]:
    """regopy (Rego, rego-cpp): the module built once into a bundle with the entrypoint
    ``bench/fired``; per case: set the input, query the bundle's entrypoint."""
    import json

    import regopy

    rego = regopy.Interpreter()
    rego.add_module("bench.rego", REGO_MODULE)
    bundle = rego.build(None, ["bench/fired"])
    Input = regopy.Input

    def fired(c: dict) -> set:
        rego.set_input(Input(c))
        out = rego.query_bundle_entrypoint(bundle, "bench/fired")
        return set(json.loads(str(out.expressions()))[0])

    return fired


OPTIONAL_BUILDERS: dict[str, tuple[str, Callable[[], Callable[[dict], set]]]] = {
    # name: (module that must import, builder)
    "json-logic-qubit": ("json_logic", build_json_logic_qubit),
    "cel-python": ("celpy", build_cel_python),
    "regopy": ("regopy", build_regopy),
}

BUILDERS: dict[str, Callable[[], Callable[[dict], set]]] = {
    "python": build_python,
    "xueji-policy": build_xueji,
    "datalogic-py": build_datalogic,
    "cel (common-expression-language)": build_cel,
    "cedarpy": build_cedar,
    "rule-engine": build_rule_engine,
}

# The distributions each engine comes from (for the versions in results.json).
DISTRIBUTIONS = {
    "xueji-policy": "xueji-policy", "datalogic-py": "datalogic-py",
    "cel (common-expression-language)": "common-expression-language", "cedarpy": "cedarpy",
    "rule-engine": "rule-engine", "json-logic-qubit": "json-logic-qubit", "cel-python": "cel-python",
    "regopy": "regopy",
}


def available() -> list[str]:
    """The engines to run: the required ones, then each optional one that imports."""
    import importlib.util

    names = list(BUILDERS)
    for name, (module, _) in OPTIONAL_BUILDERS.items():
        if importlib.util.find_spec(module) is not None:
            names.append(name)
    return names


def build(name: str) -> Callable[[dict], set]:
    if name in BUILDERS:
        return BUILDERS[name]()
    return OPTIONAL_BUILDERS[name][1]()
