"""Dates and working days as piecewise-linear tables, for the solver.

A date is its day number (``date.toordinal()``).  Calendar arithmetic the solver cannot do by
itself — year/month/day of a day number, ``add_months``, working-day counts — is a lookup in a
table precomputed from Python's calendar and the rule set's ``WorkCalendar`` over the years the
calendar covers, written as a balanced tree of ``If``s over runs where the function is linear
(a run of consecutive working days, a month).  Every lookup records the range it is valid on;
the encoder asserts its argument lies in it (outside the calendar the engine refuses to decide).
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_right
from dataclasses import dataclass

import z3


@dataclass(frozen=True)
class Piece:
    start: int  # first argument of the piece
    base: int  # value at ``start``
    slope: int  # 0 or 1


def _tree(x: z3.ArithRef, pieces: list[Piece], lo: int, hi: int) -> z3.ArithRef:
    if hi - lo == 1:
        p = pieces[lo]
        return z3.IntVal(p.base) if p.slope == 0 else x + (p.base - p.start)
    mid = (lo + hi) // 2
    return z3.If(x < pieces[mid].start, _tree(x, pieces, lo, mid), _tree(x, pieces, mid, hi))


def _compress(points: list[tuple[int, int]]) -> list[Piece]:
    """Pieces of a function given at consecutive integer points, each constant or +1 per step."""
    pieces: list[Piece] = []
    for x, y in points:
        if pieces:
            p = pieces[-1]
            if p.base + p.slope * (x - p.start) == y:
                continue
            if p.slope == 0 and x == p.start + 1 and y == p.base + 1 and len(pieces) >= 1:
                pieces[-1] = Piece(p.start, p.base, 1)
                continue
        pieces.append(Piece(x, y, 0))
    return pieces


class Tables:
    """Calendar tables over ``[first_year, last_year]`` (dates) and the working-day calendar's years."""

    def __init__(self, calendar, first_year: int, last_year: int, work_first: int, work_last: int):
        self.first_year, self.last_year = first_year, last_year
        self.day_lo = _dt.date(first_year, 1, 1).toordinal()
        self.day_hi = _dt.date(last_year, 12, 31).toordinal()
        # Months: index m = 12 * (year - first_year) + month - 1.
        self.month_starts = []
        for y in range(first_year, last_year + 1):
            for m in range(1, 13):
                self.month_starts.append(_dt.date(y, m, 1).toordinal())
        self.month_lens = [b - a for a, b in zip(self.month_starts, self.month_starts[1:] + [self.day_hi + 1])]
        self._month_pieces = [Piece(s, i, 0) for i, s in enumerate(self.month_starts)]
        self._mstart_pieces = _compress(list(enumerate(self.month_starts)))
        self._mlen_pieces = _compress(list(enumerate(self.month_lens)))
        # Working days: the sorted day numbers of every working day, and how many fall on or before a day.
        self.work_lo = _dt.date(work_first, 1, 1).toordinal()
        self.work_hi = _dt.date(work_last, 12, 31).toordinal()
        work: list[int] = []
        for y in range(work_first, work_last + 1):
            work += calendar._work(y)
        self.work = work
        self._count_pieces = _compress([(o, bisect_right(work, o)) for o in range(self.work_lo - 1, self.work_hi + 1)])
        self._nth_pieces = _compress(list(enumerate(work)))

    # -- lookups (each returns the value and the condition under which it is defined) -------------

    def month_index(self, d: z3.ArithRef) -> z3.ArithRef:
        return _tree(d, self._month_pieces, 0, len(self._month_pieces))

    def month_start(self, m: z3.ArithRef) -> z3.ArithRef:
        return _tree(m, self._mstart_pieces, 0, len(self._mstart_pieces))

    def month_len(self, m: z3.ArithRef) -> z3.ArithRef:
        return _tree(m, self._mlen_pieces, 0, len(self._mlen_pieces))

    def in_dates(self, d) -> z3.BoolRef:
        return z3.And(d >= self.day_lo, d <= self.day_hi)

    def in_months(self, m) -> z3.BoolRef:
        return z3.And(m >= 0, m < len(self.month_starts))

    def count(self, d: z3.ArithRef) -> z3.ArithRef:
        """Working days on or before ``d`` (from the table's start)."""
        return _tree(d, self._count_pieces, 0, len(self._count_pieces))

    def nth(self, k: z3.ArithRef) -> z3.ArithRef:
        """The k-th working day (0-based)."""
        return _tree(k, self._nth_pieces, 0, len(self._nth_pieces))

    def in_work_days(self, d) -> z3.BoolRef:
        return z3.And(d >= self.work_lo, d <= self.work_hi)

    def in_work_index(self, k) -> z3.BoolRef:
        return z3.And(k >= 0, k < len(self.work))
