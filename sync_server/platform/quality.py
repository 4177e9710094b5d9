"""The officer's data-quality and coverage reports, for the server's CLI.

The functions live in :mod:`visitapp.domain.reports` (pure, Qt- and storage-free), so the
officer's desktop screens and this CLI run one implementation; this module re-exports them
under the names the CLI and its scripts already use.
"""

from visitapp.domain.reports import (  # noqa: F401
    CHECKS_ZH, COVERAGES_ZH, STALE_CONFLICT_DAYS, VISIT_WINDOW_DAYS, VISITS_RULE_ZH, Check, ClassQuality, Coverage, CoverageReport,
    CoverageRow, DataQualityReport, Issue, class_sort_key, coverage, coverage_svg, data_quality, quality_table_zh,
)
