"""Personal data: the resident ID number (居民身份证号码, GB 11643-1999).

An ID number is checked here and never shown in full anywhere else: messages
are scrubbed with :func:`mask_ids_in_text` and single numbers shown with
:func:`mask_id` (first 4 and last 4 characters kept).
"""

from __future__ import annotations

import datetime as _dt
import re
from operator import mul

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ZERO_OFFSET = 48 * sum(_WEIGHTS)
_ASCII_DIGITS = frozenset("0123456789")

# Shipped examples, golden cases and test inputs use ID numbers whose administrative
# region code starts with "99": GB/T 2260 assigns no such code, so they are well formed
# (real birth date, correct check digit) yet can name nobody.  See docs/case-contract.md.
TEST_REGION_PREFIX = "99"


def gb11643_check_char(first17: str) -> str:
    """The check character (``0``–``9`` or ``X``) for the first 17 digits."""
    if len(first17) != 17 or not set(first17) <= _ASCII_DIGITS:
        raise ValueError("need exactly 17 ASCII digits")
    # Σ (digit × weight) = Σ (byte × weight) − 48 × Σ weight: the products run in C.
    total = sum(map(mul, first17.encode("ascii"), _WEIGHTS)) - _ZERO_OFFSET
    return _CHECK_CHARS[total % 11]


def gb11643_birth_date_valid(s: str) -> bool:
    """Whether characters 7–14 of an 18-character number are a real calendar date."""
    part = s[6:14]
    if len(part) != 8 or not set(part) <= _ASCII_DIGITS:
        return False
    try:
        _dt.date(int(part[:4]), int(part[4:6]), int(part[6:]))
    except ValueError:
        return False
    return True


def gb11643_valid(s: str) -> bool:
    """True iff ``s`` is an 18-character resident ID number with a correct check digit
    and a real birth date.  The check character ``X`` may also be written ``x``."""
    if not isinstance(s, str) or len(s) != 18 or not s.isascii():
        return False
    body, check = s[:17], s[17].upper()
    if not body.isdigit() or check not in _CHECK_CHARS:
        return False
    total = sum(map(mul, body.encode("ascii"), _WEIGHTS)) - _ZERO_OFFSET
    if _CHECK_CHARS[total % 11] != check:
        return False
    try:
        _dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return True


def mask_id(s: str) -> str:
    """Keep the first 4 and last 4 characters, ``*`` in between; 8 or fewer characters: all ``*``.

    >>> mask_id("21080220080315123X")
    '2108**********123X'
    """
    s = str(s)
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


# 18 characters (17 digits + digit/X) or 15 digits, not inside a longer digit run.
_ID_RUN = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?!\d)")


_SHORTEST_ID = 15  # the old 15-digit resident ID; current ones have 18 characters


def may_hold_id(text: str) -> bool:
    """Cheap test before the regular expression: could ``text`` contain an ID number at all?"""
    return len(text) >= _SHORTEST_ID


def mask_ids_in_text(text: str) -> str:
    """Mask every ID-number-looking run (18 or 15 characters) in ``text``."""
    if not text:
        return text
    return _ID_RUN.sub(lambda m: mask_id(m.group(0)), text)
