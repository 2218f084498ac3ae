"""Solve times of the proofs (docs/verify.md, "Solve times"): every shipped property, the
amendment comparisons of 班额 and of the transfer window, lint by proof, and the repairs and
earliest date of deny cases.

    python benchmarks/verify_times.py                 # every measure, 3 runs each (about 2 minutes on 2 cores)
    python benchmarks/verify_times.py --repeat 1      # one run each
    python benchmarks/verify_times.py --json out.json # the numbers, with the machine, as JSON too

Times are wall-clock seconds, encoding included (the solver's share in brackets where it is
known); the minimum over the runs is the figure to compare (another process on the machine only
ever adds to it), the median is printed beside it.  Nothing here asserts on a time — each
property's "under 10 s" of issue 16 is reported as met or missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROPERTY_TARGET_S = 10.0

# Amendments as the tests make them (tests/test_verify.py): one parameter value changed.
AMENDMENTS = [("class_cap", 45), ("class_cap", 55), ("transfer_window_days", 7), ("transfer_window_days", 21)]
DENY_CASES = ["examples/info_change.json", "cases/13/in_item3_window_15_days_before_deny.json",
              "cases/23/warning_one_day_before_6_months_deny.json", "cases/14/resumption_no_recorded_suspension_deny.json"]


def _amend(dst_root: Path, name: str, value: int) -> Path:
    text = (ROOT / "rules" / "parameters.yaml").read_text(encoding="utf-8")
    start = text.index(f"  {name}:")
    m = re.search(r"value: (\d+)", text[start:])
    assert m, name
    i = start + m.start()
    dst = dst_root / f"rules-{name}-{value}"
    shutil.copytree(ROOT / "rules", dst)
    (dst / "parameters.yaml").write_text(text[:i] + f"value: {value}" + text[start + m.end():], encoding="utf-8")
    return dst


class Times(list):
    """Wall-clock seconds of each run, with the CPU seconds of this process beside them (z3 runs
    in-process on one thread: on a shared machine CPU time is the steadier figure)."""

    cpu: list[float]


def _runs(fn, repeat: int):
    """(the last result, Times of each run)."""
    out, times = None, Times()
    times.cpu = []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        times.cpu.append(time.process_time() - c0)
    return out, times


def _fmt(times: Times) -> str:
    return f"{min(times):.2f} (中位 {statistics.median(times):.2f}; CPU {min(times.cpu):.2f})"


def _dump(times: Times) -> dict:
    return {"wall": [round(t, 3) for t in times], "cpu": [round(t, 3) for t in times.cpu]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per measure (default 3)")
    ap.add_argument("--json", metavar="FILE", help="also write every number as JSON")
    ap.add_argument("--skip", nargs="*", default=[], choices=["properties", "compare", "lint", "repairs"])
    args = ap.parse_args(argv)

    from xueji_policy.pipeline import load_ruleset
    from xueji_policy.verify.properties import check_property, load_properties

    rs = load_ruleset(ROOT / "rules")
    report: dict = {"machine": {"python": platform.python_version(), "cores": os.cpu_count(),
                                "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None},
                    "repeat": args.repeat}
    try:
        import z3

        report["machine"]["z3"] = z3.get_version_string()
    except ImportError:
        print("需要 z3-solver：pip install 'xueji-policy[verify]'", file=sys.stderr)
        return 2

    if "properties" not in args.skip:
        print(f"## rules/properties.yaml（每条性质：编码+求解，墙钟秒；{args.repeat} 次中最短，括号内为中位与 CPU 秒）\n")
        print("| 性质 | 操作 | 结果 | 秒 | 其中求解 | < 10 s |")
        print("|---|---|---|---|---|---|")
        rows = []
        for prop in load_properties(ROOT / "rules" / "properties.yaml", rs):
            result, times = _runs(lambda p=prop: check_property(rs, p), args.repeat)
            solve = sum(s["seconds"] for s in result.stretches)
            met = max(times) < PROPERTY_TARGET_S
            rows.append({"id": prop.id, "action": prop.action, "status": result.status, "seconds": _dump(times),
                         "solve_seconds_last_run": solve, "under_10s": met})
            print(f"| {prop.id} | {prop.action} | {result.status} | {_fmt(times)} | {solve:.2f} | {'是' if met else '否'} |")
        total = sum(min(r["seconds"]["wall"]) for r in rows)
        cpu = sum(min(r["seconds"]["cpu"]) for r in rows)
        slowest = max(max(r["seconds"]["wall"]) for r in rows)
        print(f"\n合计（各取最短）{total:.2f} 秒（CPU {cpu:.2f}）；任何一次中最慢的一条 {slowest:.2f} 秒\n")
        report["properties"] = rows

    if "compare" not in args.skip:
        from xueji_policy.verify.compare import compare

        print("## verify --compare（全部操作；秒）\n")
        print("| 修订 | 关系（非等价的操作） | 秒 |")
        print("|---|---|---|")
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            for name, value in AMENDMENTS:
                new = load_ruleset(_amend(Path(tmp), name, value))
                result, times = _runs(lambda n=new: compare(rs, n), args.repeat)
                changed = {c.action: c.relation for c in result if c.relation != "equivalent"}
                rows.append({"amendment": f"{name}={value}", "relations": {c.action: c.relation for c in result},
                             "seconds": _dump(times), "per_action_last_run": {c.action: round(c.seconds, 3) for c in result}})
                print(f"| {name} → {value} | {', '.join(f'{a} {r}' for a, r in changed.items()) or '全部等价'} "
                      f"| {_fmt(times)} |")
        print()
        report["compare"] = rows

    if "lint" not in args.skip:
        from xueji_policy.verify.lintproofs import prove_rules

        proofs, times = _runs(lambda: prove_rules(rs), args.repeat)
        print("## lint 的证明（永不/总是适用、被遮蔽的许可、冲突的许可；全部规则）\n")
        print(f"{_fmt(times)} 秒；发现 {len(proofs.findings)} 项，{len(proofs.settled)} 条规则由证明定论\n")
        report["lint_proofs"] = {"seconds": _dump(times), "findings": len(proofs.findings), "settled": len(proofs.settled)}

    if "repairs" not in args.skip:
        from xueji_policy.verify.repair import earliest_allowed, repairs

        print("## explain --repair（最少改动 + 最早可获准日期；秒）\n")
        print("| 案例 | 改动组数 | 最早日期 | repairs 秒 | earliest_allowed 秒 |")
        print("|---|---|---|---|---|")
        rows = []
        for name in DENY_CASES:
            data = json.loads((ROOT / name).read_text(encoding="utf-8"))
            case = data.get("case", data)
            found, t_rep = _runs(lambda c=case: repairs(c, rs), args.repeat)
            first, t_first = _runs(lambda c=case: earliest_allowed(c, rs), args.repeat)
            rows.append({"case": name, "repairs": len(found or []), "earliest": str(first) if first else None,
                         "repairs_seconds": _dump(t_rep), "earliest_seconds": _dump(t_first)})
            print(f"| {name} | {len(found or [])} | {first or '无'} | {_fmt(t_rep)} | {_fmt(t_first)} |")
        print()
        report["repairs"] = rows

    m = report["machine"]
    print(f"机器：{m['cores']} 核，Python {m['python']}，z3 {m['z3']}；开始时负载 {m['load_average_at_start']}，"
          f"结束时负载 {os.getloadavg() if hasattr(os, 'getloadavg') else None}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
