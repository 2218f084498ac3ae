"""Decision records: one JSON line per decision, reproducible later, with no personal data.

``DecisionLog(path)`` is a decision hook (``evaluate(case, on_decision=log)``, or
``xueji-policy evaluate --log FILE``).  Each record holds the time, the case id (an ID
number in it masked), the action, the decision, outcome, the rule ids of the reasons
and basis, the obligations' due dates, the rule set's version and sha256, and two
*salted* hashes — of the student's ID number and of the whole case — never the data
itself (第三十二条).  The salt comes from ``$XUEJI_POLICY_LOG_SALT`` or a ``<log>.salt``
file created beside the log on first use (keep it: replay needs it to match cases).  The
salt file is written in full under a temporary name and then linked into place, so
processes starting together all read the same, complete salt.

Each record is written with a single ``write`` on a file opened ``O_APPEND``, so
concurrent writers (batch worker processes) never interleave and a process killed
mid-run leaves whole lines only.  A write that fails part-way (a full disk) leaves a
torn last line: the next write first checks the tail and starts a new line, so a
failed record never swallows the next one; ``read_log`` skips (and reports) the torn
line.  Every failure to open or write the log is a ``LogError`` (exit code 2).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .contract import id_number_paths, value_at
from .errors import XuejiError
from .ioerrors import bounded_lines, os_error_zh
from .privacy import mask_ids_in_text

(_ID_PATH,) = id_number_paths()  # the student's ID number: hashed, never written

_MIN_SALT = 16  # bytes; a generated salt has 64


class LogError(XuejiError):
    """The decision log (or its salt) cannot be opened, read or written."""

    code = "log_error"

    def __init__(self, message: str, message_en: str):
        super().__init__(mask_ids_in_text(message), mask_ids_in_text(message_en))


def _io_error(path: Path, what_zh: str, what_en: str, e: OSError) -> LogError:
    return LogError(f"决定记录{what_zh} {path}：{os_error_zh(e)}", f"decision log: {what_en} {path}: {e.strerror or e}")


def salt_for(path: Path, *, create: bool = True) -> bytes:
    """The log's salt: from the environment, else ``<log>.salt`` (made on first use if ``create``)."""
    env = os.environ.get("XUEJI_POLICY_LOG_SALT")
    if env:
        return env.encode("utf-8")
    salt_file = path.with_name(path.name + ".salt")
    try:
        try:
            salt = salt_file.read_bytes()
        except FileNotFoundError:
            if not create:
                raise LogError(f"找不到决定记录的盐文件 {salt_file}：没有它无法把案例与记录对应"
                               "（或用 XUEJI_POLICY_LOG_SALT 给出写记录时的盐）",
                               f"no salt file {salt_file} for the decision log (or set XUEJI_POLICY_LOG_SALT)") from None
            salt = _create_salt(salt_file)
    except OSError as e:
        raise _io_error(salt_file, "的盐文件无法读写", "cannot read or write the salt file", e) from None
    if len(salt) < _MIN_SALT:
        raise LogError(f"决定记录的盐文件 {salt_file} 为空或过短（{len(salt)} 字节）；"
                       "若这份记录还没有内容，删除该文件后重试",
                       f"the salt file {salt_file} is empty or too short ({len(salt)} bytes)")
    return salt


def _create_salt(salt_file: Path) -> bytes:
    """Write a new salt in full under a temporary name, then link it into place.

    ``link`` fails if the salt file exists, so of processes racing here exactly one
    salt wins, and no reader can ever see the file before it holds the whole salt."""
    salt = secrets.token_hex(32).encode()
    fd, tmp = tempfile.mkstemp(dir=salt_file.parent, prefix=f".{salt_file.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(salt)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, salt_file)
        except FileExistsError:  # another process made it first: use theirs
            return salt_file.read_bytes()
        except OSError as e:  # a file system without hard links: no safe way to publish the salt here
            raise LogError(f"无法在 {salt_file.parent} 创建决定记录的盐文件（{os_error_zh(e)}，该文件系统可能不支持硬链接）；"
                           "请用环境变量 XUEJI_POLICY_LOG_SALT 给出盐",
                           f"cannot create the salt file in {salt_file.parent} ({e.strerror}; no hard links?): "
                           "set XUEJI_POLICY_LOG_SALT") from None
        return salt
    finally:
        os.unlink(tmp)


def _canonical(case) -> bytes:
    # surrogatepass: a lone surrogate in a case must hash, not crash the log
    return json.dumps(case, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


class DecisionLog:
    """Appends one JSON line per decision to ``path``; usable as ``on_decision``.

    The file is opened at once, so an unusable path is reported before anything is
    decided (a ``LogError``, exit code 2)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._fd = self._open()
        self.salt = salt_for(self.path)
        self._check_tail = True  # before the first write, and again after a failed one

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as e:
            raise _io_error(self.path, "无法打开", "cannot open", e) from None

    def hash(self, data: bytes) -> str:
        return hmac.new(self.salt, data, hashlib.sha256).hexdigest()

    def case_hash(self, case) -> str:
        return self.hash(_canonical(case))

    def record_for(self, case: dict, decision: dict) -> dict:
        id_number = value_at(case, _ID_PATH)  # the field the case schema marks format: gb11643
        case_id = decision.get("case_id")
        return {
            "time": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
            "case_id": mask_ids_in_text(case_id) if isinstance(case_id, str) else case_id,
            "action": decision["action"],
            "decision": decision["decision"],
            "outcome": decision["outcome"],
            "reasons": [r["rule"] for r in decision["reasons"]],
            "basis": [r["rule"] for r in decision["basis"]],
            "obligations": [[o["rule"], o["due"]] for o in decision["obligations"]],
            "ruleset_version": decision["ruleset"]["version"],
            "ruleset_sha256": decision["ruleset"]["sha256"],
            "student_id_hash": self.hash(str(id_number).encode("utf-8", "surrogatepass")) if id_number else None,
            "case_hash": self.case_hash(case),
        }

    def __call__(self, case: dict, decision: dict) -> None:
        line = json.dumps(self.record_for(case, decision), ensure_ascii=False, separators=(",", ":")) + "\n"
        self.write_line(line.encode("utf-8", "backslashreplace"))  # a lone surrogate as its JSON escape

    def write_line(self, data: bytes) -> None:
        """Append one whole line with one ``write``; a torn tail left by an earlier failure is
        ended first (in the same write), so the new record always starts on a line of its own."""
        if self._fd is None:
            self._fd = self._open()
        if self._check_tail and self._tail_is_torn():
            data = b"\n" + data
        self._check_tail = True  # until this write is known to be whole
        try:
            written = os.write(self._fd, data)  # one write, O_APPEND: whole lines, never interleaved
        except OSError as e:
            raise _io_error(self.path, "写入失败", "write failed", e) from None
        if written != len(data):  # a full disk part-way through the line
            raise LogError(f"决定记录写入不完整 {self.path}：磁盘空间可能不足（写入 {written}/{len(data)} 字节）",
                           f"decision log: short write to {self.path} ({written}/{len(data)} bytes)")
        self._check_tail = False

    def _tail_is_torn(self) -> bool:
        """Whether the file's last byte is not a newline (a record cut short by a failed write)."""
        try:
            if self._fd is None or not stat.S_ISREG(os.fstat(self._fd).st_mode):
                return False  # a device or pipe has no tail to repair
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False  # cannot look: write as usual
        try:
            size = os.fstat(fd).st_size
            return size > 0 and os.pread(fd, 1, size - 1) != b"\n"
        except OSError:
            return False
        finally:
            os.close(fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


MAX_RECORD_BYTES = 1 << 20  # a log line longer than this is not a record: skipped, not read whole


def read_log(path: str | Path) -> Iterator[tuple[int, dict | None]]:
    """(line number, record) per line; a torn, oversized or unreadable line gives (n, None)."""
    with open(path, "rb") as f:
        for n, raw in bounded_lines(f, MAX_RECORD_BYTES):
            if len(raw) > MAX_RECORD_BYTES:  # an over-long line is no record (the rest was skipped)
                yield n, None
                continue
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
                yield n, rec if isinstance(rec, dict) and "case_hash" in rec else None
            except (UnicodeDecodeError, ValueError, RecursionError):
                yield n, None
