"""Printing (DESIGN.md §6): A4 PDFs built with reportlab from plain dataclasses; no DB, no Qt.

Documents: the visit record sheet (家访记录表), the aid growth file (资助成长档案) and the
public notice list (公示名单) and a teacher's workload statement (工作量统计表), singly or in one batch PDF with progress and cancel. Every page
carries "内部资料 注意保密", page x of y, who printed it and when, and a QR code
(``VA1|kind|id|version|hash``) that :func:`verify_sheet` checks against the database.
"""

from visitapp.printing.documents import (  # noqa: F401
    GrowthFileJob, PrintCancelled, PrintJob, PrintReport, PublicNoticeJob, RecordPages,
    SheetHeader, SubjectAccessJob, VisitSheetJob, WorkloadJob,
)
from visitapp.printing.fingerprint import (  # noqa: F401
    Fingerprint, QrPayload, content_hash, growth_file_fingerprint, notice_fingerprint,
    parse_qr_payload, visit_fingerprint,
)
from visitapp.printing.fonts import font_path, missing_glyphs  # noqa: F401
from visitapp.printing.render import (  # noqa: F401
    render_batch, render_growth_file, render_public_notice, render_visit_sheet,
)

__all__ = [
    "SheetHeader", "VisitSheetJob", "GrowthFileJob", "PublicNoticeJob", "WorkloadJob", "SubjectAccessJob", "PrintJob", "PrintReport",
    "RecordPages", "PrintCancelled", "Fingerprint", "QrPayload", "content_hash",
    "parse_qr_payload", "visit_fingerprint", "growth_file_fingerprint", "notice_fingerprint",
    "font_path", "missing_glyphs", "render_visit_sheet", "render_growth_file",
    "render_public_notice", "render_batch", "verify_sheet", "Verdict",
]


def __getattr__(name):
    # verify pulls in pypdfium2 and zxing-cpp; load them only when someone verifies a sheet
    if name in ("verify_sheet", "Verdict", "RecordVerdict", "read_qr_payloads", "SheetReadError"):
        from visitapp.printing import verify

        return getattr(verify, name)
    raise AttributeError(name)
