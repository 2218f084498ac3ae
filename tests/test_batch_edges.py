"""A batch is only as good as its worst line: every non-blank line gets exactly one record, in
order, with its line number, in bounded memory — whatever the line holds — and the exit code
says what the batch held (0 all allowed, 1 some denied, 2 some error, 3 some bug)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xueji_policy import batch
from xueji_policy.batch import MAX_LINE_BYTES, Tally, evaluate_lines, evaluate_stream
from xueji_policy.engine import evaluate_dict

ROOT = Path(__file__).resolve().parent.parent


def example(name: str) -> dict:
    return json.loads((ROOT / "examples" / f"{name}.json").read_text(encoding="utf-8"))


def line(case) -> bytes:
    return json.dumps(case, ensure_ascii=False).encode("utf-8")


GOOD = line(example("transfer_in"))
DENIED = line(json.loads((ROOT / "cases/23/expulsion_not_revocable_deny.json").read_text(encoding="utf-8"))["case"])
YEAR0 = line({**example("transfer_in"), "date": "0000-01-01"})
DEEP = b"[" * 100_000 + b"]" * 100_000
SURROGATE_ESCAPE = GOOD.replace(b'"case_id": "', b'"case_id": "\\ud800', 1)
SURROGATE_RAW = GOOD.replace(b'"case_id": "', b'"case_id": "\xed\xa0\x80', 1)  # CESU bytes, not UTF-8
DUPLICATE = GOOD.replace(b"{", b'{"action": "registration", ', 1)


def cli(*args: str, stdin=None, stdout=subprocess.PIPE, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xueji_policy", *args], stdin=stdin, stdout=stdout,
                          stderr=subprocess.PIPE, cwd=ROOT, timeout=300, env=env)


def records(lines: list[bytes], jobs: int, **kw) -> list[dict]:
    return [json.loads(x) for x in evaluate_lines(io.BytesIO(b"\n".join(lines) + b"\n"), jobs=jobs, **kw)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_hostile_line_gets_its_own_record_and_the_others_are_decided(jobs):
    lines = [GOOD, YEAR0, DEEP, SURROGATE_ESCAPE, SURROGATE_RAW, DUPLICATE, b"{not json", GOOD]
    out = records(lines, jobs)
    assert len(out) == len(lines)
    assert out[0] == out[-1] == evaluate_dict(example("transfer_in"))
    for n, rec in enumerate(out[1:-1], 2):
        assert rec["line"] == n and "error" in rec and rec["message"], rec
    assert out[5]["error"] == "malformed_json" and "重复" in out[5]["message"]  # refused as in single evaluation


def test_a_lone_surrogate_in_a_record_does_not_cut_the_output():
    """Whatever a record echoes, it is written as UTF-8 (the surrogate as its JSON escape)."""
    rec = {"line": 1, "error": "x", "message": "\ud800"}
    data = batch._dump(rec)
    assert json.loads(data) == rec and data.decode("utf-8")


@pytest.mark.parametrize("jobs", [1, 2])
def test_any_exception_while_deciding_one_line_is_that_lines_record(jobs, monkeypatch):
    from xueji_policy import engine

    real = engine.evaluate_dict

    def flaky(case, **kw):
        if case.get("case_id") == "boom":
            raise TypeError("a bug for 210882200801086152")  # an ID number in a message is masked too
        return real(case, **kw)

    monkeypatch.setattr(engine, "evaluate_dict", flaky)
    boom = line({**example("transfer_in"), "case_id": "boom"})
    tally = Tally()
    out = records([GOOD, boom, GOOD], jobs, tally=tally)  # forked workers inherit the patch
    assert [r.get("error") for r in out] == [None, "internal_error", None]
    assert out[1]["line"] == 2 and "TypeError" in out[1]["message"] and "210882200801086152" not in out[1]["message"]
    assert tally.counts() == (2, 0, 0, 1, 0) and tally.exit_code == 3


def test_ctrl_c_still_stops_a_batch(monkeypatch):
    from xueji_policy import engine

    def interrupted(case, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "evaluate_dict", interrupted)
    with pytest.raises(KeyboardInterrupt):
        records([GOOD], 1)


class EndlessLine(io.RawIOBase):
    """``size`` bytes of one line (then a newline and ``tail``), made as read: no memory of its own."""

    def __init__(self, size: int, tail: bytes = b"", fill: bytes = b"x"):
        self.left, self.tail, self.fill = size, tail, fill

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.left > 0:
            k = min(n, self.left)
            self.left -= k
            return self.fill * k
        out, self.tail = self.tail[:n], self.tail[n:]
        return out


def test_a_huge_line_is_skipped_in_bounded_memory_and_the_next_lines_are_decided():
    """64 MB in one line: the reader never holds more than one line's bound plus one read."""
    stream = EndlessLine(64 << 20, b"\n" + GOOD + b"\n")
    tracemalloc.start()
    try:
        out = [json.loads(x) for x in evaluate_lines(stream, jobs=1)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out[0]["line"] == 1 and out[0]["error"] == "too_large"
    assert out[1] == evaluate_dict(example("transfer_in"))
    assert peak < 16 << 20, peak


def test_a_line_that_never_ends_is_answered_and_the_rest_is_not_read():
    stream = EndlessLine(1 << 40, fill=b"\0")  # /dev/zero
    tasks = batch._read_tasks(stream, max_line=1000, max_unended=50_000, read_size=4096)
    assert list(tasks) == [(1, None, (50_000 - 50_000 % 4096 + 4096, True))]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cli_dev_zero_is_one_error_record_and_exit_2(jobs):
    proc = cli("evaluate", "--batch", "/dev/zero", "--jobs", jobs)
    assert proc.returncode == 2, proc.stderr.decode()
    (rec,) = [json.loads(x) for x in proc.stdout.splitlines()]
    assert rec["line"] == 1 and rec["error"] == "too_large" and "JSON Lines" in rec["message"]
    assert b"Traceback" not in proc.stderr and "内部错误" not in proc.stderr.decode()


def test_cli_a_line_over_the_bound_with_jobs_2(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(GOOD + b"\n" + b'{"case_id": "' + b"x" * (3 * MAX_LINE_BYTES) + b'"}\n' + GOOD + b"\n")
    proc = cli("evaluate", "--batch", str(src), "--jobs", "2")
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [r.get("error") for r in out] == [None, "too_large", None] and out[1]["line"] == 2
    assert proc.returncode == 2


# --------------------------------------------------------------------------- the property

_VALID = [GOOD, DENIED]
_BAD = [b"{not json", b"[1, 2]", b'{"action": "x"}', YEAR0, SURROGATE_ESCAPE, SURROGATE_RAW, DUPLICATE,
        b"\xef\xbb\xbf" + GOOD, GOOD + b"\r", b"null", b"\xff\xfe", b"[" * 3000 + b"]" * 3000]
_BLANK = [b"", b" ", b"\t\r", b"\x0b\x0c"]
_HUGE = [b"y" * (MAX_LINE_BYTES + 5), b" " * (MAX_LINE_BYTES + 5)]  # the second is blank

lines_strategy = st.lists(st.one_of(st.sampled_from(_VALID), st.sampled_from(_BAD), st.sampled_from(_BLANK),
                                    st.sampled_from(_HUGE), st.binary(max_size=40).map(lambda b: b.replace(b"\n", b""))),
                          max_size=12)


def _check_one_record_per_non_blank_line(lines: list[bytes], trailing_newline: bool, jobs: int) -> None:
    data = b"\n".join(lines) + (b"\n" if trailing_newline else b"")
    out = [json.loads(x) for x in evaluate_stream_lines(data, jobs)]
    expected = [n for n, raw in enumerate(lines, 1) if raw.strip()]
    assert len(out) == len(expected)
    for n, rec in zip(expected, out):
        if "error" in rec:
            assert rec["line"] == n
        else:
            assert lines[n - 1].strip(b"\r") in _VALID or lines[n - 1].startswith(b"\xef\xbb\xbf")


def evaluate_stream_lines(data: bytes, jobs: int) -> list[str]:
    return b"".join(evaluate_stream(io.BytesIO(data), jobs=jobs)).decode("utf-8").split("\n")[:-1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(lines_strategy, st.booleans())
def test_property_one_record_per_non_blank_line_in_order_jobs_1(lines, trailing_newline):
    _check_one_record_per_non_blank_line(lines, trailing_newline, 1)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(lines_strategy, st.booleans())
def test_property_one_record_per_non_blank_line_in_order_jobs_2(lines, trailing_newline):
    _check_one_record_per_non_blank_line(lines, trailing_newline, 2)


# --------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize("lines,code", [([GOOD, GOOD], 0), ([], 0), ([GOOD, DENIED], 1), ([GOOD, DENIED, b"{"], 2)])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_exit_code_is_the_worst_record(tmp_path, lines, code, jobs):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n" if lines else b"")
    proc = cli("evaluate", "--batch", str(src), "--jobs", jobs)
    assert proc.returncode == code, proc.stderr.decode()
    assert len(proc.stdout.splitlines()) == len(lines)


def test_batch_exit_code_3_when_a_line_hit_a_bug(tmp_path, monkeypatch, capsysbinary):
    from xueji_policy import engine
    from xueji_policy.cli.main import main

    monkeypatch.setattr(engine, "evaluate_dict", lambda case, **kw: 1 / 0)
    src = tmp_path / "in.jsonl"
    src.write_bytes(GOOD + b"\n" + b"{\n")
    assert main(["evaluate", "--batch", str(src)]) == 3
    out = [json.loads(x) for x in capsysbinary.readouterr().out.splitlines()]
    assert [r["error"] for r in out] == ["internal_error", "malformed_json"]


@pytest.mark.parametrize("jobs", ["-1", "65"])
def test_jobs_out_of_range_is_a_user_error(jobs):
    proc = cli("evaluate", "--batch", "/dev/null", "--jobs", jobs)
    assert proc.returncode == 2 and "--jobs" in proc.stderr.decode()


# --------------------------------------------------------------------------- output faults


@pytest.mark.parametrize("args", [["--batch", "IN", "--jobs", "1"], ["--batch", "IN", "--jobs", "2"], ["CASE"]])
def test_dev_full_as_stdout_is_a_clear_exit_2(tmp_path, args):
    src = tmp_path / "in.jsonl"
    src.write_bytes(GOOD + b"\n")
    case = ROOT / "examples" / "transfer_in.json"
    argv = [str(src) if a == "IN" else str(case) if a == "CASE" else a for a in args]
    with open("/dev/full", "wb") as full:
        proc = cli("evaluate", *argv, stdout=full)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "磁盘空间不足" in err and "内部错误" not in err and "Traceback" not in err and "Exception" not in err
