"""The recovery-key sheet (恢复密钥): one A4 page the teacher prints once, at setup, and locks away.

It holds the key in large fixed-width groups (drawn a character per cell in the bundled,
embedded font, so it prints the same anywhere and ``0``/``O`` never get confused: the key's
alphabet has neither), a QR code of the same key, what it is for, a warning to keep it locked
away, and the school, holder, profile and date so the right page is found years later.

Unlike the record documents it carries no record QR or content hash: it is not a record, and
nothing about it is kept anywhere else. The UI builds it in memory and never writes it to disk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame, Paragraph, Spacer

from visitapp.printing.documents import PrintReport
from visitapp.printing.fonts import PDF_FONT_NAME, printable, register_pdf_font
from visitapp.printing.layout import RED, _style, fmt_date, qr_matrix
from visitapp.printing.render import Out

__all__ = ["RecoveryKeySheet", "officer_recovery_sheet", "render_recovery_key"]

PAGE_W, PAGE_H = A4
MARGIN = 20 * mm
KEY_SIZE = 28                # points: large enough to copy by hand without mistakes
KEY_CELL = KEY_SIZE * 0.78   # one fixed-width cell per character
GROUP_GAP = KEY_CELL * 0.9
GROUPS_PER_LINE = 4
QR_SIDE = 36 * mm

PURPOSE = ("用途：这把密钥能打开本机上的家访记录档案。忘记口令时，凭它可以重新设置口令；"
           "没有口令也没有这把密钥，档案里的数据谁也无法恢复，学校和软件开发者都无法找回。")
WARNING = ("请把本页锁在安全的地方（例如学校的保险柜或上锁的文件柜），不要和电脑放在一起，"
           "不要拍照、扫描或发到网上，不要交给他人。任何人拿到这把密钥和这台电脑，"
           "就能看到学生家庭的全部资料。")
USE = ("使用方法：忘记口令时，凭这把密钥重设口令。输入时不分大小写，短横线可以省略；"
       "右上角的二维码里是同一把密钥，可用扫码枪输入。")


OFFICER_TITLE = "资助专干密钥 恢复页"
OFFICER_PURPOSE = ("用途：资助专干的电脑丢失或损坏时，在新电脑上（先用学校服务器的注册码注册为资助专干）"
                   "输入本页的密钥，新电脑即可重新读取全校学生的家庭情况，继续认证教师电脑、分发密钥。"
                   "没有本页，丢失的电脑上才有的密钥无法找回，只加密给它的家庭情况就再也打不开。")
OFFICER_WARNING = ("持有本页的人能读取全校每个家庭的资料。请把本页与学校公章同等保管（例如保险柜），"
                   "不要和电脑放在一起，不要拍照、扫描或发到网上。恢复完成后，请在学校服务器上注销丢失的电脑，"
                   "并在新电脑上重新打印一张恢复页，销毁本页。")
OFFICER_USE = ("使用方法：在新电脑的“孤立记录 → 密钥与注册码”中选择“从恢复页恢复”，或在命令行运行 "
               "visitapp keys restore-officer，逐组输入。输入时不分大小写，短横线可以省略；输错一个字符会被发现。")


@dataclass(frozen=True)
class RecoveryKeySheet:
    """What the page prints. ``profile`` is the profile's folder on this computer (for the
    officer recovery sheet: the laptop's device id). The texts default to the profile's
    recovery key; :func:`officer_recovery_sheet` gives the officer key's."""

    key: str
    school: str
    holder: str
    profile: str
    created_at: dt.datetime
    title: str = "家访记录 恢复密钥"
    purpose: str = PURPOSE
    warning: str = WARNING
    use: str = USE
    profile_label: str = "档案位置"


def officer_recovery_sheet(key: str, school: str, holder: str, device_id: str,
                           created_at: dt.datetime) -> RecoveryKeySheet:
    """The officer recovery sheet (:meth:`visitapp.services.keys.KeyService.officer_recovery_sheet`)."""
    return RecoveryKeySheet(key, school, holder, device_id, created_at, title=OFFICER_TITLE,
                            purpose=OFFICER_PURPOSE, warning=OFFICER_WARNING, use=OFFICER_USE,
                            profile_label="所属电脑（设备编号）")


def render_recovery_key(sheet: RecoveryKeySheet, out: Out) -> PrintReport:
    """Draw the one-page sheet into ``out`` (a path or a binary file object)."""
    register_pdf_font()
    missing: set[str] = set()
    c = Canvas(out if hasattr(out, "write") else str(out), pagesize=A4, invariant=1,
               pageCompression=1, initialFontName=PDF_FONT_NAME, initialFontSize=10)
    c.setTitle(sheet.title.replace(" ", ""))
    c.setAuthor("visitapp")
    top = PAGE_H - MARGIN

    # confidentiality mark and title
    c.setFillColor(RED)
    c.setFont(PDF_FONT_NAME, 11)
    # not 绝密: that is a state-secret grade (保密法), which a teacher's key sheet is not
    c.drawRightString(PAGE_W - MARGIN, top, "重要 · 请锁好保管")
    c.setFillColor(colors.black)
    c.setFont(PDF_FONT_NAME, 26)
    c.drawCentredString(PAGE_W / 2, top - 16 * mm, sheet.title)
    c.setFont(PDF_FONT_NAME, 10.5)
    facts = [("学校", sheet.school or "（未登记学校）"), ("使用人", sheet.holder),
             (sheet.profile_label, sheet.profile), ("生成日期", fmt_date(sheet.created_at.date()))]
    facts_top = top - 30 * mm
    # the QR code of the key at the right of these lines; the lines wrap before reaching it
    _draw_qr(c, sheet.key, PAGE_W - MARGIN - QR_SIDE, facts_top + 5 * mm - QR_SIDE, QR_SIDE)
    fact_style = _style("recovery_fact", 10.5, 15)
    fact_w = PAGE_W - 2 * MARGIN - QR_SIDE - 6 * mm
    y = facts_top + 5 * mm
    for label, value in facts:
        para = Paragraph(escape(printable(f"{label}：{value}", missing)), fact_style)
        _w, h = para.wrap(fact_w, PAGE_H)
        para.drawOn(c, MARGIN, y - h)
        y -= h + 1.5 * mm
    c.setFont(PDF_FONT_NAME, 8.5)
    c.drawCentredString(PAGE_W - MARGIN - QR_SIDE / 2, facts_top + 5 * mm - QR_SIDE - 3.5 * mm,
                        "二维码：同一把密钥")

    # the key, in fixed-width groups, in a box across the page
    groups = [g for g in sheet.key.split("-") if g] or [sheet.key]
    # a long key (the officer sheet's 28 groups) in smaller type, more groups a line: one page
    per_line = GROUPS_PER_LINE if len(groups) <= 12 else 7
    box_w = PAGE_W - 2 * MARGIN
    chars = max(len(g) for g in groups) * per_line
    # the type size at which a full line fills nine tenths of the box (never above KEY_SIZE)
    size = min(KEY_SIZE, 0.9 * box_w / (0.78 * (chars + 0.9 * (per_line - 1))))
    cell, gap = size * 0.78, size * 0.78 * 0.9
    lines = [groups[i:i + per_line] for i in range(0, len(groups), per_line)]
    box_top = min(y, facts_top + 5 * mm - QR_SIDE - 6 * mm) - 4 * mm
    line_h = size * 1.55
    box_h = len(lines) * line_h + 8 * mm
    c.setLineWidth(1.2)
    c.rect(MARGIN, box_top - box_h, box_w, box_h)
    c.setFont(PDF_FONT_NAME, size)
    base = box_top - 4 * mm - size * 1.1
    for n, line in enumerate(lines):
        width = sum(len(g) for g in line) * cell + (len(line) - 1) * gap
        x = MARGIN + (box_w - width) / 2
        for g_index, group in enumerate(line):
            for ch in printable(group, missing):
                # centre each character in its cell: a fixed pitch like a typewriter's
                w = stringWidth(ch, PDF_FONT_NAME, size)
                c.drawString(x + (cell - w) / 2, base - n * line_h, ch)
                x += cell
            if g_index < len(line) - 1:
                c.drawCentredString(x + gap / 2, base - n * line_h, "-")
                x += gap

    # what it is for, the warning, how to use it
    frame_top = box_top - box_h - 8 * mm
    warning = _style("recovery_warning", 11.5, 18, textColor=RED, borderColor=RED,
                     borderWidth=1, borderPadding=(6, 6, 6, 6))
    body = _style("recovery_body", 11, 18)
    story = [Paragraph(escape(printable(sheet.purpose, missing)), body), Spacer(1, 7 * mm),
             Paragraph(escape(printable(sheet.warning, missing)), warning), Spacer(1, 7 * mm),
             Paragraph(escape(printable(sheet.use, missing)), body)]
    frame = Frame(MARGIN, MARGIN + 12 * mm, PAGE_W - 2 * MARGIN, frame_top - MARGIN - 12 * mm,
                  leftPadding=8, rightPadding=8, topPadding=0, bottomPadding=0, showBoundary=0)
    frame.addFromList(story, c)
    if story:  # never silently drop text: the page is laid out for it to fit
        raise ValueError(f"{sheet.title}的内容放不下一页")

    c.setFont(PDF_FONT_NAME, 9)
    c.setFillColor(colors.HexColor("#555555"))
    # the print dialog may send the page to a PDF file: say what to do with such a copy
    # instead of promising that none exists
    c.drawCentredString(PAGE_W / 2, MARGIN, "内部资料 注意保密　·　软件不另存这把密钥；"
                                            "如果打印成了文件，请在纸面打印后删除该文件")
    c.showPage()
    c.save()
    return PrintReport(pages=1, missing_glyphs=missing,
                       path=None if hasattr(out, "write") else out)


def _draw_qr(c: Canvas, text: str, x: float, y: float, side: float) -> None:
    """The key as a QR code, with its quiet zone, modules filled as horizontal runs."""
    modules = qr_matrix(text)
    quiet = 4
    n = len(modules)
    unit = side / (n + 2 * quiet)
    c.saveState()
    c.setFillColor(colors.black)
    path = c.beginPath()
    for row, line in enumerate(modules):
        col = 0
        while col < n:
            if not line[col]:
                col += 1
                continue
            start = col
            while col < n and line[col]:
                col += 1
            path.rect(x + (quiet + start) * unit, y + side - (quiet + row + 1) * unit,
                      (col - start) * unit, unit)
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()
