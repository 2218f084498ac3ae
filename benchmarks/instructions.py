"""Instructions per ``evaluate_dict`` call, counted by valgrind (callgrind) — repeatable on a busy machine.

Wall time on a shared 2-core VM moves by tens of percent from run to run; an instruction count
does not (a few hundred instructions out of hundreds of thousands).  So before/after comparisons
of the hot path are made here, with:

    python benchmarks/instructions.py                       # this checkout
    python benchmarks/instructions.py --src /tmp/base       # another checkout (its sources first on sys.path)
    python benchmarks/instructions.py --cold                # also: a fresh interpreter deciding one case

How it counts.  A child interpreter loads the shipped rules (the compiled-rule cache warmed first,
outside valgrind), reads ``examples/*.json`` and decides each once (building the plans), then
makes ``N`` more rounds over all of them.  It is run under ``valgrind --tool=callgrind`` twice, with
``N = 0`` and ``N = --rounds``; the difference of the two totals divided by the calls made is the
cost of one call, with start-up, imports and loading subtracted out.  ``PYTHONHASHSEED=0`` keeps
dict and set layouts the same between the runs.

``--cold``: the instructions of a whole ``python -c`` that imports the package and decides
``examples/transfer_in.json`` with a warm cache (what ``xueji-policy evaluate`` costs before its
output), and of ``python -c pass`` for the floor; ``--importtime`` adds ``-X importtime``'s ten
slowest modules of that run (wall time, indicative only).

Nothing here is needed by the tests; it needs ``valgrind`` on the PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# The child: load, decide every example once, then ROUNDS rounds.  Only APIs that exist in every
# version compared (engine.evaluate_dict, engine.default_ruleset) are used.
CHILD = r"""
import json, sys
from pathlib import Path
from xueji_policy.engine import default_ruleset, evaluate_dict
rounds = int(sys.argv[1])
cases = [json.loads(p.read_text("utf-8")) for p in sorted(Path(sys.argv[2]).glob("*.json"))]
rs = default_ruleset()
for c in cases:
    evaluate_dict(c, ruleset=rs)
for _ in range(rounds):
    for c in cases:
        evaluate_dict(c, ruleset=rs)
print(len(cases))
"""

COLD = r"""
import json, sys
from xueji_policy.engine import evaluate_dict
evaluate_dict(json.loads(open(sys.argv[1], encoding="utf-8").read()))
"""


# Every child runs in the temporary directory: ``python -c`` puts its working directory first on
# sys.path, which would otherwise import this checkout's package whatever --src says.
def _env(src: Path, cache_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONHASHSEED"] = "0"
    env["XUEJI_POLICY_CACHE_DIR"] = str(cache_dir)  # a cache of its own, warmed before counting
    env["XDG_CACHE_HOME"] = str(cache_dir)
    env["XUEJI_POLICY_RULES"] = str(src / "rules")  # that checkout's rules, whatever is installed
    env.pop("XUEJI_POLICY_CACHE", None)
    return env


def _callgrind(argv: list[str], env: dict[str, str], out: Path) -> tuple[int, str]:
    """Total instructions of ``argv`` under callgrind, and its stdout."""
    proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
                          env=env, cwd=out.parent, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"valgrind run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    text = out.read_text()
    m = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.M)
    if m is None:
        sys.exit(f"no total in {out}")
    return int(m.group(1)), proc.stdout


def _commit(src: Path) -> str:
    proc = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "-C", str(src), "status", "--porcelain", "--", "xueji_policy"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return (proc.stdout.strip() or "?") + (" (modified)" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    ap.add_argument("--examples", type=Path, default=None,
                    help="directory of case files (default: the checkout's examples/)")
    ap.add_argument("--rounds", type=int, default=20, help="rounds over the examples in the counted run")
    ap.add_argument("--cold", action="store_true", help="also count a fresh interpreter deciding one case")
    ap.add_argument("--importtime", action="store_true", help="with --cold: the slowest imports (-X importtime)")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    ap.add_argument("--keep", type=Path, default=None,
                    help="keep the counted run's callgrind file here (for callgrind_annotate)")
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    src = args.src.resolve()
    examples = (args.examples or src / "examples").resolve()
    py = sys.executable
    result: dict = {"src": str(src), "commit": _commit(src), "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="xp-instr-") as tmp:
        t = Path(tmp)
        env = _env(src, t / "cache")
        warm = subprocess.run([py, "-c", CHILD, "0", str(examples)], env=env, cwd=t, capture_output=True,
                              text=True, check=False)  # warms the compiled-rule cache and the bytecode
        if warm.returncode != 0:
            sys.exit(f"the child failed:\n{warm.stderr[-3000:]}")
        base, _ = _callgrind([py, "-c", CHILD, "0", str(examples)], env, t / "cg.0")
        total, out = _callgrind([py, "-c", CHILD, str(args.rounds), str(examples)], env, t / "cg.n")
        if args.keep is not None:
            shutil.copy(t / "cg.n", args.keep)
        n_cases = int(out.strip().splitlines()[-1])
        calls = n_cases * args.rounds
        result.update({"cases": n_cases, "rounds": args.rounds, "calls": calls,
                       "instructions_per_call": round((total - base) / calls)})
        if args.cold:
            case = str(examples / "transfer_in.json")
            cold, _ = _callgrind([py, "-c", COLD, case], env, t / "cg.cold")
            floor, _ = _callgrind([py, "-c", "pass"], env, t / "cg.pass")
            result.update({"cold_evaluate_instructions": cold, "python_pass_instructions": floor})
            if args.importtime:
                proc = subprocess.run([py, "-X", "importtime", "-c", COLD, case], env=env, cwd=t,
                                      capture_output=True, text=True, check=False)
                rows = []
                for line in proc.stderr.splitlines():
                    m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
                    if m:
                        rows.append((int(m.group(2)), int(m.group(1)), m.group(4)))
                result["slowest_imports_us_cumulative_self"] = [list(r) for r in sorted(rows, reverse=True)[:10]]
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"checkout {result['src']} at {result['commit']}, CPython {result['python']}")
    print(f"evaluate_dict: {result['instructions_per_call']:,} instructions per call "
          f"({result['cases']} examples × {result['rounds']} rounds, valgrind --tool=callgrind)")
    if args.cold:
        print(f"cold evaluate (fresh interpreter, warm cache, one case): {result['cold_evaluate_instructions']:,} "
              f"instructions; python -c pass: {result['python_pass_instructions']:,}")
        for cum, self_, name in result.get("slowest_imports_us_cumulative_self", []):
            print(f"  import {name}: {cum} µs cumulative, {self_} µs self")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
