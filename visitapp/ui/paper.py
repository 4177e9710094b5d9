"""Sheets that go straight to the printer and never become a file: the recovery key and the
officer recovery sheet. Each is drawn as a PDF in memory on the worker, turned into page
images there (:func:`sheet_images`), and painted onto the printer the user chose in the print
dialog (:func:`paint_pages`). A key lying on the disk, even in the prints folder, would defeat
the sheet that is meant to be locked away."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPageSize, QPainter

from visitapp.ui.i18n import tr

PRINT_DPI = 300  # a key's characters and its QR code stay sharp on any office printer


def sheet_images(render: Callable[[Any], object]) -> list:
    """Worker side: ``render(file)`` draws the PDF into an in-memory file; answers its pages as
    images (``visitapp.printing.raster`` pages)."""
    import io

    from visitapp.printing.raster import raster_pages
    pdf = io.BytesIO()
    render(pdf)
    return raster_pages(pdf.getvalue(), dpi=PRINT_DPI)


def choose_a4_printer(parent, doc_name: str, title: str):  # noqa: ANN001, ANN201 - a QPrinter or None
    """The print dialog for an A4 sheet; None when the user cancels."""
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(doc_name)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))  # the sheet's paper
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(title)
    return printer if dialog.exec() == QPrintDialog.DialogCode.Accepted else None


def paint_pages(printer, pages: Sequence) -> bool:  # noqa: ANN001 - a QPrinter
    """Paint the page images onto ``printer``, each fitted to its page; False when the
    printer could not be started."""
    printer.setFullPage(True)  # the sheet has its own margins
    painter = QPainter()
    if not painter.begin(printer):
        return False
    try:
        for n, page in enumerate(pages):
            if n:
                printer.newPage()
            image = QImage(page.rgb, page.width, page.height, page.stride, QImage.Format.Format_RGB888)
            area = printer.pageLayout().fullRectPixels(printer.resolution())
            scale = min(area.width() / page.width, area.height() / page.height)
            w, h = int(page.width * scale), int(page.height * scale)
            painter.drawImage(QRect((area.width() - w) // 2, (area.height() - h) // 2, w, h), image)
    finally:
        painter.end()
    return True


def printed_message(printer, written_to_file: str | None = None) -> str:  # noqa: ANN001 - a QPrinter
    """What to tell the user once the sheet went out. "Print to PDF" (or a printer set to write
    a file) leaves the key in that file: saying no copy exists would be false, so the message
    names the file to print and delete (``written_to_file``: that sentence for another sheet,
    with ``{file}``)."""
    to_file = printer.outputFileName()
    if to_file:
        return (written_to_file or tr("Written to the file {file}, not to paper: that file opens the profile too. "
                                      "Print it, lock the page away, then delete the file.")).format(file=to_file)
    return tr("Sent to the printer. Keep the page locked away; no copy was saved on this computer.")
