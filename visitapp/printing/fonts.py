"""The bundled CJK font: where it is, what it lacks, and its registration with reportlab.

One TrueType file (``resources/fonts/VisitAppSansSC-Regular.ttf``, a subset of Noto Sans SC
under the SIL OFL 1.1) serves the PDFs and the Qt client alike, so a sheet looks the same on
screen, on paper and on any machine. It covers GB 2312 and all 8105 characters of the
通用规范汉字表; anything else is printed as :data:`PLACEHOLDER` and reported, never dropped.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from visitapp.assets import resource_path

__all__ = [
    "FONT_FAMILY", "FONT_FILE", "PDF_FONT_NAME", "PLACEHOLDER", "font_path", "licence_path",
    "missing_glyphs", "printable", "register_pdf_font",
]

FONT_FAMILY = "VisitApp Sans SC"          # the family name inside the file (what Qt reports)
FONT_FILE = "VisitAppSansSC-Regular.ttf"
PDF_FONT_NAME = "VisitAppSansSC"          # the name documents use in reportlab styles
# 〓 (GETA MARK) is what Chinese typesetting traditionally prints for a character the type
# case lacks; it is in the font, so the gap is visible on paper.
PLACEHOLDER = "\u3013"

_lock = threading.Lock()
_registered = False


def font_path() -> Path:
    """Absolute path of the bundled TrueType font (package data of ``visitapp.resources``)."""
    return resource_path("fonts", FONT_FILE)


def licence_path() -> Path:
    """The font's licence (SIL Open Font License 1.1), shipped beside it."""
    return resource_path("fonts", "OFL.txt")


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    from reportlab.pdfbase.ttfonts import TTFontFile

    return frozenset(TTFontFile(str(font_path())).charToGlyph)


# Characters that never need a glyph: layout controls reportlab handles itself.
_IGNORABLE = {"\n", "\r", "\t", "\u00a0", "\u200b", "\ufeff"}


def missing_glyphs(text: str) -> set[str]:
    """The characters of ``text`` the bundled font cannot draw (controls and spaces excluded)."""
    covered = _covered()
    return {ch for ch in set(text) if ch not in _IGNORABLE and ord(ch) not in covered}


def printable(text: str, missing: set[str] | None = None) -> str:
    """``text`` with every character the font lacks replaced by :data:`PLACEHOLDER`.

    ``missing`` (when given) collects the characters replaced, for the print report.
    """
    gaps = missing_glyphs(text)
    if not gaps:
        return text
    if missing is not None:
        missing.update(gaps)
    return "".join(PLACEHOLDER if ch in gaps else ch for ch in text)


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, fixed for characters outside the BMP.

    reportlab writes ``<%04X>`` of the code point, which for 𬌗 (U+2C317) gives an odd-length
    hex string that text extraction (and copy-paste in a PDF viewer) rejects; the CMap must
    hold the UTF-16BE code units, i.e. a surrogate pair. Rare name characters live there.
    """
    def utf16(cp: int) -> str:
        return chr(cp).encode("utf-16-be").hex().upper()

    lines = [
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap", "/CIDSystemInfo",
        f"<< /Registry ({fontname})", f"/Ordering ({fontname})", "/Supplement 0", ">> def",
        f"/CMapName /{fontname} def", "/CMapType 2 def", "1 begincodespacerange",
        "<00> <%02X>" % (len(subset) - 1), "endcodespacerange", f"{len(subset)} beginbfchar",
    ]
    lines += ["<%02X> <%s>" % (i, utf16(v)) for i, v in enumerate(subset)]
    lines += ["endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines)


def register_pdf_font() -> str:
    """Register the font with reportlab once per process; returns its reportlab name."""
    global _registered
    with _lock:
        if not _registered:
            from reportlab import rl_config
            from reportlab.pdfbase import pdfmetrics, ttfonts
            from reportlab.pdfbase.ttfonts import TTFont

            ttfonts.makeToUnicodeCMap = _to_unicode_cmap
            # plain Flate streams: ASCII85 on top makes files 25% larger and costs time
            rl_config.useA85 = 0
            pdfmetrics.registerFont(TTFont(PDF_FONT_NAME, str(font_path())))
            _registered = True
    return PDF_FONT_NAME
