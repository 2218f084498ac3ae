#!/usr/bin/env python
"""Issue 13's removal experiment: leave out one fact at a time from every shipped example that is
allowed, and count what the engine answers.  Under contract v2 no allow may rest on an unstated
fact the deciding rules read: an allow that survives a removal is one where the fact was not
needed (every forbid and the deciding permit are settled without it, checked here by the
three-valued closures).  ``python scripts/removal_experiment.py``; tests/test_three_valued.py runs it and
borrows its two helpers (``leaf_paths``, ``remove``)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path

from xueji_policy.engine import default_ruleset, evaluate_dict
from xueji_policy.errors import CaseError

ROOT = Path(__file__).resolve().parent.parent


def leaf_paths(x, prefix=""):
    out = []
    if isinstance(x, dict):
        for k, v in x.items():
            p = f"{prefix}.{k}" if prefix else k
            if prefix:
                out.append(p)
            out += leaf_paths(v, p)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            out += leaf_paths(v, f"{prefix}[{i}]")
    return out


def remove(case, path):
    """Leave the key at ``path`` (``a.b[0].c``) out of the case; nothing if it is gone already."""
    *head, last = path.split(".")
    x = case
    try:
        for s in head:
            name, _, idx = s.partition("[")
            x = x[name]
            if idx:
                x = x[int(idx[:-1])]
    except (KeyError, IndexError, TypeError):
        return
    if isinstance(x, dict):
        x.pop(last, None)


def run() -> tuple[Counter, list[str]]:
    """(what the engine answered, counted; the removals whose allow rests on the removed fact)."""
    rs = default_ruleset()
    counts: Counter = Counter()
    resting = []
    for f in sorted((ROOT / "examples").glob("*.json")):
        base = json.loads(f.read_text("utf-8"))
        if evaluate_dict(copy.deepcopy(base))["decision"] != "allow":
            continue
        for p in leaf_paths(base):
            case = copy.deepcopy(base)
            remove(case, p)
            try:
                d = evaluate_dict(copy.deepcopy(case))
            except CaseError:
                counts["not a valid case (required, or contradicts)"] += 1
                continue
            counts[d["decision"]] += 1
            if d["decision"] == "allow":
                day = dt.date.fromisoformat(case["date"])
                params, ar = rs.params_on(day), rs.rules_for(case["action"])
                flags = [(r, r.applies(case, params, {})) for r in ar.forbids + ar.permits if r.in_force(day)]
                forbids_settled = all(v is False or v is None for r, v in flags if r.effect == "forbid")
                permit_holds = any(v is True for r, v in flags if r.effect == "permit")
                if not (forbids_settled and permit_holds):
                    resting.append(f"{f.name}: {p}")
    return counts, resting


def main() -> int:
    counts, resting = run()
    for k, n in counts.most_common():
        print(f"{n:5d}  {k}")
    print(f"allow resting on an unstated fact: {len(resting)}")
    for r in resting:
        print("  ", r)
    return 1 if resting else 0


if __name__ == "__main__":
    sys.exit(main())
