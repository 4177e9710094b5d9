"""The public notice list (公示名单): masked name, class and level per student, nothing more.

Privacy and dignity (DOMAIN.md): a notice goes on a board where classmates read it, so it
prints only what :func:`visitapp.printing.fingerprint.notice_rows` lets through — never a
reason, an ID number, a hardship category or a family detail.
"""

from __future__ import annotations

from reportlab.platypus import KeepTogether, Paragraph

from visitapp.domain.enums import label_zh
from visitapp.printing.documents import PublicNoticeJob
from visitapp.printing.fingerprint import notice_rows
from visitapp.printing.layout import (
    STYLES, TextSink, Title, appendix, fmt_date, grid, spacer, subtitle,
)

__all__ = ["public_notice_story"]


def public_notice_story(job: PublicNoticeJob, t: TextSink) -> list:
    """The flowables of one public notice."""
    n = job.notice
    title = n.title.strip() or f"{job.header.term_label}家庭经济困难学生认定结果公示"
    rows = notice_rows(job.rows)
    period = f"{fmt_date(n.period_start)}至{fmt_date(n.period_end)}"
    contact = f"（联系人：{job.contact}）" if job.contact.strip() else ""
    intro = (f"根据家庭经济困难学生认定工作要求，经家访核实、集体评议，现将{job.header.term_label}"
             f"家庭经济困难学生认定结果予以公示（共 {len(rows)} 人）。公示期为{period}。"
             f"公示期内如有异议，请以书面或当面方式向学校学生资助工作办公室{contact}反映，"
             "学校将认真核实处理。")
    head = [Paragraph(x, STYLES["notice_cell"]) for x in ("序号", "姓名", "班级", "认定等级")]
    table = [head] + [
        [Paragraph(str(i), STYLES["notice_cell"]), t.cell(name, "姓名", "notice_cell", 40), t.cell(cls, "班级", "notice_cell", 60),
         t.p(label_zh(level), "notice_cell")]
        for i, (name, cls, level) in enumerate(rows, 1)
    ]
    if not rows:
        table.append([t.p("本次无公示名单", "notice_cell"), "", "", ""])
    story = [
        spacer(4),
        Title(t.raw(title), size=19),
        subtitle(t, f"学校：{job.header.school}", f"公示期：{period}"),
        spacer(5),
        Paragraph(t(intro), STYLES["notice_intro"]),
        spacer(4),
        grid(table, [12, 30, 30, 28], header_row=True, repeat_header=True,
             spans=[((0, 1), (-1, 1))] if not rows else []),
        # the school's seal line and date never start a page on their own
        KeepTogether([spacer(10),
                      Paragraph(t(f"{job.header.school}（盖章）"), STYLES["notice_sign"]),
                      Paragraph(t(fmt_date(n.period_start) if n.period_start else ""),
                                STYLES["notice_sign"])]),
    ]
    story += appendix(t)
    return story
