"""The recovery-key sheet: one A4 page with the key in print, its QR code, the holder and the
warning, in the embedded font; and its page images for the printer."""

from __future__ import annotations

import datetime as dt
import io

import pypdf
import pypdfium2 as pdfium

from tests.printing.conftest import qr_texts
from visitapp.printing.raster import raster_pages
from visitapp.printing.recovery_key import RecoveryKeySheet, render_recovery_key

KEY = "7KQM-XW3R-ZT9B-HN4C-PD2F-GJ6L-VS8A-UE5Y"
SHEET = RecoveryKeySheet(KEY, "无锡市梁溪区实验小学", "李老师", "/home/li/.local/share/visitapp/profile",
                         dt.datetime(2026, 11, 26, 9, 30))


def _pdf(sheet: RecoveryKeySheet = SHEET) -> bytes:
    out = io.BytesIO()
    report = render_recovery_key(sheet, out)
    assert report.pages == 1 and not report.missing_glyphs
    return out.getvalue()


def test_the_sheet_prints_the_key_what_it_is_for_and_whose_it_is():
    pdf = pdfium.PdfDocument(_pdf())
    assert len(pdf) == 1
    width, height = pdf[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = pdf[0].get_textpage().get_text_range()
    flat = "".join(text.split())
    # the key itself, group by group over two lines (a line ends without its hyphen)
    assert KEY.replace("-", "") in flat.replace("-", "")
    assert "恢复密钥" in flat and "锁" in flat   # the title and the keep-it-locked warning
    for fact in ("无锡市梁溪区实验小学", "李老师", "/home/li/.local/share/visitapp/profile", "2026年11月26日"):
        assert fact in flat
    pdf.close()


def test_the_qr_code_holds_the_same_key():
    pdf = pdfium.PdfDocument(_pdf())
    image = pdf[0].render(scale=150 / 72).to_pil().convert("RGB")
    pdf.close()
    assert qr_texts(image) == [KEY]


def test_the_font_is_embedded_so_the_page_prints_the_same_anywhere():
    reader = pypdf.PdfReader(io.BytesIO(_pdf()))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        descendants = font.get("/DescendantFonts")
        descriptor = (descendants[0].get_object() if descendants else font).get("/FontDescriptor")
        assert descriptor is not None and "/FontFile2" in descriptor.get_object(), font.get("/BaseFont")


def test_a_sheet_without_a_school_says_so_and_still_fits_one_page():
    sheet = RecoveryKeySheet(KEY, "", "本机用户", "C:\\Users\\li\\AppData\\Local\\visitapp\\" + "很长的文件夹名" * 12,
                             dt.datetime(2026, 1, 5))
    pdf = pdfium.PdfDocument(_pdf(sheet))
    flat = "".join(pdf[0].get_textpage().get_text_range().split())
    assert len(pdf) == 1 and "未登记学校" in flat and KEY.replace("-", "") in flat.replace("-", "")
    pdf.close()


def test_page_images_for_the_printer_are_a4_at_the_asked_resolution():
    pages = raster_pages(_pdf(), dpi=100)
    assert len(pages) == 1
    page = pages[0]
    assert abs(page.width - 827) <= 1 and abs(page.height - 1169) <= 1   # 210 × 297 mm at 100 dpi
    assert page.stride >= page.width * 3 and len(page.rgb) == page.stride * page.height
    dark = sum(1 for b in page.rgb[::3] if b < 100)
    assert dark > 1000                                  # ink on the page, not a blank one
