"""Page furniture and building blocks shared by every document.

Each page gets the confidentiality mark, the school line, page x of y, who printed it and
when, and the record's QR code. Many records can share one canvas (a batch): each record is
built by its own :class:`RecordDocTemplate`, so page numbers restart per record, while "of y"
is a PDF form XObject filled in once the record's last page is known (one pass, no re-layout).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate, CondPageBreak, Flowable, Frame, PageTemplate, Paragraph, Spacer, Table,
    TableStyle,
)

from visitapp.printing.documents import PrintCancelled, SheetHeader
from visitapp.printing.fingerprint import Fingerprint
from visitapp.printing.fonts import PDF_FONT_NAME, printable, register_pdf_font

PAGE_W, PAGE_H = A4
MARGIN_X = 16 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 36 * mm  # the footer (page, printer, QR code) ends 32.5 mm up
CONTENT_W = PAGE_W - 2 * MARGIN_X
QR_SIZE = 24 * mm

INK = colors.black
RED = colors.HexColor("#B0201A")
LABEL_BG = colors.HexColor("#EDEDED")
SECTION_BG = colors.HexColor("#D9D9D9")
GRID = 0.6
TICK, NO_TICK = "\u2611", "\u2610"   # ☑ ☐ (the bundled font has both)

F = PDF_FONT_NAME

# Chinese line breaking (GB/T 15834 and every typesetter's habit): a line never starts with
# closing punctuation. reportlab's CJK wrap holds back only the Japanese set
# (reportlab.lib.textsplit.CANNOT_START_LINE has 、。」 but not ，；：！？》） ” …), so a growth-file
# line could begin with "，". Its wraps read the module global ``ALL_CANNOT_START`` at call
# time, so adding the Chinese marks there fixes every paragraph we lay out; reportlab offers
# no style option for it (checked in 4.x and 5.1).
CHINESE_CANNOT_START = "，。、；：！？）》〉」』】〕”’…—·％"


def _hold_chinese_punctuation() -> None:
    # both wraps read it: textsplit.wordSplit (a one-style paragraph) and paragraph.cjkFragSplit
    import reportlab.lib.textsplit as rl_textsplit
    import reportlab.platypus.paragraph as rl_paragraph
    for module in (rl_textsplit, rl_paragraph):
        missing = "".join(c for c in CHINESE_CANNOT_START if c not in module.ALL_CANNOT_START)
        module.ALL_CANNOT_START += missing


_hold_chinese_punctuation()


def _style(name: str, size: float, leading: float, align: int = TA_LEFT, **kw) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=F, fontSize=size, leading=leading, alignment=align,
                          wordWrap="CJK", **kw)


STYLES = {
    "title": _style("title", 19, 25, TA_CENTER, spaceAfter=1 * mm),
    "subtitle": _style("subtitle", 10, 14, TA_CENTER),
    "label": _style("label", 9.5, 12.5, TA_CENTER),
    "label_left": _style("label_left", 9.5, 12.5),
    "value": _style("value", 9.5, 12.5),
    "value_c": _style("value_c", 9.5, 12.5, TA_CENTER),
    "section": _style("section", 10.5, 14),
    "body": _style("body", 10, 15.5, firstLineIndent=20),
    "small": _style("small", 8, 10.5),
    "sign": _style("sign", 9.5, 13),
    "notice_intro": _style("notice_intro", 11, 19, firstLineIndent=22),
    "notice_cell": _style("notice_cell", 11, 15, TA_CENTER),
    "notice_sign": _style("notice_sign", 11, 18, TA_RIGHT, rightIndent=12),
}


CELL_LIMIT = 160  # characters a table cell holds before its text moves to the appendix


class TextSink:
    """Turns record text into safe paragraph markup and remembers glyphs the font lacks.

    It also keeps table cells bounded: a value longer than :data:`CELL_LIMIT` prints as a
    pointer to the appendix (附页), where :func:`appendix` prints it whole in a flowing box.
    A form row can then never outgrow a page, and no text is ever cut.
    """

    def __init__(self) -> None:
        self.missing: set[str] = set()
        self.overflow: list[tuple[str, str]] = []

    def cell(self, value: object, label: str, style: str = "value", limit: int = CELL_LIMIT) -> Paragraph:
        """A table cell for ``value``; long text goes to the appendix under ``label``."""
        text = "" if value is None else str(value)
        if len(text) <= limit:
            return self.p(text, style)
        self.overflow.append((label, text))
        note = f"（内容较长，见附页第 {len(self.overflow)} 项“{label}”）"
        return Paragraph(self(note), STYLES[style])

    def __call__(self, value: object) -> str:
        """Markup for a value: printable text, XML-escaped, newlines as line breaks."""
        if value is None:
            return ""
        text = printable(str(value), self.missing)
        return escape(text).replace("\r\n", "\n").replace("\n", "<br/>")

    def raw(self, value: object) -> str:
        """Printable plain text (for canvas drawing, not paragraphs)."""
        return printable("" if value is None else str(value), self.missing)

    def p(self, value: object, style: str = "value") -> Paragraph:
        """A paragraph of ``value`` (for short values the form controls: labels, dates, codes)."""
        return Paragraph(self(value), STYLES[style])


def subtitle(sink: "TextSink", *parts: str) -> Paragraph:
    """A centred line under a title; its parts kept apart by spaces a paragraph won't collapse."""
    return Paragraph("&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;".join(sink(p) for p in parts), STYLES["subtitle"])


def fmt_date(day: dt.date | None) -> str:
    """2026年10月12日 (empty for no date)."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def fmt_dt(moment: dt.datetime | None) -> str:
    """2026-10-12 21:05 (empty for no time)."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def checks(options: Iterable[tuple[str, bool]]) -> str:
    """Checklist markup: ``☑ 低保  ☐ 孤儿`` (labels are our own, so no escaping needed)."""
    return "\u3000".join(f"{TICK if on else NO_TICK}{label}" for label, on in options)


def section_bar(text: str, keep_with_next: bool = True) -> Table:
    """A grey bar opening a section of the form, the width of the grid.

    By default it stays with the section's table: a short section moves whole to the next
    page rather than leaving its title alone at the foot of one.
    """
    t = Table([[Paragraph(escape(text), STYLES["section"])]], colWidths=[CONTENT_W])
    t.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), SECTION_BG),
        ("FONTNAME", (0, 0), (-1, -1), F),  # else the table selects Helvetica, never embedded
        ("BOX", (0, 0), (-1, -1), GRID, INK),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
    ]))
    t.keepWithNext = keep_with_next
    return t


def flowing_section(text: str) -> list:
    """The bar of a section of long flowing text: it starts on a new page only when fewer than
    ~35 mm are left, then its text flows on across pages."""
    return [CondPageBreak(35 * mm), section_bar(text, keep_with_next=False)]


def grid(rows: list[list], col_widths: Sequence[float], label_cells: Iterable[tuple[int, int]] = (),
         spans: Iterable[tuple[tuple[int, int], tuple[int, int]]] = (), header_row: bool = False,
         repeat_header: bool = False, row_heights: Sequence[float | None] | None = None,
         extra: Iterable[tuple] = ()) -> Table:
    """A ruled table; ``label_cells`` get the grey label background."""
    scale = CONTENT_W / sum(col_widths)
    widths = [w * scale for w in col_widths]
    # rows never split inside (reportlab's splitInRow garbles spanned cells): TextSink.cell
    # keeps every cell short enough and sends longer text to the appendix instead
    t = Table(rows, colWidths=widths, rowHeights=row_heights,
              repeatRows=1 if repeat_header else 0, splitByRow=1)
    cmds = [
        ("GRID", (0, 0), (-1, -1), GRID, INK),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("FONTNAME", (0, 0), (-1, -1), F), ("FONTSIZE", (0, 0), (-1, -1), 9.5),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header_row:
        cmds.append(("BACKGROUND", (0, 0), (-1, 0), LABEL_BG))
    for col, row in label_cells:
        cmds.append(("BACKGROUND", (col, row), (col, row), LABEL_BG))
    for start, end in spans:
        cmds.append(("SPAN", start, end))
    cmds.extend(extra)
    t.setStyle(TableStyle(cmds))
    return t


class BoxedText(Flowable):
    """Long text in a ruled box that flows onto following pages, box and all.

    A table cell cannot break across pages, and a visit narrative can be 50,000 characters;
    this splits its paragraphs wherever the page ends and draws the box sides on every piece
    (closing the bottom only where the text ends).
    """

    PAD = 5

    def __init__(self, paragraphs: list[Paragraph], top: bool = False, bottom: bool = True,
                 min_height: float = 0):
        super().__init__()
        self.paragraphs = paragraphs
        self.top, self.bottom = top, bottom
        self.min_height = min_height
        self._sizes: list[float] = []

    def wrap(self, avail_w, avail_h):
        self.width = avail_w
        inner = avail_w - 2 * self.PAD
        self._sizes = [p.wrap(inner, 1e6)[1] + p.getSpaceAfter() for p in self.paragraphs]
        self.height = max(sum(self._sizes) + 2 * self.PAD, self.min_height)
        return self.width, self.height

    def split(self, avail_w, avail_h):
        inner = avail_w - 2 * self.PAD
        room = avail_h - self.PAD
        if room < 3 * STYLES["body"].leading:
            return []
        first: list[Paragraph] = []
        rest = list(self.paragraphs)
        used = self.PAD
        while rest:
            para = rest[0]
            h = para.wrap(inner, 1e6)[1] + para.getSpaceAfter()
            if used + h <= avail_h - self.PAD:
                first.append(rest.pop(0))
                used += h
                continue
            parts = para.split(inner, avail_h - self.PAD - used)
            if len(parts) == 2:
                first.append(parts[0])
                rest[0] = parts[1]
            break
        if not first or not rest:
            return [] if not first else [self]
        return [BoxedText(first, top=self.top, bottom=False),
                BoxedText(rest, top=True, bottom=self.bottom, min_height=0)]

    def draw(self):
        c = self.canv
        c.saveState()
        c.setLineWidth(GRID)
        c.line(0, 0, 0, self.height)
        c.line(self.width, 0, self.width, self.height)
        if self.top:
            c.line(0, self.height, self.width, self.height)
        if self.bottom:
            c.line(0, 0, self.width, 0)
        c.restoreState()
        y = self.height - self.PAD
        for para, h in zip(self.paragraphs, self._sizes):
            para.drawOn(c, self.PAD, y - (h - para.getSpaceAfter()))
            y -= h


def boxed(sink: TextSink, text: str, style: str = "body", min_lines: int = 2,
          empty: str = "（无）") -> BoxedText:
    """Long free text (newline-separated paragraphs) as a :class:`BoxedText`."""
    chunks = [c for c in (text or "").replace("\r\n", "\n").split("\n") if c.strip()]
    paras = [Paragraph(sink(c), STYLES[style]) for c in chunks] or [Paragraph(escape(empty), STYLES["value"])]
    return BoxedText(paras, top=False, min_height=min_lines * STYLES[style].leading + 10)


def appendix(sink: TextSink) -> list:
    """The appendix of long values (see :meth:`TextSink.cell`); empty when there are none."""
    if not sink.overflow:
        return []
    out: list = [Spacer(1, 2.5 * mm), *flowing_section("附页：较长内容")]
    for i, (label, text) in enumerate(sink.overflow, 1):
        head = grid([[Paragraph(sink(f"{i}. {label}"), STYLES["label_left"])]], [1], label_cells=[(0, 0)])
        out.append(head)
        out.append(boxed(sink, text, style="value", min_lines=1))
    return out


class RecordStart(Flowable):
    """Zero-size marker at the head of a record's story (keeps the document template honest)."""

    def wrap(self, avail_w, avail_h):
        return 0, 0

    def draw(self):
        pass


class Title(Flowable):
    """The form's title, in a heavier stroke than the font's regular weight allows."""

    def __init__(self, text: str, size: float = 19):
        super().__init__()
        self.text, self.size = text, size

    def _width(self, size: float) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return stringWidth(self.text, F, size) + size * 0.18 * (len(self.text) - 1)

    def wrap(self, avail_w, avail_h):
        self.width = avail_w
        # a long title shrinks to one line rather than wrapping like body text
        while self.size > 12 and self._width(self.size) > avail_w:
            self.size -= 0.5
        self.height = self.size * 1.45
        return self.width, self.height

    def draw(self):
        c = self.canv
        c.saveState()
        c.setFont(F, self.size)
        c.setLineWidth(0.45)
        text = c.beginText()
        text.setTextRenderMode(2)  # fill + stroke: a faux bold for the only weight we ship
        text.setFont(F, self.size)
        text.setCharSpace(self.size * 0.18)
        w = self._width(self.size)
        text.setTextOrigin((self.width - w) / 2, self.size * 0.35)
        text.textOut(self.text)
        c.drawText(text)
        c.restoreState()


def qr_matrix(text: str, prefer_zxing: bool = True) -> list[list[bool]]:
    """The dark modules of a QR code (error correction level M) for ``text``.

    zxing-cpp's C++ encoder (already needed to verify sheets) takes ~1 ms; reportlab's pure
    Python encoder, the fallback, ~25 ms, mostly choosing the mask, a quarter of a sheet's time.
    """
    if prefer_zxing:
        try:
            import zxingcpp
        except ImportError:  # pragma: no cover - zxing-cpp is a dependency; a platform may lack it
            pass
        else:
            code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
            view = memoryview(code.to_image(scale=1, add_quiet_zones=False))
            rows, cols = view.shape
            data = view.tobytes()
            return [[data[r * cols + c] < 128 for c in range(cols)] for r in range(rows)]
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    n = code.getModuleCount()
    return [[bool(code.isDark(r, c)) for c in range(n)] for r in range(n)]


class RecordDocTemplate(BaseDocTemplate):
    """Lays out one record on a (possibly shared) canvas and decorates each of its pages."""

    def __init__(self, canvas: Canvas, header: SheetHeader, fingerprint: Fingerprint,
                 sink: TextSink, seq: int, watermark: str = "", doc_title: str = "",
                 cancel=None):
        self._shared = canvas
        super().__init__(
            "unused.pdf", pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, title=doc_title or "visitapp",
            author="visitapp", creator="visitapp", subject=header.mark,
        )
        self._doSave = 0
        self.header = header
        self.fingerprint = fingerprint
        self.sink = sink
        self.seq = seq
        self.watermark = watermark
        self.cancel = cancel
        self.first_page = canvas.getPageNumber()
        frame = Frame(MARGIN_X, MARGIN_BOTTOM, CONTENT_W, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
        self.addPageTemplates([PageTemplate("page", [frame], onPageEnd=self._decorate)])

    def _makeCanvas(self, filename=None, canvasmaker=None):  # noqa: N802 (reportlab's name)
        return self._shared

    @property
    def total_form(self) -> str:
        return f"vaTotal{self.seq}"

    @property
    def qr_form(self) -> str:
        return f"vaQr{self.seq}"

    def finish(self) -> int:
        """After the build: write "of y" for this record; returns its page count."""
        c = self._shared
        c.beginForm(self.total_form)
        c.setFont(F, 8.5)
        c.drawString(0, 0, f"{self.page} 页")
        c.endForm()
        return self.page

    def _draw_qr_form(self, c: Canvas) -> None:
        """The record's QR code as a form drawn once and placed on each of its pages.

        The modules are filled as one path of horizontal runs (reportlab's QR widget builds a
        shape object per module, 20x slower for the same marks).
        """
        dark = qr_matrix(self.fingerprint.payload())
        n = len(dark)
        quiet = 4  # the quiet zone a scanner needs, in modules, inside the form's square
        unit = QR_SIZE / (n + 2 * quiet)
        self._qr_quiet = quiet * unit
        c.beginForm(self.qr_form, 0, 0, QR_SIZE, QR_SIZE)
        c.setFillColor(colors.white)
        c.rect(0, 0, QR_SIZE, QR_SIZE, stroke=0, fill=1)
        c.setFillColor(INK)
        path = c.beginPath()
        for row in range(n):
            y = QR_SIZE - (quiet + row + 1) * unit
            col = 0
            while col < n:
                if dark[row][col]:
                    start = col
                    while col < n and dark[row][col]:
                        col += 1
                    # a hair of overlap so no white seams show between rows when rasterised
                    path.rect((quiet + start) * unit, y - 0.01, (col - start) * unit, unit + 0.02)
                else:
                    col += 1
        c.drawPath(path, stroke=0, fill=1)
        c.endForm()

    def _decorate(self, c: Canvas, doc) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise PrintCancelled()
        h = self.header
        c.saveState()
        if self.watermark:
            c.saveState()
            c.setFillColor(colors.HexColor("#B0B0B0"))
            c.setFillAlpha(0.28)
            c.translate(PAGE_W / 2, PAGE_H / 2)
            c.rotate(35)
            c.setFont(F, 64)
            c.drawCentredString(0, 0, self.watermark)
            c.restoreState()
        # confidentiality mark, top left, boxed in red as on official internal papers
        top = PAGE_H - 11 * mm
        if h.mark:
            c.setFont(F, 10)
            c.setFillColor(RED)
            c.setStrokeColor(RED)
            c.setLineWidth(0.9)
            mw = c.stringWidth(h.mark, F, 10)
            c.rect(MARGIN_X, top - 2.2 * mm, mw + 4 * mm, 6.6 * mm, stroke=1, fill=0)
            c.drawString(MARGIN_X + 2 * mm, top, h.mark)
        c.setFillColor(INK)
        c.setStrokeColor(INK)
        c.setFont(F, 9)
        school = self.sink.raw(f"{h.school}　{h.term_label}")
        c.drawRightString(PAGE_W - MARGIN_X, top, school)
        c.setLineWidth(0.5)
        c.line(MARGIN_X, PAGE_H - 15.5 * mm, PAGE_W - MARGIN_X, PAGE_H - 15.5 * mm)
        # footer: page x of y, printed at / by, record number; QR code at the right
        base = 6 * mm
        c.line(MARGIN_X, base + QR_SIZE + 2.5 * mm, PAGE_W - MARGIN_X, base + QR_SIZE + 2.5 * mm)
        c.setFont(F, 8.5)
        label = f"第 {self.page} 页，共 "
        c.drawString(MARGIN_X, base + 17 * mm, label)
        c.saveState()
        c.translate(MARGIN_X + c.stringWidth(label, F, 8.5), base + 17 * mm)
        c.doForm(self.total_form)
        c.restoreState()
        printer = self.sink.raw(h.printed_by)
        c.drawString(MARGIN_X, base + 11.5 * mm, f"打印时间：{fmt_dt(h.printed_at)}　打印人：{printer}")
        fp = self.fingerprint
        c.drawString(MARGIN_X, base + 6 * mm, f"记录编号：{self.sink.raw(fp.label)}　版本：{fp.version}")
        c.setFont(F, 7.5)
        c.setFillColor(colors.HexColor("#444444"))
        c.drawString(MARGIN_X, base + 1 * mm,
                     f"校验码 {fp.hash}。扫描右侧二维码或用“visitapp verify-sheet”核对本页是否为最新记录。")
        c.setFillColor(INK)
        if not hasattr(self, "_qr_quiet"):  # first page of this record: define its QR form
            self._draw_qr_form(c)
        c.saveState()
        # the quiet zone may reach into the margin; the code itself ends at the text's edge
        c.translate(PAGE_W - MARGIN_X - QR_SIZE + self._qr_quiet, base)
        c.doForm(self.qr_form)
        c.restoreState()
        c.restoreState()


def build_record(canvas: Canvas, story: list, header: SheetHeader, fingerprint: Fingerprint,
                 sink: TextSink, seq: int, watermark: str = "", doc_title: str = "",
                 cancel=None) -> tuple[int, int]:
    """Lay out one record's story on ``canvas``; returns (first page, page count)."""
    register_pdf_font()
    first = canvas.getPageNumber()
    doc = RecordDocTemplate(canvas, header, fingerprint, sink, seq, watermark, doc_title, cancel)
    doc.build([RecordStart(), *story])
    return first, doc.finish()


def spacer(h_mm: float) -> Spacer:
    """Vertical space in millimetres."""
    return Spacer(1, h_mm * mm)
