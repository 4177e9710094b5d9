"""School terms. The autumn term (第一学期) runs September to January, the spring term
(第二学期) February to August; a term id looks like ``2026-2027-1``."""

from __future__ import annotations

import datetime as dt


def term_of(day: dt.date) -> str:
    if day.month >= 9:
        return f"{day.year}-{day.year + 1}-1"
    if day.month == 1:
        return f"{day.year - 1}-{day.year}-1"
    return f"{day.year - 1}-{day.year}-2"


def term_bounds(term: str) -> tuple[dt.date, dt.date]:
    """First and last day of a term id."""
    try:
        start_year, end_year, half = term.split("-")
        start_year_i, end_year_i, half_i = int(start_year), int(end_year), int(half)
    except ValueError as exc:
        raise ValueError(f"not a term id: {term!r} (expected e.g. 2026-2027-1)") from exc
    if end_year_i != start_year_i + 1 or half_i not in (1, 2):
        raise ValueError(f"not a term id: {term!r} (expected e.g. 2026-2027-1)")
    if half_i == 1:
        return dt.date(start_year_i, 9, 1), dt.date(end_year_i, 1, 31)
    return dt.date(end_year_i, 2, 1), dt.date(end_year_i, 8, 31)


def term_label(term: str) -> str:
    """``2026-2027-1`` -> ``2026-2027学年第一学期``."""
    start, end, half = term.split("-")
    return f"{start}-{end}学年第{'一' if half == '1' else '二'}学期"
