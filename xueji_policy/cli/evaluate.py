"""``xueji-policy evaluate CASE.json|-``: print the decision; exit 0 allow, 1 deny, 2 error.

``--batch IN.xlsx|IN.csv -o OUT.xlsx|OUT.csv``: a sheet (``xueji-policy template``), one case per
row, written back with the results (``sheet.py``); the same exit codes as a JSON Lines batch.

``--batch IN.jsonl``: one record per non-blank line; exit 0 when every line was allowed (or
there was none), 1 when some line was denied, 2 when some line was an error record (or the
input, the log or stdout failed), 3 when some line hit a bug (worst wins)."""

from __future__ import annotations

import json
import sys

from .argparse_zh import RULES_HELP, integer
from .shared import DECISION_EXIT


def add_arguments(p) -> None:
    p.add_argument("case", metavar="CASE.json", nargs="?", help="案例文件，或 - 表示标准输入")
    p.add_argument("--batch", metavar="IN.jsonl",
                   help="批量：每行一个案例（- 为标准输入），按顺序每个非空行输出一个决定或错误记录（含行号）；"
                        "单行上限 1 MiB，超过的行得到 too_large 错误记录。退出码：全部允许（或没有案例）为 0，"
                        "有不允许为 1，有错误记录为 2，有内部错误为 3（取最严重者）。IN.xlsx 或 IN.csv：表格，每行一个案例"
                        "（模板用 xueji-policy template 生成），结果写入 -o 指定的文件")
    p.add_argument("-o", "--output", metavar="OUT.xlsx",
                   help="批量评估表格（--batch IN.xlsx 或 IN.csv，格式见 xueji-policy template）时的结果文件（.xlsx 或 .csv）："
                        "每行原样保留（证件号码打码），其后附上决定、结果、理由、依据、须办理事项及期限、审批和错误"
                        "（表格在一个进程中逐行评估，--jobs 不适用）")
    p.add_argument("--jobs", type=integer, default=1, metavar="N", help="批量时使用的进程数（默认 1；0 为 CPU 核数；至多 64）")
    p.add_argument("--log", metavar="FILE", help="把每个决定追加记录到 FILE（JSON Lines；不含个人信息，仅有加盐哈希）")
    p.add_argument("--rules", metavar="DIR", help=RULES_HELP)
    p.add_argument("--format", choices=("json", "text"), default="json", help="输出格式：json（默认）或 text（中文摘要）")
    p.add_argument("--explain", action="store_true", help="附上逐条规则的求值过程")


def read_case(path: str):
    """The case JSON from a file or stdin (``-``), or a ``CaseError`` saying why not."""
    from ..validate import read_case_file

    return read_case_file(path)


def _os_error_zh(e: OSError) -> str:
    from ..ioerrors import os_error_zh

    return os_error_zh(e)


def _write_out(data: bytes) -> None:
    """Write to stdout; a failed write (a full disk, /dev/full) is the user's error, exit 2."""
    from ..ioerrors import IOFailure, silence_stdout

    try:
        sys.stdout.buffer.write(data)
    except BrokenPipeError:
        raise
    except OSError as e:
        silence_stdout()
        raise IOFailure("无法写出结果（标准输出）", "cannot write the results (stdout)", e) from None


def _flush_out() -> None:
    from ..ioerrors import IOFailure, silence_stdout

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as e:
        silence_stdout()
        raise IOFailure("无法写出结果（标准输出）", "cannot write the results (stdout)", e) from None


def _is_sheet(path: str | None) -> bool:
    from ..sheet import SHEET_SUFFIXES

    return bool(path) and str(path).lower().endswith(SHEET_SUFFIXES)


def run_sheet(args) -> int:
    """A sheet in, the same sheet with the results out: exit codes as for a JSON Lines batch."""
    from ..batch import Tally
    from ..errors import XuejiError
    from ..pipeline import load_ruleset
    from ..sheet import evaluate_sheet

    if not args.output:
        raise XuejiError("批量评估表格时请用 -o 指定结果文件（.xlsx 或 .csv）",
                         "give the result file with -o (.xlsx or .csv) when the batch is a sheet")
    rs = load_ruleset(args.rules)
    log = None
    if args.log:
        from ..audit import DecisionLog

        log = DecisionLog(args.log)
    tally = Tally()
    evaluate_sheet(args.batch, args.output, rs=rs, log=log, tally=tally)
    from ..privacy import mask_ids_in_text

    undetermined = getattr(tally, "undetermined", 0)  # contract v2
    print(mask_ids_in_text(f"共 {sum(tally.counts())} 个案例：准予 {tally.allow}，不予 {tally.deny}，"
                           + (f"尚不能决定 {undetermined}，" if undetermined else "")
                           + f"错误 {tally.errors}" + (f"，内部错误 {tally.internal}" if tally.internal else "")
                           + f"；结果已写入 {args.output}"), file=sys.stderr)
    return tally.exit_code


def run_batch(args) -> int:
    import os

    if _is_sheet(args.batch):
        return run_sheet(args)
    if args.output:
        from ..errors import XuejiError

        raise XuejiError("-o 只用于批量评估表格（--batch IN.xlsx 或 IN.csv）；JSON Lines 的结果写到标准输出",
                         "-o is for sheets (--batch IN.xlsx or IN.csv); JSON Lines results go to stdout")

    from ..batch import MAX_JOBS, Tally, evaluate_stream
    from ..errors import XuejiError

    if args.jobs is None or not 0 <= args.jobs <= MAX_JOBS:
        raise XuejiError(f"--jobs 应为 0 到 {MAX_JOBS} 之间的整数（0 表示 CPU 核数）",
                         f"--jobs must be 0 to {MAX_JOBS} (0: the number of CPUs)")
    jobs = min(args.jobs or os.cpu_count() or 1, MAX_JOBS)
    try:
        stream = sys.stdin.buffer if args.batch == "-" else open(args.batch, "rb")
    except OSError as e:
        from ..errors import CaseError, CaseProblem

        raise CaseError([CaseProblem("$", f"无法读取批量文件：{_os_error_zh(e)}", f"cannot read batch file: {e.strerror}")],
                        kind="unreadable") from None
    progress = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit="行", file=sys.stderr, mininterval=0.5, desc="评估")
        progress = bar.update
    tally = Tally()
    _flush_out()
    with stream:
        for data in evaluate_stream(stream, rules_path=args.rules, jobs=jobs, on_progress=progress,
                                    log_path=args.log, tally=tally):
            _write_out(data)
    _flush_out()
    if progress:
        bar.close()
    if tally.errors or tally.internal:
        print(f"共 {sum(tally.counts())} 个案例：允许 {tally.allow}，不允许 {tally.deny}，"
              + (f"尚不能决定 {tally.undetermined}，" if tally.undetermined else "") +
              f"错误 {tally.errors}" + (f"，内部错误 {tally.internal}" if tally.internal else "")
              + "（错误记录见输出中带 error 的行）", file=sys.stderr)
    return tally.exit_code


def run(args) -> int:
    if args.batch:
        return run_batch(args)
    if args.output:
        from ..errors import XuejiError

        raise XuejiError("-o 只用于批量评估表格（--batch IN.xlsx -o OUT.xlsx）", "-o is for --batch with a sheet")
    if not args.case:
        from ..errors import XuejiError

        raise XuejiError("请给出案例文件（或 - 表示标准输入），或用 --batch IN.jsonl 批量评估",
                         "give a case file (or -), or --batch IN.jsonl")
    case = read_case(args.case)

    from ..engine import evaluate_dict
    from ..pipeline import load_ruleset

    rs = load_ruleset(args.rules) if args.rules else None
    log = None
    if args.log:
        from ..audit import DecisionLog

        log = DecisionLog(args.log)
    decision = evaluate_dict(case, ruleset=rs, explain=args.explain, on_decision=log)
    if args.format == "text":
        from ..explain import decision_text

        text = decision_text(decision, rs)
    else:
        text = json.dumps(decision, ensure_ascii=False, indent=2)
    _write_out((text + "\n").encode("utf-8", "backslashreplace"))
    _flush_out()
    return DECISION_EXIT[decision["decision"]]
