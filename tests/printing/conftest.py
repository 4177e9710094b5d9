"""Helpers to read back what printing wrote: page texts, fonts, QR codes."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp


def page_texts(path: Path) -> list[str]:
    reader = pypdf.PdfReader(str(path))
    return [page.extract_text() or "" for page in reader.pages]


def page_image(path: Path, index: int = 0, dpi: int = 150):
    pdf = pdfium.PdfDocument(str(path))
    try:
        return pdf[index].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        pdf.close()


def qr_texts(image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.fixture
def out_pdf(tmp_path: Path) -> Path:
    return tmp_path / "out.pdf"
