"""Decision-log faults: a failed write never corrupts the next record, the salt is made once
for everyone, and I/O failures are user errors (exit 2) with a Chinese message."""

from __future__ import annotations

import errno
import json
import multiprocessing as mp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xueji_policy import audit
from xueji_policy.audit import DecisionLog, LogError, read_log, salt_for
from xueji_policy.engine import evaluate_dict

ROOT = Path(__file__).resolve().parent.parent
CASE = json.loads((ROOT / "examples" / "transfer_in.json").read_text(encoding="utf-8"))


def cli(*args: str, env_extra: dict | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "xueji_policy", *args], capture_output=True, cwd=ROOT,
                          timeout=300, env=env, **kw)


@pytest.fixture
def salted(monkeypatch):
    monkeypatch.setenv("XUEJI_POLICY_LOG_SALT", "test-salt-0123456789")


def test_a_write_that_fails_part_way_does_not_swallow_the_next_record(tmp_path, monkeypatch, salted):
    """A full disk: half a record is written, then ENOSPC.  The next record starts a new line."""
    decision = evaluate_dict(CASE)
    log = DecisionLog(tmp_path / "d.log")
    real_write = os.write

    def full_disk(fd, data):
        real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(LogError) as e:
        log(CASE, decision)
    assert e.value.exit_code == 2 and "磁盘空间不足" in e.value.message
    monkeypatch.setattr(os, "write", real_write)
    log(CASE, decision)
    log(CASE, decision)
    log.close()
    got = list(read_log(tmp_path / "d.log"))
    assert [n for n, _ in got] == [1, 2, 3] and got[0][1] is None
    assert all(rec is not None and rec["decision"] == "allow" for _, rec in got[1:])


def test_a_short_write_is_an_error_and_the_next_record_is_whole(tmp_path, monkeypatch, salted):
    decision = evaluate_dict(CASE)
    log = DecisionLog(tmp_path / "d.log")
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:10]))
    with pytest.raises(LogError):
        log(CASE, decision)
    monkeypatch.setattr(os, "write", real_write)
    log(CASE, decision)
    got = list(read_log(tmp_path / "d.log"))
    assert got[0][1] is None and got[1][1] is not None and len(got) == 2


def test_a_torn_tail_left_by_another_process_is_ended_before_the_next_record(tmp_path, salted):
    path = tmp_path / "d.log"
    path.write_bytes(b'{"time": "2026-')  # a power cut mid-record
    with DecisionLog(path) as log:
        log(CASE, evaluate_dict(CASE))
    got = list(read_log(path))
    assert got[0] == (1, None) and got[1][0] == 2 and got[1][1]["decision"] == "allow"
    assert path.read_bytes().endswith(b"\n")


def test_a_huge_line_in_a_log_is_skipped_in_bounded_pieces(tmp_path):
    import tracemalloc

    path = tmp_path / "d.log"
    path.write_bytes(b"x" * (24 * audit.MAX_RECORD_BYTES) + b"\n" + b'{"case_hash": "h"}\n')
    tracemalloc.start()
    try:
        got = list(read_log(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == [(1, None), (2, {"case_hash": "h"})]
    assert peak < 4 * audit.MAX_RECORD_BYTES, peak


# --------------------------------------------------------------------------- the salt


def _make_salt(path: str, barrier, queue) -> None:
    os.environ.pop("XUEJI_POLICY_LOG_SALT", None)
    barrier.wait()
    try:
        queue.put(salt_for(Path(path)))
    except Exception as e:  # reported, so the test fails with the reason
        queue.put(repr(e).encode())


def test_twelve_processes_creating_the_salt_at_once_all_get_the_same_whole_salt(tmp_path):
    """Before: the salt file was created empty and then written — a reader in between got b""."""
    ctx = mp.get_context("fork")
    for round_ in range(20):
        path = tmp_path / f"r{round_}" / "d.log"
        path.parent.mkdir()
        barrier, queue = ctx.Barrier(12), ctx.Queue()
        procs = [ctx.Process(target=_make_salt, args=(str(path), barrier, queue)) for _ in range(12)]
        for p in procs:
            p.start()
        salts = [queue.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        assert len(set(salts)) == 1 and len(salts[0]) == 64, salts
        assert path.with_name("d.log.salt").read_bytes() == salts[0]
        assert [p.name for p in path.parent.iterdir()] == ["d.log.salt"]  # no temporary file left


def test_an_empty_salt_file_is_refused_not_used(tmp_path, monkeypatch):
    monkeypatch.delenv("XUEJI_POLICY_LOG_SALT", raising=False)
    (tmp_path / "d.log.salt").write_bytes(b"")
    with pytest.raises(LogError) as e:
        DecisionLog(tmp_path / "d.log")
    assert "为空" in e.value.message and e.value.exit_code == 2


def test_replay_without_the_salt_is_a_clear_error(tmp_path):
    (tmp_path / "d.log").write_bytes(b"")
    env = {k: v for k, v in os.environ.items() if k != "XUEJI_POLICY_LOG_SALT"}
    proc = subprocess.run([sys.executable, "-m", "xueji_policy", "replay", str(tmp_path / "d.log"),
                           str(ROOT / "examples" / "transfer_in.json")], capture_output=True, cwd=ROOT, env=env,
                          timeout=120)
    assert proc.returncode == 2 and "盐文件" in proc.stderr.decode()
    assert not (tmp_path / "d.log.salt").exists()  # replay never makes a new salt: it could match nothing


# --------------------------------------------------------------------------- I/O failures are user errors


@pytest.mark.parametrize("where", ["missing_dir", "a_directory"])
@pytest.mark.parametrize("mode", ["single", "batch1", "batch2"])
def test_an_unusable_log_path_is_exit_2_before_anything_is_decided(tmp_path, where, mode):
    log = tmp_path / "nope" / "d.log" if where == "missing_dir" else tmp_path
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(CASE, ensure_ascii=False) + "\n", encoding="utf-8")
    args = (["evaluate", str(ROOT / "examples" / "transfer_in.json")] if mode == "single"
            else ["evaluate", "--batch", str(src), "--jobs", mode[-1]])
    proc = cli(*args, "--log", str(log))
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "决定记录" in err and "内部错误" not in err and "Traceback" not in err
    assert proc.stdout == b""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_under_the_log_gives_error_records_and_exit_2(tmp_path, jobs):
    """Every decision that could not be recorded is an error record (not output as decided)."""
    log = tmp_path / "d.log"
    log.symlink_to("/dev/full")
    src = tmp_path / "in.jsonl"
    src.write_text((json.dumps(CASE, ensure_ascii=False) + "\n") * 3, encoding="utf-8")
    proc = cli("evaluate", "--batch", str(src), "--jobs", jobs, "--log", str(log))
    assert proc.returncode == 2, proc.stderr.decode()
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [(r["line"], r["error"]) for r in out] == [(1, "log_error"), (2, "log_error"), (3, "log_error")]
    assert "磁盘空间不足" in out[0]["message"]
    single = cli("evaluate", str(ROOT / "examples" / "transfer_in.json"), "--log", str(log))
    assert single.returncode == 2 and "磁盘空间不足" in single.stderr.decode() and single.stdout == b""


@pytest.mark.parametrize("target", ["/dev/full", "missing_dir", "a_directory"])
def test_an_unwritable_report_target_is_exit_2(tmp_path, target):
    out = {"missing_dir": str(tmp_path / "nope" / "r.html"), "a_directory": str(tmp_path)}.get(target, target)
    proc = cli("report", "-o", out)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "无法写入报告" in err and "内部错误" not in err


def test_a_read_only_report_target_is_exit_2(tmp_path, monkeypatch, capsys):
    """Tests run as root here, where chmod cannot make a file read-only: simulate EROFS/EACCES."""
    from xueji_policy import report
    from xueji_policy.cli.main import main

    def read_only(*a, **kw):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(report.Path, "write_text", read_only)
    assert main(["report", "-o", str(tmp_path / "r.html")]) == 2
    assert "没有权限" in capsys.readouterr().err


def test_a_file_system_without_hard_links_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("XUEJI_POLICY_LOG_SALT", raising=False)

    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with pytest.raises(LogError) as e:
        DecisionLog(tmp_path / "d.log")
    assert "XUEJI_POLICY_LOG_SALT" in e.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.log"]  # no temporary salt left behind
