"""``xueji-policy evaluate CASE.json|-``: print the decision; exit 0 allow, 1 deny, 2 error."""

from __future__ import annotations

import json
import sys

from .argparse_zh import RULES_HELP, integer


def add_arguments(p) -> None:
    p.add_argument("case", metavar="CASE.json", nargs="?", help="案例文件，或 - 表示标准输入")
    p.add_argument("--batch", metavar="IN.jsonl", help="批量：每行一个案例（- 为标准输入），按顺序每行输出一个决定或错误记录")
    p.add_argument("--jobs", type=integer, default=1, metavar="N", help="批量时使用的进程数（默认 1）")
    p.add_argument("--log", metavar="FILE", help="把每个决定追加记录到 FILE（JSON Lines；不含个人信息，仅有加盐哈希）")
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)
    p.add_argument("--format", choices=("json", "text"), default="json", help="输出格式：json（默认）或 text（中文摘要）")
    p.add_argument("--explain", action="store_true", help="附上逐条规则的求值过程")


def _read(path: str) -> bytes:
    """At most one byte past the size limit: an oversized input is refused without reading it all."""
    from ..validate import DEFAULT_MAX_BYTES

    if path == "-":
        return sys.stdin.buffer.read(DEFAULT_MAX_BYTES + 1)
    with open(path, "rb") as f:
        return f.read(DEFAULT_MAX_BYTES + 1)


def read_case(path: str):
    """The case JSON from a file or stdin, or a ``CaseError`` saying why not."""
    from ..errors import CaseError, CaseProblem
    from ..validate import parse_case_json

    try:
        raw = _read(path)
    except OSError as e:
        raise CaseError([CaseProblem("$", f"无法读取案例文件 {path}：{_os_error_zh(e)}",
                                     f"cannot read case file {path}: {e.strerror}")], kind="unreadable") from None
    return parse_case_json(raw)


def _os_error_zh(e: OSError) -> str:
    import errno

    return {errno.ENOENT: "文件不存在", errno.EACCES: "没有读取权限", errno.EISDIR: "这是一个目录，不是文件"}.get(
        e.errno, e.strerror or "无法读取")


def run_batch(args) -> int:
    import os

    from ..batch import evaluate_lines, evaluate_stream
    from ..errors import CaseError, CaseProblem

    try:
        stream = sys.stdin.buffer if args.batch == "-" else open(args.batch, "rb")
    except OSError as e:
        raise CaseError([CaseProblem("$", f"无法读取批量文件：{e.strerror}", f"cannot read batch file: {e.strerror}")],
                        kind="unreadable") from None
    progress = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit="行", file=sys.stderr, mininterval=0.5, desc="评估")
        progress = bar.update
    out = sys.stdout
    jobs = max(1, args.jobs or os.cpu_count() or 1)
    with stream:
        if jobs > 1:  # whole-line blocks to worker processes; results come back in order, as bytes
            out.flush()
            for data in evaluate_stream(stream, rules_path=args.rules, jobs=jobs, on_progress=progress,
                                        log_path=args.log):
                out.buffer.write(data)
        else:
            for text in evaluate_lines(stream, rules_path=args.rules, jobs=1, on_progress=progress,
                                       log_path=args.log):
                out.write(text)
                out.write("\n")
    out.flush()
    if progress:
        bar.close()
    return 0


def run(args) -> int:
    if args.batch:
        return run_batch(args)
    if not args.case:
        from ..errors import XuejiError

        raise XuejiError("请给出案例文件（或 - 表示标准输入），或用 --batch IN.jsonl 批量评估",
                         "give a case file (or -), or --batch IN.jsonl")
    case = read_case(args.case)

    from ..engine import evaluate_dict
    from ..ruleset import load_ruleset

    rs = load_ruleset(args.rules) if args.rules else None
    log = None
    if args.log:
        from ..audit import DecisionLog

        log = DecisionLog(args.log)
    decision = evaluate_dict(case, ruleset=rs, explain=args.explain, on_decision=log)
    if args.format == "text":
        from ..explain import decision_text

        print(decision_text(decision, rs))
    else:
        print(json.dumps(decision, ensure_ascii=False, indent=2))
    return 0 if decision["decision"] == "allow" else 1
