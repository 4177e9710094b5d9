"""How long a school keeps a minor's records after the student leaves the roster (issue 15).

The setting is a number of school years (default 3). A student's records may be archived and
erased from the first 1 September that lies at least that many full years after the day the
roster stopped having them (``Student.left_on``): never sooner than the setting says, and
always at a school-year boundary, so a whole school's leavers come due together.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["RETENTION_SCHOOL_YEARS", "retention_ends", "is_due", "ERASED_STUDENT", "redact_student"]

RETENTION_SCHOOL_YEARS = 3
MIN_YEARS, MAX_YEARS = 1, 30


def retention_ends(left_on: dt.date, school_years: int = RETENTION_SCHOOL_YEARS) -> dt.date:
    """The first day the records of a student who left on ``left_on`` may be erased."""
    try:
        after = left_on.replace(year=left_on.year + school_years)
    except ValueError:  # 29 February
        after = dt.date(left_on.year + school_years, 3, 1)
    first_september = dt.date(after.year, 9, 1)
    return first_september if after <= first_september else dt.date(after.year + 1, 9, 1)


def is_due(on_roster: bool, left_on: dt.date | None, today: dt.date,
           school_years: int = RETENTION_SCHOOL_YEARS) -> bool:
    """A student's retention has passed: off the roster, with a known leaving day, long enough ago."""
    return not on_roster and left_on is not None and today >= retention_ends(left_on, school_years)


# what an erased student's name becomes in the minutes of a collective review (集体评议) that
# named them: the minutes are the school's record of the meeting and stay, the child does not
ERASED_STUDENT = "〔已删除学生〕"


def redact_student(text: str, name: str, *others: str) -> str:
    """``text`` with every mention of the student replaced by :data:`ERASED_STUDENT`: the full
    name and ``others`` (the student number, the id). Not the masked form of notices (张*明):
    another child's can read the same. Terms shorter than two characters are left alone (a
    one-character term would blank every word it is part of); the longest term goes first, so
    a name inside another term cannot split it."""
    terms = {t.strip() for t in (name, *others) if t and t.strip()}
    for term in sorted((t for t in terms if len(t) >= 2), key=len, reverse=True):
        text = text.replace(term, ERASED_STUDENT)
    return text
