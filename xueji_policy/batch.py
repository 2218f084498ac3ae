"""Batch evaluation: streaming, order-preserving, bounded memory, optionally in processes.

``evaluate_many(cases)`` yields one result per case, in order: the decision, or an
error record (``{"line", "error", "message", "message_en", "problems"?}``) that never
stops the batch.  ``evaluate_lines`` does the same for JSON Lines text (one case per
line; line numbers in the error records), which is what ``xueji-policy evaluate
--batch`` streams from a file to stdout.

With ``jobs > 1`` the input is cut into chunks evaluated by worker processes (each
loads the rules once, from the compiled-rule cache), with at most a fixed number of
chunks in flight: memory stays flat whatever the input size, and results are written
in input order.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from .errors import XuejiError

CHUNK = 512
IN_FLIGHT_PER_JOB = 4


def _error_record(e: XuejiError, line: int | None) -> dict:
    rec = {"line": line, **e.to_dict()}
    return rec


def evaluate_one(case: Any, rs, line: int | None = None, log=None) -> dict:
    """The decision, or an error record — never an exception for a bad case."""
    from .engine import evaluate_dict

    try:
        return evaluate_dict(case, ruleset=rs, on_decision=log)
    except XuejiError as e:
        return _error_record(e, line)


def _decode(raw: str | bytes, line: int):
    """(case, None) or (None, error record) for one JSON Lines line."""
    from .validate import parse_case_json

    try:
        return parse_case_json(raw), None
    except XuejiError as e:
        return None, _error_record(e, line)


def _evaluate_chunk_lines(rs, chunk: list[tuple[int, bytes]], log=None) -> list[str]:
    out = []
    for line_no, raw in chunk:
        case, err = _decode(raw, line_no)
        result = err if err is not None else evaluate_one(case, rs, line_no, log)
        out.append(json.dumps(result, ensure_ascii=False))
    return out


# --------------------------------------------------------------------------- workers

_WORKER_RS = None
_WORKER_LOG = None


def _init_worker(rules_path: str | None, log_path: str | None = None) -> None:
    global _WORKER_RS, _WORKER_LOG
    from .ruleset import load_ruleset

    if _WORKER_RS is None:  # a forked worker inherits the parent's loaded rule set
        _WORKER_RS = load_ruleset(rules_path)
    if log_path:
        from .audit import DecisionLog

        _WORKER_LOG = DecisionLog(log_path)


def _work_block(task: tuple[int, bytes]) -> bytes:
    """A block of whole lines (starting at line ``first``) → their results, as UTF-8 bytes."""
    first, block = task
    chunk = [(n, raw) for n, raw in enumerate(block.split(b"\n"), first) if raw.strip()]
    out = _evaluate_chunk_lines(_WORKER_RS, chunk, _WORKER_LOG)
    return "".join(t + "\n" for t in out).encode("utf-8")


def _blocks(stream, size: int = 256 * 1024) -> Iterator[tuple[int, bytes]]:
    """Whole-line blocks of a byte stream, with the number of each block's first line.

    The parent only cuts and counts newlines (in C); workers split and decode lines,
    so the work that scales with the number of lines is all in the workers."""
    line, rest = 1, b""
    while True:
        data = stream.read(size)
        if not data:
            break
        data = rest + data
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        block, rest = data[:cut], data[cut + 1:]
        yield line, block
        line += block.count(b"\n") + 1
    if rest:
        yield line, rest


def _work_cases(chunk: list[tuple[int, Any]]) -> list[dict]:
    return [evaluate_one(case, _WORKER_RS, n, _WORKER_LOG) for n, case in chunk]


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _ordered_parallel(fn, chunks: Iterator[list], jobs: int, rules_path: str | None,
                      log_path: str | None = None) -> Iterator[list]:
    """Map ``fn`` over chunks in ``jobs`` processes, in order, with a bounded number in flight."""
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(rules_path, log_path)) as pool:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.submit(fn, chunk))
            if len(pending) >= jobs * IN_FLIGHT_PER_JOB:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# --------------------------------------------------------------------------- API


def evaluate_many(cases: Iterable, *, ruleset=None, rules_path: str | Path | None = None,
                  jobs: int = 1, log_path: str | Path | None = None) -> Iterator[dict]:
    """One result per case, in order (decision dict or error record with the case's 1-based position)."""
    if jobs <= 1:
        from .engine import default_ruleset
        from .ruleset import load_ruleset

        rs = ruleset or (load_ruleset(rules_path) if rules_path else default_ruleset())
        log = _open_log(log_path)
        for n, case in enumerate(cases, 1):
            yield evaluate_one(case, rs, n, log)
        return
    path = str(rules_path) if rules_path else (str(ruleset.path) if ruleset is not None else None)
    for results in _ordered_parallel(_work_cases, _chunks(enumerate(cases, 1), CHUNK), jobs, path,
                                     str(log_path) if log_path else None):
        yield from results


def _open_log(log_path):
    if not log_path:
        return None
    from .audit import DecisionLog

    return DecisionLog(log_path)


def evaluate_stream(stream, *, rules_path: str | Path | None = None, jobs: int = 2,
                    on_progress=None, log_path: str | Path | None = None) -> Iterator[bytes]:
    """A binary JSON Lines stream → blocks of UTF-8 output, in order, in ``jobs`` processes."""
    return _in_processes(_blocks(stream), jobs, rules_path, log_path, on_progress)


def _in_processes(blocks: Iterator[tuple[int, bytes]], jobs: int, rules_path, log_path,
                  on_progress) -> Iterator[bytes]:
    global _WORKER_RS
    from .ruleset import load_ruleset

    # Loaded once here: forked workers inherit it instead of each loading it again.
    _WORKER_RS = load_ruleset(rules_path)
    try:
        for data in _ordered_parallel(_work_block, blocks, jobs, str(rules_path) if rules_path else None,
                                      str(log_path) if log_path else None):
            yield data
            if on_progress:
                on_progress(data.count(b"\n"))
    finally:
        _WORKER_RS = None


def evaluate_lines(lines: Iterable[bytes], *, rules_path: str | Path | None = None, jobs: int = 1,
                   on_progress=None, log_path: str | Path | None = None) -> Iterator[str]:
    """JSON Lines in → one JSON text per line out, in order; blank lines are skipped."""
    if jobs <= 1:
        numbered = ((n, raw) for n, raw in enumerate(lines, 1) if raw.strip())
        from .engine import default_ruleset
        from .ruleset import load_ruleset

        rs = load_ruleset(rules_path) if rules_path else default_ruleset()
        log = _open_log(log_path)
        for chunk in _chunks(numbered, CHUNK):
            yield from _evaluate_chunk_lines(rs, chunk, log)
            if on_progress:
                on_progress(len(chunk))
        return
    # In processes: consecutive lines as blocks, like a stream (line numbers count blank lines too).
    blocks = ((chunk[0][0], b"\n".join(raw.rstrip(b"\r\n") for _, raw in chunk))
              for chunk in _chunks(enumerate(lines, 1), CHUNK))
    for data in _in_processes(blocks, jobs, rules_path, log_path, on_progress):
        yield from data.decode("utf-8").split("\n")[:-1]  # not splitlines(): JSON text may hold U+2028
