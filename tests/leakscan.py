"""第三十二条 in the tests: no full ID number in anything the test suite produces.

Tests that run the CLI hand their output to ``record_output``; the captured stdout and
stderr of every test are added by ``conftest.py``.  At the end of the session every
recorded text is searched for an 18-character ID number — those of the fixtures and
any other with a valid GB 11643 check digit — and the session fails if one is found.
"""

from __future__ import annotations

import re
from pathlib import Path

from xueji_policy.privacy import gb11643_valid

ROOT = Path(__file__).resolve().parent.parent
_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
OUTPUTS: list[tuple[str, str]] = []


def _fixture_ids() -> set[str]:
    ids: set[str] = set()
    for folder in ("examples", "cases", "tests"):
        for p in (ROOT / folder).rglob("*.json"):
            try:
                ids.update(_ID.findall(p.read_text(encoding="utf-8", errors="ignore")))
            except OSError:
                continue
    return ids


def record_output(where: str, *texts) -> None:
    for t in texts:
        if isinstance(t, bytes):
            t = t.decode("utf-8", errors="replace")
        if t:
            OUTPUTS.append((where, t))


def find_leaks(texts=None) -> list[tuple[str, str]]:
    known = _fixture_ids()
    leaks = []
    for where, text in (texts if texts is not None else OUTPUTS):
        for hit in set(_ID.findall(text)):
            if hit in known or gb11643_valid(hit):
                leaks.append((where, hit[:4] + "…" + hit[-4:]))
    return leaks
