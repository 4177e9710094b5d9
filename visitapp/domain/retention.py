"""How long a school keeps a minor's records after the student leaves the roster (issue 15).

The setting is a number of school years (default 3). A student's records may be archived and
erased from the first 1 September that lies at least that many full years after the day the
roster stopped having them (``Student.left_on``): never sooner than the setting says, and
always at a school-year boundary, so a whole school's leavers come due together.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["RETENTION_SCHOOL_YEARS", "retention_ends", "is_due"]

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
