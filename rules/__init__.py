"""The shipped rule set, installed as the package ``xueji_policy.rules``.

Policy staff: this file only lets the installed package carry this directory; the rules are the
YAML files beside it. See README.md ("For policy staff").
"""
