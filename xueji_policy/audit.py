"""Decision records: one JSON line per decision, reproducible later, with no personal data.

``DecisionLog(path)`` is a decision hook (``evaluate(case, on_decision=log)``, or
``xueji-policy evaluate --log FILE``).  Each record holds the time, the case id (an ID
number in it masked), the action, the decision, outcome, the rule ids of the reasons
and basis, the obligations' due dates, the rule set's version and sha256, and two
*salted* hashes — of the student's ID number and of the whole case — never the data
itself (第三十二条).  The salt comes from ``$XUEJI_POLICY_LOG_SALT`` or a ``<log>.salt``
file created beside the log on first use (keep it: replay needs it to match cases).

Each record is written with a single ``write`` on a file opened ``O_APPEND``, so
concurrent writers (batch worker processes) never interleave and a process killed
mid-run leaves whole lines only; ``read_log`` still skips (and reports) a torn last
line, e.g. after a power cut.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from .privacy import mask_ids_in_text


def _salt_for(path: Path) -> bytes:
    env = os.environ.get("XUEJI_POLICY_LOG_SALT")
    if env:
        return env.encode("utf-8")
    salt_file = path.with_name(path.name + ".salt")
    try:
        return salt_file.read_bytes()
    except FileNotFoundError:
        salt = secrets.token_hex(32).encode()
        try:
            fd = os.open(salt_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return salt_file.read_bytes()
        with os.fdopen(fd, "wb") as f:
            f.write(salt)
        return salt


def _canonical(case) -> bytes:
    return json.dumps(case, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class DecisionLog:
    """Appends one JSON line per decision to ``path``; usable as ``on_decision``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.salt = _salt_for(self.path)
        self._fd: int | None = None

    def hash(self, data: bytes) -> str:
        return hmac.new(self.salt, data, hashlib.sha256).hexdigest()

    def case_hash(self, case) -> str:
        return self.hash(_canonical(case))

    def record_for(self, case: dict, decision: dict) -> dict:
        student = case.get("student") if isinstance(case, dict) else None
        id_number = student.get("id_number") if isinstance(student, dict) else None
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
            "student_id_hash": self.hash(str(id_number).encode()) if id_number else None,
            "case_hash": self.case_hash(case),
        }

    def __call__(self, case: dict, decision: dict) -> None:
        line = json.dumps(self.record_for(case, decision), ensure_ascii=False, separators=(",", ":")) + "\n"
        data = line.encode("utf-8")
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        written = os.write(self._fd, data)  # one write, O_APPEND: whole lines, never interleaved
        if written != len(data):  # a full disk: never leave half a line as if it were a record
            os.write(self._fd, b"\n")
            raise OSError(f"decision log: short write to {self.path}")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_log(path: str | Path) -> Iterator[tuple[int, dict | None]]:
    """(line number, record) per line; a torn or unreadable line gives (n, None)."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw.decode("utf-8"))
                yield n, rec if isinstance(rec, dict) and "case_hash" in rec else None
            except (UnicodeDecodeError, ValueError):
                yield n, None
