"""Load stage, first step: a rules directory read once, safely, into memory.

Everything a rule set consists of — the YAML files at the top of the directory, the holiday
files under ``calendar/`` and a JSON case schema beside them — is read here and nowhere else,
so that the fingerprint (sha256) names exactly the bytes the rule set was built from: a file
edited while a load runs can never map the new fingerprint to the old rules.

Reading is defensive (the rules directory may be writable by people who are not the service's
operator): no link is followed out of the directory, only regular files are read (a FIFO or a
device never blocks or floods a load), every file and the whole set have a size bound, and a
refused file is named, never echoed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Location, RuleError, StructureError

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 32 * 1024 * 1024
MAX_FILES = 400
RULE_SUFFIXES = (".yaml", ".yml")
SCHEMA_SUFFIXES = (".json",)
CALENDAR_DIR = "calendar"


@dataclass
class RuleFiles:
    """The bytes of every file of one rules directory, by name relative to it (``13.yaml``,
    ``calendar/2027.yaml``, ``case.schema.json``)."""

    root: Path  # as given (shown in messages by its name)
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[RuleError] = field(default_factory=list)
    _dirs: set[str] = field(default_factory=set)  # subdirectories present (calendar/)

    @property
    def sha256(self) -> str:
        sha = hashlib.sha256()
        for name in sorted(self.files):
            sha.update(name.encode("utf-8") + b"\0" + self.files[name] + b"\0")
        return sha.hexdigest()

    def shown(self, name: str) -> str:
        """How a file is named in messages: ``rules/13.yaml``."""
        return f"{self.root.name}/{name}" if self.root.name else name

    def names(self, suffixes: tuple[str, ...], directory: str = "") -> list[str]:
        prefix = f"{directory}/" if directory else ""
        return sorted(n for n in self.files
                      if n.startswith(prefix) and "/" not in n[len(prefix):] and n.endswith(suffixes))

    def has_dir(self, directory: str) -> bool:
        return directory in self._dirs


def read_rule_files(root: Path | str) -> RuleFiles:
    """Read the rules directory ``root``.  Missing directory: an empty set with a problem."""
    given = Path(root)
    out = RuleFiles(given)
    try:
        real = given.resolve(strict=True)
    except (OSError, RuntimeError):
        out.problems.append(StructureError(f"规则目录不存在：{given}", Location(str(given), 1, 1),
                                           message_en=f"rules directory not found: {given}"))
        return out
    if not real.is_dir():
        out.problems.append(StructureError(f"规则目录不存在：{given}", Location(str(given), 1, 1),
                                           message_en=f"rules directory not found: {given}"))
        return out
    total = 0
    for directory, suffixes in (("", RULE_SUFFIXES + SCHEMA_SUFFIXES), (CALENDAR_DIR, RULE_SUFFIXES)):
        base = real / directory if directory else real
        if directory:
            entry = real / directory
            if entry.is_symlink() and not _inside(entry, real):
                out.problems.append(_refused(out, directory))
                continue
            if not entry.is_dir():
                continue
            out._dirs.add(directory)
        try:
            entries = sorted(os.scandir(base), key=lambda e: e.name)
        except OSError as e:
            out.problems.append(StructureError(f"无法读取规则目录：{e.strerror}", Location(out.shown(directory), 1, 1),
                                               message_en=f"cannot read the rules directory: {e.strerror}"))
            continue
        for item in entries:
            if not item.name.endswith(suffixes) or item.name.startswith("."):
                continue
            name = f"{directory}/{item.name}" if directory else item.name
            if len(out.files) >= MAX_FILES:
                out.problems.append(StructureError(f"规则目录中的文件过多（上限 {MAX_FILES} 个）",
                                                   Location(out.shown(name), 1, 1), message_en="too many files"))
                return out
            data = _read_one(out, real, Path(item.path), name)
            if data is None:
                continue
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                out.problems.append(StructureError(f"规则目录过大（上限 {MAX_TOTAL_BYTES // (1024 * 1024)} MiB）",
                                                   Location(out.shown(name), 1, 1), message_en="rules too large"))
                return out
            out.files[name] = data
    return out


def _inside(path: Path, real_root: Path) -> bool:
    try:
        path.resolve(strict=True).relative_to(real_root)
    except (OSError, RuntimeError, ValueError):
        return False
    return True


def _refused(out: RuleFiles, name: str) -> StructureError:
    # Never the target's name or content: only that the link leaves the directory.
    return StructureError(f"'{name}' 是指向规则目录之外的链接，已拒绝读取", Location(out.shown(name), 1, 1),
                          message_en=f"'{name}' links outside the rules directory; refused")


def _read_one(out: RuleFiles, real_root: Path, path: Path, name: str) -> bytes | None:
    target = path
    if path.is_symlink():
        if not _inside(path, real_root):
            out.problems.append(_refused(out, name))
            return None
        target = path.resolve(strict=True)
    try:
        # O_NOFOLLOW: the checked file cannot be swapped for a link between the check and the open;
        # O_NONBLOCK: a FIFO never blocks the load.
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        if getattr(e, "errno", None) in (getattr(os, "ELOOP", -1),):
            out.problems.append(_refused(out, name))
        else:
            out.problems.append(StructureError(f"无法读取文件：{e.strerror}", Location(out.shown(name), 1, 1),
                                               message_en=f"cannot read file: {e.strerror}"))
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            out.problems.append(StructureError("不是普通文件，已拒绝读取", Location(out.shown(name), 1, 1),
                                               message_en="not a regular file; refused"))
            return None
        if st.st_size > MAX_FILE_BYTES:
            out.problems.append(StructureError(f"文件过大（超过 {MAX_FILE_BYTES // 1024} KiB）",
                                               Location(out.shown(name), 1, 1), message_en="file too large"))
            return None
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_FILE_BYTES:  # grew while being read
                out.problems.append(StructureError(f"文件过大（超过 {MAX_FILE_BYTES // 1024} KiB）",
                                                   Location(out.shown(name), 1, 1), message_en="file too large"))
                return None
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as e:
        out.problems.append(StructureError(f"无法读取文件：{e.strerror}", Location(out.shown(name), 1, 1),
                                           message_en=f"cannot read file: {e.strerror}"))
        return None
    finally:
        os.close(fd)
