"""The bundled font: TrueType outlines, small enough, licensed, and covering what names need."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from visitapp.printing import fonts
from visitapp.printing.fonts import PLACEHOLDER, font_path, missing_glyphs, printable

REPO = Path(__file__).resolve().parents[2]


def gb2312() -> set[str]:
    out = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return out


def test_font_is_truetype_small_and_licensed():
    path = font_path()
    assert path == REPO / "resources" / "fonts" / "VisitAppSansSC-Regular.ttf"
    assert path.stat().st_size < 5 * 1024 * 1024
    font = TTFont(path)
    assert "glyf" in font and "CFF " not in font  # reportlab embeds only glyf outlines
    assert font["OS/2"].fsType & 0x2 == 0          # embedding not restricted
    assert font["name"].getDebugName(1) == fonts.FONT_FAMILY
    licence = fonts.licence_path().read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert "Reserved Font Name 'Source'" in licence
    assert "Source" not in font["name"].getDebugName(1)  # OFL: modified fonts avoid the RFN


def test_covers_gb2312():
    chars = gb2312()
    assert len(chars) == 7445
    assert missing_glyphs("".join(chars)) == set()


def test_covers_tongyong_guifan_hanzi_biao():
    listed = (REPO / "resources" / "fonts" / "charsets" / "tygf-8105.txt").read_text(encoding="utf-8")
    chars = {c.strip() for c in listed.splitlines() if c.strip()}
    assert len(chars) == 8105
    assert sum(ord(c) > 0xFFFF for c in chars) == 196  # rare name characters beyond the BMP
    assert missing_glyphs("".join(chars)) == set()


def test_form_symbols_and_punctuation_present():
    assert missing_glyphs("☑☐□■✓〓①№℃《》【】“”‘’、。，：；？！（）％￥—…·ABCxyz0123456789") == set()


@pytest.mark.parametrize("char", ["\U0001F600", "\U00020000", "\u0e01"])
def test_missing_glyph_detected_and_replaced(char):
    assert missing_glyphs(f"张{char}明") == {char}
    seen: set[str] = set()
    assert printable(f"张{char}明", seen) == f"张{PLACEHOLDER}明"
    assert seen == {char}


def test_layout_characters_are_not_reported():
    assert missing_glyphs("第一行\n第二行\t\u00a0") == set()
