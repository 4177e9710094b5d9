"""PDF pages as images, for printing through the desktop's print dialog.

The desktop client sends a document that must never rest on disk (the recovery key) straight
to the printer: built in memory, rendered here with pdfium, painted onto the printer by Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PageImage", "raster_pages"]


@dataclass(frozen=True)
class PageImage:
    """One page as 8-bit RGB rows (``stride`` bytes each); ``dpi`` is the resolution drawn at."""

    width: int
    height: int
    stride: int
    rgb: bytes
    dpi: int


def raster_pages(pdf: bytes, dpi: int = 300) -> list[PageImage]:
    """Every page of the PDF in ``pdf`` drawn at ``dpi``, white background, no alpha."""
    import pypdfium2 as pdfium  # only printing to a printer needs pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            # rev_byteorder: RGB rather than pdfium's native BGR, so Qt reads it as RGB888
            bitmap = page.render(scale=dpi / 72, rev_byteorder=True, fill_color=(255, 255, 255, 255))
            pages.append(PageImage(bitmap.width, bitmap.height, bitmap.stride,
                                   bytes(bitmap.buffer), dpi))
            bitmap.close()
            page.close()
        return pages
    finally:
        document.close()
