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
_fromiso = _dt.date.fromisoformat

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
    # Every case with an ID number runs this: one C call each.  The weights are 2^(17-i) mod 11,
    # and 13 ≡ 2 (mod 11), so Σ dᵢ·wᵢ ≡ 2 · int(body, 13) (mod 11) (body: 17 ASCII digits).
    if _CHECK_CHARS[2 * int(body, 13) % 11] != check:
        return False
    try:
        _fromiso(s[6:14])  # YYYYMMDD, 8 ASCII digits: the basic ISO form (Python ≥ 3.11)
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


# --------------------------------------------------------------------------- finding ID numbers in text
#
# An ID number must not get through by being written oddly: inside a longer run of
# digits ("<ID>2025"), in fullwidth or other Unicode digits, split by spaces or hyphens,
# or by characters that show nothing (zero-width space, soft hyphen, BOM, combining
# marks).  A "run" is digits joined by at most three such separators, optionally ending
# in X.  Whether a run is masked:
#   * no visible separator (digits and invisible characters only, any script):
#     masked if it holds 15 or more digits — the old 15-digit form, the 18-character
#     form, and anything longer that could hide either;
#   * with visible separators (spaces, hyphens, dots, …), where ordinary text also
#     joins numbers (two dates, a table row): masked if any 18 consecutive digits of it
#     form a valid ID number (check digit and birth date) or any 15 form the old one
#     (a real YYMMDD birth date).
# A masked run keeps its first 4 and last 4 digits; everything between becomes "*".

_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\U000e0000-\U000e0fff"
)
_VISIBLE_SEP = " \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\\-\u2010-\u2015\u2212\u30fc\uff0d_./·\u30fb\uff0e\uff0f"
_SEP = f"[{_INVISIBLE}{_VISIBLE_SEP}]"
_RUN = re.compile(rf"\d(?:{_SEP}{{0,3}}\d)*(?:{_SEP}{{0,3}}[Xx])?")
# A cheap first look: 14 or more digit/separator characters in a row, starting with a digit.
_CANDIDATE = re.compile(f"\\d[\\dXx{_INVISIBLE}{_VISIBLE_SEP}]{{13,}}")
_HAS_VISIBLE_SEP = re.compile(f"[{_VISIBLE_SEP}]")
_IS_SEP = re.compile(_SEP)
_SHORTEST_ID = 15  # the old 15-digit resident ID; current ones have 18 characters


def may_hold_id(text: str) -> bool:
    """Cheap test before the regular expression: could ``text`` contain an ID number at all?"""
    return len(text) >= _SHORTEST_ID


def _ascii_digits(chars: str) -> str:
    return chars if chars.isascii() else "".join(str(int(c)) if c.isdigit() else c for c in chars)


def _old_id_plausible(d15: str) -> bool:
    try:
        _dt.date(1900 + int(d15[6:8]), int(d15[8:10]), int(d15[10:12]))
    except ValueError:
        return False
    return True


def _holds_id(digits: str) -> bool:
    """Do 18 consecutive characters form a valid ID, or 15 digits the old form?"""
    n = len(digits)
    for i in range(n - 17):
        w = digits[i:i + 18]
        if w[:17].isdigit() and gb11643_valid(w):
            return True
    for i in range(n - 14):
        w = digits[i:i + 15]
        if w.isdigit() and _old_id_plausible(w):
            return True
    return False


def _mask_run(m: re.Match) -> str:
    run = m.group(0)
    if len(run) < _SHORTEST_ID:
        return run
    if run.isascii() and run.isalnum():  # the usual shape: plain digits (and X)
        return mask_id(run) if len(run) >= _SHORTEST_ID else run
    chars = _IS_SEP.sub("", run)  # the digits (and X) only
    if len(chars) < _SHORTEST_ID:
        return run
    if _HAS_VISIBLE_SEP.search(run) and not _holds_id(_ascii_digits(chars)):
        return run  # e.g. "2025-09-01 2025-09-15": numbers that happen to stand together
    # Keep the first and last 4 digits; separators stay, invisible characters go.
    out, seen, n = [], 0, len(chars)
    for c in run:
        if _IS_SEP.fullmatch(c):
            if _HAS_VISIBLE_SEP.fullmatch(c):
                out.append(c)
            continue
        out.append(c if seen < 4 or seen >= n - 4 else "*")
        seen += 1
    return "".join(out)


def mask_ids_in_text(text: str) -> str:
    """Mask every run of digits that is or may hide an ID number (see above)."""
    if len(text) < _SHORTEST_ID or _CANDIDATE.search(text) is None:
        return text
    return _RUN.sub(_mask_run, text)


# --------------------------------------------------------------------------- whole values

# Keys whose values are digests we compute (hex): never an ID, and masking one would
# break whoever compares it (replay, caches).
_DIGEST_KEYS = frozenset({"sha256", "student_id_hash", "digest"})
_SMALLEST_ID_INT = 10 ** (_SHORTEST_ID - 1)  # an integer with 15 or more digits could be an ID


def scrub(obj: object) -> object:
    """A copy of a JSON-like value with every ID number masked, for output channels.

    Every string (and dict key) goes through :func:`mask_ids_in_text`; an integer of 15
    or more digits becomes its masked text.  Lists, tuples and dicts are rebuilt (tuples
    stay tuples, for templates that unpack them); other values are returned as they are.
    Values under the keys in ``_DIGEST_KEYS`` (our own hex digests) are left alone."""
    # Exact type tests (not isinstance): fast, and they narrow ``obj`` for the type checker.
    if type(obj) is str:
        return mask_ids_in_text(obj)
    if type(obj) is dict:
        return {(mask_ids_in_text(k) if type(k) is str else k): (v if k in _DIGEST_KEYS else scrub(v))
                for k, v in obj.items()}
    if type(obj) is list:
        return [scrub(v) for v in obj]
    if type(obj) is tuple:
        return tuple(scrub(v) for v in obj)
    if type(obj) is int and (obj >= _SMALLEST_ID_INT or obj <= -_SMALLEST_ID_INT):
        text = str(obj)
        masked = mask_ids_in_text(text)
        return masked if masked != text else obj
    if isinstance(obj, str):  # a str subclass (e.g. a str Enum member)
        return mask_ids_in_text(str(obj))
    return obj
