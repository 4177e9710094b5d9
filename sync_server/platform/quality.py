"""The officer's data-quality and coverage reports, for the server's CLI.

The functions live in :mod:`visitapp.domain.reports` (pure, Qt- and storage-free), so the
officer's desktop screens and this CLI run one implementation; this module re-exports them
under the names the CLI and its scripts already use, and :func:`school_quality` hands them
the whole school as the officer's laptop does (``visitapp.services.reports``).
"""

from __future__ import annotations

import datetime as dt

from visitapp.domain.reports import (  # noqa: F401
    CHECKS_ZH, COVERAGES_ZH, MENTOR_NOTE_DAYS, MENTOR_NOTE_DAYS_RANGE, STALE_CONFLICT_DAYS, VISIT_WINDOW_DAYS,
    VISITS_RULE_ZH, Check, ClassQuality, Coverage, CoverageReport, CoverageRow, DataQualityReport, Issue,
    class_sort_key, coverage, coverage_svg, data_quality, quality_table_zh,
)


def school_quality(data, term: str, today: dt.date, mentor_note_days: int = MENTOR_NOTE_DAYS) -> DataQualityReport:  # noqa: ANN001
    """Every data-quality check over a :class:`~sync_server.platform.port.SchoolData`: the
    chain's (applications without a visit, visits without an application), unreviewed records
    and overdue mentor notes included, so the server's report counts what the officer's
    laptop counts for the same records."""
    return data_quality(term, today, data.students(), data.visits(), data.determinations(), data.growth_entries(),
                        data.profile_fields(), data.assignments(), data.conflicts(), notes=data.mentor_notes(),
                        mentor_note_days=mentor_note_days, applications=data.applications(),
                        reviews=data.reviews())
