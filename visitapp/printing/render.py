"""The public printing functions: one document, or any selection of them in one PDF.

``out`` is a file path or a binary file object. Records are laid out one after another on a
single canvas as the job iterable yields them, so a batch never holds more than one record's
flowables at a time; each finished page is deflated at once and kept at the few KB it takes in
the file until the file is written.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfdoc import PDFName, PDFStream
from reportlab.pdfgen.canvas import Canvas

from visitapp.domain.entities import (
    Determination, GrowthEntry, GrowthProfileField, MentorNote, PublicNotice, Student, Visit,
)
from visitapp.printing.documents import (
    GrowthFileJob, PrintCancelled, PrintJob, PrintReport, PublicNoticeJob, RecordPages,
    SheetHeader, SubjectAccessJob, VisitSheetJob, WorkloadJob,
)
from visitapp.printing.fonts import PDF_FONT_NAME, register_pdf_font
from visitapp.printing.layout import TextSink, build_record

__all__ = [
    "render_visit_sheet", "render_growth_file", "render_public_notice", "render_batch",
]

Out = str | os.PathLike | BinaryIO
# Saving subsets the shared TrueType face by seeking and reading through one file cursor
# (reportlab's TTFontFile), so two prints saving at once (a batch in the background while a
# teacher prints one sheet) would interleave reads; layout itself is safe to run in parallel.
_SAVE_LOCK = threading.Lock()
Progress = Callable[[int, int], None]


def _story(job: PrintJob, sink: TextSink) -> tuple[list, str, str]:
    """(flowables, watermark, document title) of a job."""
    if hasattr(job, "story"):  # a job that lays itself out (the retention archive)
        return job.story(sink), "", "学生资助长期档案"
    if isinstance(job, VisitSheetJob):
        from visitapp.printing.visit_sheet import visit_sheet_story

        story, mark = visit_sheet_story(job, sink)
        return story, mark, "家访记录表"
    if isinstance(job, GrowthFileJob):
        from visitapp.printing.growth_file import growth_file_story

        return growth_file_story(job, sink), "", "资助成长档案"
    if isinstance(job, PublicNoticeJob):
        from visitapp.printing.public_notice import public_notice_story

        return public_notice_story(job, sink), "", "公示名单"
    if isinstance(job, WorkloadJob):
        from visitapp.printing.workload import workload_story

        return workload_story(job, sink), "", "学生资助工作量统计表"
    if isinstance(job, SubjectAccessJob):
        from visitapp.printing.subject_access import subject_access_story

        return subject_access_story(job, sink), "", "学生个人信息查阅副本"
    from visitapp.printing.chain import ChainJob  # issue 15: 申请 → … → 认定 on one page

    if isinstance(job, ChainJob):
        from visitapp.printing.chain import chain_story

        return chain_story(job, sink), "", "资助工作全过程记录"
    raise TypeError(f"not a print job: {type(job).__name__}")


class _CompactCanvas(Canvas):
    """A canvas that deflates each page's content as soon as the page is finished.

    reportlab keeps every page's drawing operators as text until ``save()`` and compresses
    them only then; for a 500-sheet batch that is most of the memory. Compressing at
    ``showPage`` keeps a finished page to the few KB it will occupy in the file.
    """

    def showPage(self):  # noqa: N802 (reportlab's name)
        super().showPage()
        page = self._doc.Pages.pages[-1]
        if page.stream and not page.Contents:
            data = page.stream.encode("utf-8") if isinstance(page.stream, str) else page.stream
            stream = PDFStream(content=zlib.compress(data))
            stream.dictionary["Filter"] = PDFName("FlateDecode")
            stream.__Comment__ = "page stream"
            page.Contents = stream
            page.stream = None


def render_batch(items: Iterable[PrintJob], out: Out, progress: Progress | None = None,
                 cancel: threading.Event | None = None) -> PrintReport:
    """Print any selection of jobs into one PDF, each record with its own page numbers and QR.

    ``progress(done, total)`` is called after each record (``total`` is 0 when ``items`` has
    no length). When ``cancel`` is set the build stops at the next page, no file is written
    (a partial file at ``out`` is removed) and the report says ``cancelled``.
    """
    if out is None:
        raise TypeError("render_batch needs out: a file path or a binary file object")
    register_pdf_font()
    total = len(items) if isinstance(items, Sized) else 0
    path = None if hasattr(out, "write") else Path(out)
    if path is not None and not path.parent.is_dir():
        raise FileNotFoundError(f"保存位置不存在：{path.parent}")
    # our font as the canvas's initial font, so no page refers to a non-embedded Helvetica
    canvas = _CompactCanvas(out if path is None else str(path), pagesize=A4, invariant=1,
                    pageCompression=1, initialFontName=PDF_FONT_NAME, initialFontSize=10)
    canvas.setTitle("visitapp 打印")
    canvas.setAuthor("visitapp")
    report = PrintReport(path=path)
    done = 0
    try:
        for seq, job in enumerate(items):
            if cancel is not None and cancel.is_set():
                raise PrintCancelled()
            sink = TextSink()
            fp = job.fingerprint()
            story, watermark, title = _story(job, sink)
            first, count = build_record(canvas, story, job.header, fp, sink, seq, watermark,
                                        title, cancel)
            report.records.append(RecordPages(fp.kind, fp.record_id, fp.version, fp.hash,
                                              first, count))
            report.missing_glyphs |= sink.missing
            report.pages += count
            done += 1
            if progress is not None:
                progress(done, total)
    except PrintCancelled:
        report.cancelled = True
        if path is not None and path.exists():
            path.unlink()
        return report
    if not report.records:
        raise ValueError("没有可打印的记录。")
    with _SAVE_LOCK:
        canvas.save()
    return report


def render_visit_sheet(visit: Visit, student: Student, header: SheetHeader,
                       amendments: Sequence[Visit] = (), reviewer: str = "",
                       out: Out = None) -> PrintReport:
    """Print one visit record sheet (家访记录表). See :class:`VisitSheetJob`."""
    return render_batch([VisitSheetJob(visit, student, header, tuple(amendments), reviewer)], out)


def render_growth_file(student: Student, profile: Mapping[str, GrowthProfileField | str],
                       visits: Sequence[Visit], entries: Sequence[GrowthEntry],
                       notes: Sequence[MentorNote], header: SheetHeader, out: Out = None, *,
                       staff_names: Mapping[str, str] | None = None) -> PrintReport:
    """Print one student's aid growth file (资助成长档案). See :class:`GrowthFileJob`."""
    job = GrowthFileJob(student, header, dict(profile), tuple(visits), tuple(entries),
                        tuple(notes), dict(staff_names or {}))
    return render_batch([job], out)


def render_public_notice(notice: PublicNotice, rows: Sequence[tuple[Student, Determination]],
                         header: SheetHeader, out: Out = None) -> PrintReport:
    """Print a public notice list (公示名单): masked names, classes, levels, nothing else."""
    return render_batch([PublicNoticeJob(notice, tuple(rows), header)], out)
