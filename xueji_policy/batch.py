"""Batch evaluation: streaming, order-preserving, bounded memory, optionally in processes.

``evaluate_many(cases)`` yields one result per case, in order: the decision, or an
error record (``{"line", "error", "message", "message_en", "problems"?}``) that never
stops the batch.  ``evaluate_lines`` does the same for JSON Lines text (one case per
line; line numbers in the error records), and ``evaluate_stream`` for a binary stream,
which is what ``xueji-policy evaluate --batch`` streams from a file to stdout.

A batch is only as good as its worst line, so every non-blank line gets exactly one
record, in order:

* a line is read in bounded memory: past ``MAX_LINE_BYTES`` (the size bound of a single
  case) the rest of the line is skipped, not buffered, and the line gets a ``too_large``
  record; a line still unended after ``MAX_UNENDED_LINE_BYTES`` (``/dev/zero``, a binary
  file) is not JSON Lines at all: it gets that record and the rest of the input is not read;
* any exception while decoding or deciding one line — a bug included — becomes that
  line's error record (``internal_error`` for a bug); ``KeyboardInterrupt`` still stops;
* records are written as UTF-8 with any lone surrogate as its JSON escape, so no value
  can cut the output stream.

``Tally`` counts the records; ``Tally.exit_code`` is the batch's exit code (0 every
line allowed, 1 some line denied, 2 some line an error, 3 some line hit a bug).

With ``jobs > 1`` the input is cut into blocks of whole lines evaluated by worker
processes (each loads the rules once, from the compiled-rule cache), with at most a
fixed number of blocks in flight: memory stays flat whatever the input size, and
results are written in input order.

``json_array_items`` splits a JSON array batch (the HTTP service's ``application/json``
form) into its elements' raw bytes without building the array: it counts elements while
scanning, and each element then goes through the same ``parse_case_json`` as a single
case (duplicate keys, surrogates, nesting and size all refused alike).
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import CaseError, CaseProblem, XuejiError
from .validate import DEFAULT_MAX_BYTES

CHUNK = 512
IN_FLIGHT_PER_JOB = 4
READ_SIZE = 256 * 1024
MAX_LINE_BYTES = DEFAULT_MAX_BYTES  # one line is one case: the single case's bound
MAX_UNENDED_LINE_BYTES = 256 << 20  # a "line" this long is not JSON Lines: stop reading
MAX_JOBS = 64


# --------------------------------------------------------------------------- records


def _error_record(e: XuejiError, line: int | None) -> dict:
    return {"line": line, **e.to_dict()}


def _internal_record(e: BaseException, line: int | None) -> dict:
    """A bug met while deciding one line: that line's record, never the batch's end."""
    from .privacy import mask_ids_in_text

    text = mask_ids_in_text(str(e)[:300])
    name = type(e).__name__
    return {"line": line, "error": "internal_error",
            "message": f"内部错误（{name}）：{text}。本行未能决定；请把这一行报告给维护者",
            "message_en": f"internal error ({name}): {text}; this line was not decided, please report it"}


def _too_large_record(line: int, size: int, stopped: bool) -> dict:
    if stopped:
        e = CaseError([CaseProblem("$", f"第 {line} 行超过 {size} 字节仍未结束：输入不是 JSON Lines（每行一个案例），"
                                        "其余输入未读取",
                                   f"line {line} has not ended after {size} bytes: the input is not JSON Lines; "
                                   "the rest of the input was not read")], kind="too_large")
    else:
        e = CaseError([CaseProblem("$", f"输入过大：本行 {size} 字节，超过 {MAX_LINE_BYTES} 字节的上限",
                                   f"input too large: the line has {size} bytes, over the {MAX_LINE_BYTES}-byte "
                                   "limit")], kind="too_large")
    return _error_record(e, line)


def _dump(record: dict) -> bytes:
    # backslashreplace writes a lone surrogate as the JSON escape it came from (\ud800)
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


@dataclass
class Tally:
    """How many records of each kind a batch produced, and its exit code."""

    allow: int = 0
    deny: int = 0
    errors: int = 0
    internal: int = 0
    undetermined: int = 0

    def add(self, record: dict) -> None:
        if "error" in record:
            if record["error"] == "internal_error":
                self.internal += 1
            else:
                self.errors += 1
        elif record.get("decision") == "allow":
            self.allow += 1
        elif record.get("decision") == "undetermined":
            self.undetermined += 1
        else:
            self.deny += 1

    def merge(self, counts: tuple[int, int, int, int, int]) -> None:
        self.allow += counts[0]
        self.deny += counts[1]
        self.errors += counts[2]
        self.internal += counts[3]
        self.undetermined += counts[4]

    def counts(self) -> tuple[int, int, int, int, int]:
        return self.allow, self.deny, self.errors, self.internal, self.undetermined

    @property
    def exit_code(self) -> int:
        """3 a bug met on some line, 2 some line an error, 4 some line undetermined, 1 some line
        denied, 0 all allowed (or none)."""
        return 3 if self.internal else 2 if self.errors else 4 if self.undetermined else 1 if self.deny else 0


# --------------------------------------------------------------------------- one case, one line


def evaluate_one(case: Any, rs, line: int | None = None, log=None) -> dict:
    """The decision, or an error record — never an exception, whatever the case."""
    from .engine import evaluate_dict

    if isinstance(case, XuejiError):  # a line already refused while reading it
        return _error_record(case, line)
    try:
        return evaluate_dict(case, ruleset=rs, on_decision=log)
    except XuejiError as e:
        return _error_record(e, line)
    except Exception as e:  # not BaseException: Ctrl-C still stops the batch
        return _internal_record(e, line)


def decode_line(raw: str | bytes | bytearray, line: int):
    """(case, None) or (None, error record) for one JSON Lines line."""
    from .validate import parse_case_json

    try:
        return parse_case_json(raw), None
    except XuejiError as e:
        return None, _error_record(e, line)
    except Exception as e:
        return None, _internal_record(e, line)


def _evaluate_line(rs, line_no: int, raw: str | bytes, log=None) -> dict:
    case, err = decode_line(raw, line_no)
    return err if err is not None else evaluate_one(case, rs, line_no, log)


def _evaluate_chunk_lines(rs, chunk: list[tuple[int, bytes]], log=None) -> list[str]:
    return [json.dumps(_evaluate_line(rs, n, raw, log), ensure_ascii=False) for n, raw in chunk]


# --------------------------------------------------------------------------- reading lines

# A task is a run of consecutive input lines: (number of the first line, the lines as one
# block of bytes joined by b"\n" or as a list, or None for one oversized line, and for an
# oversized line its (size, stopped)).
Task = tuple[int, bytes | list | None, tuple[int, bool] | None]


def _read_tasks(stream: IO[bytes], *, max_line: int = MAX_LINE_BYTES,
                max_unended: int = MAX_UNENDED_LINE_BYTES, read_size: int = READ_SIZE) -> Iterator[Task]:
    """Whole-line blocks of a byte stream, never holding more than one line's bound plus one read.

    The parent only cuts blocks at newlines (in C); workers split and decode lines, so
    the work that scales with the number of lines is all in the workers."""
    from .ioerrors import IOFailure

    def read() -> bytes:
        try:
            return stream.read(read_size)
        except OSError as e:
            raise IOFailure("读取批量输入失败", "cannot read the batch input", e) from None

    line, buf, pending = 1, b"", b""
    while True:
        data, pending = (pending or read()), b""
        if not data:
            break
        cut = data.rfind(b"\n")
        if cut >= 0:
            block, buf = buf + data[:cut], data[cut + 1:]
            yield line, block, None
            line += block.count(b"\n") + 1
            continue
        buf += data
        if len(buf) <= max_line:
            continue
        # An oversized line: skip the rest of it in bounded memory, then answer it.
        size, nonblank, buf = len(buf), bool(buf.strip()), b""
        while True:
            data = read()
            end = data.find(b"\n")
            part = data if end < 0 else data[:end]
            size += len(part)
            nonblank = nonblank or bool(part.strip())
            if end >= 0 or not data:
                if nonblank:  # a huge blank line is still blank
                    yield line, None, (size, False)
                line += 1
                pending = data[end + 1:] if end >= 0 else b""
                break
            if size > max_unended:
                yield line, None, (size, True)
                return
        if not data:
            return
    if buf:
        yield line, buf, None


def _line_tasks(lines: Iterable[bytes | str], size: int = CHUNK) -> Iterator[Task]:
    """Tasks from lines already split (kept as a list: a line is never re-split)."""
    for chunk in _chunks(enumerate(lines, 1), size):
        yield chunk[0][0], [raw for _, raw in chunk], None


def _run_task(rs, task: Task, log=None) -> tuple[bytes, tuple[int, int, int, int, int]]:
    """A task's records, as UTF-8 JSON Lines, and their tally."""
    first, block, big = task
    tally = Tally()
    if big is not None or block is None:
        records = [_too_large_record(first, *(big or (0, False)))]
    else:
        lines = block.split(b"\n") if isinstance(block, bytes) else block
        records = [_evaluate_line(rs, n, raw, log) for n, raw in enumerate(lines, first) if raw.strip()]
    for r in records:
        tally.add(r)
    return b"".join(map(_dump, records)), tally.counts()


# --------------------------------------------------------------------------- workers

_WORKER_RS = None
_WORKER_LOG = None


def _init_worker(rules_path: str | None, log_path: str | None = None) -> None:
    global _WORKER_RS, _WORKER_LOG
    from .pipeline import load_ruleset

    if _WORKER_RS is None:  # a forked worker inherits the parent's loaded rule set
        _WORKER_RS = load_ruleset(rules_path)
    if log_path:
        from .audit import DecisionLog

        _WORKER_LOG = DecisionLog(log_path)


def _work_task(task: Task) -> tuple[bytes, tuple[int, int, int, int, int]]:
    return _run_task(_WORKER_RS, task, _WORKER_LOG)


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


def _ordered_parallel(fn, chunks: Iterator, jobs: int, rules_path: str | None,
                      log_path: str | None = None) -> Iterator:
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


def _open_log(log_path):
    if not log_path:
        return None
    from .audit import DecisionLog

    return DecisionLog(log_path)


def evaluate_many(cases: Iterable, *, ruleset=None, rules_path: str | Path | None = None,
                  jobs: int = 1, log_path: str | Path | None = None) -> Iterator[dict]:
    """One result per case, in order (decision dict or error record with the case's 1-based position)."""
    if jobs <= 1:
        from .engine import default_ruleset
        from .pipeline import load_ruleset

        rs = ruleset or (load_ruleset(rules_path) if rules_path else default_ruleset())
        log = _open_log(log_path)
        for n, case in enumerate(cases, 1):
            yield evaluate_one(case, rs, n, log)
        return
    path = str(rules_path) if rules_path else (str(ruleset.path) if ruleset is not None else None)
    for results in _ordered_parallel(_work_cases, _chunks(enumerate(cases, 1), CHUNK), jobs, path,
                                     str(log_path) if log_path else None):
        yield from results


def _run_tasks(tasks: Iterator[Task], jobs: int, rules_path, log_path, on_progress: Callable | None,
               tally: Tally | None) -> Iterator[bytes]:
    global _WORKER_RS
    from .engine import default_ruleset
    from .pipeline import load_ruleset

    if log_path:  # an unusable log is a clear error before any line, not a failure in every worker
        _open_log(log_path).close()
    if jobs <= 1:
        rs = load_ruleset(rules_path) if rules_path else default_ruleset()
        log = _open_log(log_path)
        results: Iterator = (_run_task(rs, t, log) for t in tasks)
    else:
        # Loaded once here: forked workers inherit it instead of each loading it again.
        _WORKER_RS = load_ruleset(rules_path)
        results = _ordered_parallel(_work_task, tasks, jobs, str(rules_path) if rules_path else None,
                                    str(log_path) if log_path else None)
    try:
        for data, counts in results:
            if tally is not None:
                tally.merge(counts)
            yield data
            if on_progress:
                on_progress(sum(counts))
    finally:
        _WORKER_RS = None


def evaluate_stream(stream: IO[bytes], *, rules_path: str | Path | None = None, jobs: int = 2,
                    on_progress: Callable | None = None, log_path: str | Path | None = None,
                    tally: Tally | None = None) -> Iterator[bytes]:
    """A binary JSON Lines stream → blocks of UTF-8 output, in order (in ``jobs`` processes if > 1)."""
    return _run_tasks(_read_tasks(stream), jobs, rules_path, log_path, on_progress, tally)


def evaluate_lines(lines: Iterable[bytes | str] | IO[bytes], *, rules_path: str | Path | None = None,
                   jobs: int = 1, on_progress: Callable | None = None, log_path: str | Path | None = None,
                   tally: Tally | None = None) -> Iterator[str]:
    """JSON Lines in → one JSON text per non-blank line out, in order.

    ``lines`` is an iterable of lines, or a binary file (then read in bounded memory,
    like ``evaluate_stream``)."""
    tasks = _read_tasks(lines) if hasattr(lines, "read") else _line_tasks(lines)  # type: ignore[arg-type]
    for data in _run_tasks(tasks, jobs, rules_path, log_path, on_progress, tally):
        yield from data.decode("utf-8").split("\n")[:-1]  # not splitlines(): JSON text may hold U+2028


# --------------------------------------------------------------------------- JSON array batches

# A whole string (possessive: no backtracking), a bracket or comma, or a string not ended in this block.
_TOKEN = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{},]|"')
_IN_STRING = re.compile(rb'["\\]')
_NON_WS = re.compile(rb"[^ \t\r\n]")


class BatchTooLong(XuejiError):
    code = "batch_too_long"

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"一次最多 {limit} 个案例", f"at most {limit} cases in one batch")


def _string_end(data: bytes, pos: int, escaped: bool) -> tuple[int, bool]:
    """Inside a string from ``pos``: (the offset just past its closing quote, False), or
    (-1, whether the block ends on a pending backslash escape) if it does not end here."""
    n = len(data)
    while pos < n:
        if escaped:
            escaped, pos = False, pos + 1
            continue
        m = _IN_STRING.search(data, pos)
        if m is None:
            return -1, False
        if m.group() == b"\\":
            escaped, pos = True, m.end()
        else:
            return m.end(), False
    return -1, escaped


def json_array_spans(fp: IO[bytes], *, max_items: int, read_size: int = READ_SIZE) -> list[tuple[int, int]]:
    """The (start, end) byte offsets of each element of the JSON array in ``fp``.

    Scans once in bounded memory (no string is ever held whole), counting elements as
    it goes: past ``max_items`` it raises ``BatchTooLong`` at once.  A body that is not
    one array raises ``CaseError``.  Elements are not parsed here — only strings and
    brackets are followed, to find the commas between elements — so a bad element
    (bad JSON, a duplicate key, a surrogate, deep nesting) is that element's error
    record when it is parsed on its own, not the batch's end."""
    def malformed(zh: str, en: str) -> CaseError:
        return CaseError([CaseProblem("$", zh, en)], kind="malformed_json")

    def not_an_array() -> CaseError:
        return CaseError([CaseProblem("$", "批量请求应为 JSON 数组（或使用 application/x-ndjson）",
                                      "a batch is a JSON array (or application/x-ndjson)")])

    spans: list[tuple[int, int]] = []
    depth = 0
    in_string = escaped = opened = closed = False
    start = 0  # the current element's first byte (just past "[" or ",")
    tokens = False  # whether the current element has a string or bracket
    base = 0  # offset of ``data`` in the file
    while True:
        data = fp.read(read_size)
        if not data:
            break
        pos = 3 if base == 0 and data.startswith(b"\xef\xbb\xbf") else 0
        outside = pos if depth == 0 else -1  # where a stretch outside the array starts (-1: none)
        if in_string:
            end, escaped = _string_end(data, pos, escaped)
            if end < 0:
                base += len(data)
                continue
            in_string, pos = False, end
        for m in _TOKEN.finditer(data, pos):
            at = m.start()
            c = data[at]
            if depth == 0:
                if closed:
                    raise malformed(f"JSON 数组结束后还有多余内容（第 {base + at + 1} 字节）",
                                    f"extra data after the JSON array (byte {base + at + 1})")
                if c != 0x5B or _NON_WS.search(data, outside, at):  # "["
                    raise not_an_array()
                depth, opened, start, tokens, outside = 1, True, base + m.end(), False, -1
                continue
            if c == 0x22:  # '"'
                tokens = True
                if m.end() - at == 1:  # a string this block does not end: follow it across blocks
                    end, escaped = _string_end(data, at + 1, False)
                    if end < 0:
                        in_string = True
                        break
                    # (unreachable: a string ending in this block matched whole)
                continue
            if c in (0x5B, 0x7B):  # "[" "{"
                depth, tokens = depth + 1, True
            elif depth == 1 and c in (0x2C, 0x5D):  # "," "]" ending an element
                end = base + at
                if not tokens and (start >= base and not _NON_WS.search(data, start - base, at)):
                    if c == 0x2C or spans:  # [,  [1,,2]  [1,]
                        raise malformed(f"JSON 数组的第 {len(spans) + 1} 个元素为空（第 {end + 1} 字节）",
                                        f"element {len(spans) + 1} of the JSON array is empty (byte {end + 1})")
                else:
                    spans.append((start, end))
                    if len(spans) > max_items:
                        raise BatchTooLong(max_items)
                start, tokens = end + 1, False
                if c == 0x5D:
                    depth, closed, outside = 0, True, m.end()
            elif c == 0x2C:
                pass  # a comma inside a nested value
            else:  # "]" or "}" closing a nested value; a mismatch is the element's own parse error
                depth -= 1
                if depth < 1:
                    raise malformed(f"JSON 数组的括号不配对（第 {base + at + 1} 字节）",
                                    f"unbalanced brackets in the JSON array (byte {base + at + 1})")
        if depth == 0 and not in_string and _NON_WS.search(data, max(outside, 0)):
            if closed:
                raise malformed("JSON 数组结束后还有多余内容", "extra data after the JSON array")
            raise not_an_array()
        base += len(data)
    if not closed:
        if not opened:  # empty or blank
            raise not_an_array()
        raise malformed("JSON 数组不完整：缺少结尾的 ]", "the JSON array is not closed: ] missing")
    return spans


def json_array_items(fp: IO[bytes], spans: list[tuple[int, int]],
                     max_item_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes]]:
    """(position, raw bytes) of each element, read one at a time.

    An element over the bound is read only to one byte past it: its parse then reports
    ``too_large`` without the element ever being held whole."""
    for n, (start, end) in enumerate(spans, 1):
        fp.seek(start)
        yield n, fp.read(min(end - start, max_item_bytes + 1))
