"""I/O failures as user errors: a full disk, a missing directory or an unwritable file is the
user's to fix, so it is reported in Chinese with exit code 2, never as an internal error."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from typing import IO

from .errors import XuejiError
from .privacy import mask_ids_in_text

_ZH = {
    errno.ENOENT: "文件或目录不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EISDIR: "这是一个目录，不是文件",
    errno.ENOTDIR: "路径中的某一级不是目录",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "超出磁盘配额",
    errno.EROFS: "只读文件系统",
    errno.EFBIG: "文件过大",
    errno.EIO: "输入输出错误",
    errno.ENAMETOOLONG: "路径过长",
    errno.ELOOP: "符号链接层数过多",
}


def os_error_zh(e: OSError) -> str:
    """The reason of an ``OSError`` in Chinese (the system's English text when we have none)."""
    return _ZH.get(e.errno or 0, e.strerror or "输入输出错误")


class IOFailure(XuejiError):
    """Reading or writing a file (or stdout) failed for a reason outside the program."""

    code = "io_error"

    def __init__(self, what_zh: str, what_en: str, e: OSError):
        self.errno = e.errno
        super().__init__(mask_ids_in_text(f"{what_zh}：{os_error_zh(e)}"),
                         mask_ids_in_text(f"{what_en}: {e.strerror or e}"))


def silence_stdout() -> None:
    """Point fd 1 at /dev/null after a failed write to stdout, so that the interpreter's own
    flush at exit does not fail a second time (and print a traceback-like warning)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


_SKIP_PIECE = 256 * 1024  # the rest of an over-long line is skipped in pieces of this size


def bounded_lines(fp: IO[bytes], max_line: int) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of a binary file, never reading a line whole past ``max_line``.

    A longer line is given as its first ``max_line + 1`` bytes (its parse then reports
    ``too_large``) and the rest of it is skipped in pieces.  For bounded inputs (the
    service's spooled body, a decision log); a stream that may never end a line needs
    ``batch._read_tasks``."""
    n = 0
    while True:
        raw = fp.readline(max_line + 1)
        if not raw:
            return
        n += 1
        if len(raw) > max_line and not raw.endswith(b"\n"):
            rest = raw
            while rest and not rest.endswith(b"\n"):
                rest = fp.readline(_SKIP_PIECE)
        yield n, raw
