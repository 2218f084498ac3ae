"""第三十二条 in the tests: no full ID number in anything the test suite produces.

Tests that run the CLI hand their output to ``record_output``; the captured stdout and
stderr of every test are added by ``conftest.py``.  At the end of the session every
recorded text is searched for an ID number — those of the fixtures and any other valid
GB 11643 number (any region, the test region ``99`` included) — and the session fails
if one is found.

An ID number counts however it is written: inside a longer run of digits, in fullwidth
or other Unicode digits, split by spaces, hyphens, dots, or by characters that show
nothing (zero-width space, soft hyphen, BOM, combining marks).  The scanner undoes all
of that first, then looks at every 18 (and 15) consecutive digits of every run.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from xueji_policy.privacy import gb11643_valid

ROOT = Path(__file__).resolve().parent.parent
_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_ID15 = re.compile(r"(?<![0-9])[0-9]{15}(?![0-9])")
OUTPUTS: list[tuple[str, str]] = []

# Characters that show nothing or attach to the previous one: removed before scanning.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\U000e0000-\U000e0fff]"
)
_NON_ASCII_DIGIT = re.compile(r"(?![0-9])\d")
# Digits joined by at most three spaces/hyphens/dots/… (not newlines), optionally ending in X.
_SEP = "[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\\-\u2010-\u2015\u2212\u30fc\uff0d_./·\u30fb\uff0e\uff0f]"
_RUN = re.compile(rf"[0-9](?:{_SEP}{{0,3}}[0-9])*(?:{_SEP}{{0,3}}[Xx])?")
_DIGITS_ONLY = re.compile(r"[^0-9Xx]")


def _fixture_ids() -> set[str]:
    ids: set[str] = set()
    for folder in ("examples", "cases", "tests"):
        for p in (ROOT / folder).rglob("*.json"):
            try:
                text = p.read_text(encoding="utf-8", errors="ignore")
            except OSError:
                continue
            ids.update(m.upper() for m in _ID.findall(text))
            if "id_15" in p.name:  # the old 15-digit form only where a fixture says so
                ids.update(_ID15.findall(text))
    return ids


def record_output(where: str, *texts) -> None:
    for t in texts:
        if isinstance(t, bytes):
            t = t.decode("utf-8", errors="replace")
        if t:
            OUTPUTS.append((where, t))


def _normalize(text: str) -> str:
    text = _INVISIBLE.sub("", text)
    if not text.isascii():
        text = _NON_ASCII_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(0), 0)), text)
    return text


def _plausible(window: str) -> bool:
    """A valid GB 11643 number of someone born 1900–2099 (region codes never start with 0).
    The year bound keeps numbers that merely stand together in a table from counting."""
    return window[0] != "0" and window[6:8] in ("19", "20") and gb11643_valid(window)


def ids_in(text: str, known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Every ID number (known or valid) written in full in ``text``, however written."""
    found: set[str] = set()
    text = _normalize(text)
    for m in _RUN.finditer(text):
        run = m.group(0)
        if len(run) < 15:
            continue
        digits = _DIGITS_ONLY.sub("", run).upper()
        n = len(digits)
        for i in range(n - 17):
            w = digits[i:i + 18]
            if "X" in w[:17]:
                continue
            if w in known or _plausible(w):
                found.add(w)
        for i in range(n - 14):
            w = digits[i:i + 15]
            if w in known:
                found.add(w)
    return found


def find_leaks(texts=None) -> list[tuple[str, str]]:
    known = _fixture_ids()
    leaks = []
    for where, text in (texts if texts is not None else OUTPUTS):
        for hit in sorted(ids_in(text, known)):
            leaks.append((where, hit[:4] + "…" + hit[-4:]))
    return leaks
