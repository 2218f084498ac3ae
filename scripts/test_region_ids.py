"""Rewrite every ID number in the shipped examples, golden cases and test inputs to one
that cannot be a real person's: administrative region codes starting with ``99`` are not
assigned by GB/T 2260, so ``99xxxx…`` is a well-formed GB 11643 number (birth date,
sequence and sex digit kept, check digit recomputed) that names nobody.

    python scripts/test_region_ids.py            # rewrite in place (idempotent)
    python scripts/test_region_ids.py --check    # exit 1 if a real-region number remains

Only the ID digits change: a region ``RRrrrr`` becomes ``99rrrr``.  A number whose check
digit was deliberately wrong stays wrong by the same offset; a 15-digit old-form number
gets the same region rewrite.  ``xueji_number`` values that embed the ID follow along,
since every occurrence of a number is rewritten the same way.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xueji_policy.privacy import TEST_REGION_PREFIX, gb11643_check_char  # noqa: E402

_CHECK = "10X98765432"
_ID18 = re.compile(r"(?<![0-9])([0-9]{17})([0-9Xx])(?![0-9])")
_ID15 = re.compile(r"(?<![0-9])([0-9]{15})(?![0-9])")


def _rewrite18(m: re.Match) -> str:
    body, check = m.group(1), m.group(2)
    if body.startswith(TEST_REGION_PREFIX):
        return m.group(0)
    was_ok = gb11643_check_char(body) == check.upper()
    new_body = TEST_REGION_PREFIX + body[2:]
    new_check = gb11643_check_char(new_body)
    if not was_ok:  # keep a deliberately wrong check digit wrong by the same offset
        offset = _CHECK.index(check.upper()) - _CHECK.index(gb11643_check_char(body))
        new_check = _CHECK[(_CHECK.index(new_check) + offset) % 11]
    if check == "x" and new_check == "X":
        new_check = "x"
    return new_body + new_check


def _rewrite15(m: re.Match) -> str:
    s = m.group(1)
    return s if s.startswith(TEST_REGION_PREFIX) else TEST_REGION_PREFIX + s[2:]


def rewrite_text(text: str) -> str:
    return _ID15.sub(_rewrite15, _ID18.sub(_rewrite18, text))


def files() -> list[Path]:
    out = sorted((ROOT / "examples").glob("*.json*")) + sorted((ROOT / "cases").rglob("*.json"))
    out += sorted((ROOT / "tests" / "bad_inputs").glob("*"))
    out += sorted((ROOT / "tests" / "fixtures").rglob("*.json"))
    return [p for p in out if p.is_file()]


def _codec(p: Path) -> str:
    raw = p.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if p.suffix == ".bin":
        return "gbk"
    return "utf-8"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    bad = 0
    for p in files():
        codec = _codec(p)
        text = p.read_bytes().decode(codec, errors="surrogateescape" if codec != "utf-16" else "strict")
        new = rewrite_text(text)
        if new != text:
            if check:
                print(f"real-region ID number in {p.relative_to(ROOT)}")
                bad += 1
            else:
                p.write_bytes(new.encode(codec, errors="surrogateescape" if codec != "utf-16" else "strict"))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
