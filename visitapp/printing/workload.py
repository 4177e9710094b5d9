"""The teacher's aid workload statement (学生资助工作量统计表), plan §7: counts per kind of work,
the list of what was counted (students masked, as on the public notice: the page may go to a
职称 committee outside the school), how each figure is counted, and the officer's signature.
The page's QR code carries the statement's content hash, so `visitapp verify-sheet` tells a
committee whether the paper still matches the school's records."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph

from visitapp.domain.workload import WORK_LABELS
from visitapp.printing.documents import WorkloadJob
from visitapp.printing.layout import (
    STYLES, TextSink, Title, appendix, flowing_section, fmt_date, grid, section_bar, spacer, subtitle,
)

__all__ = ["workload_story", "COUNTING_RULES"]

COUNTING_RULES = (
    "统计口径：实地家访为本人填写并定稿的实地走访记录（更正记录不重复计，作废的不计）；"
    "电话、视频家访单列，不计入实地家访；导师记录与常态化研讨为本人撰写的育人导师记录；"
    "成长奖励登记为本人在资助成长档案中登记的奖励（市平台导入的不计）；"
    "参加集体评议为本人作为评议人参加的本学期集体评议。"
)


def workload_story(job: WorkloadJob, t: TextSink) -> list:
    """The flowables of one workload statement."""
    st = job.statement
    L = lambda text: Paragraph(text, STYLES["label"])  # noqa: E731
    counts = [[L("工作内容"), L("次数")]] + [[t.p(label, "value"), t.p(str(n), "value_c")]
                                         for _code, label, n in st.counts]
    items = [[L("序号"), L("日期"), L("工作内容"), L("对象")]]
    for i, it in enumerate(st.items, 1):
        items.append([t.p(str(i), "value_c"), t.p(fmt_date(it.day), "value_c"),
                      t.p(WORK_LABELS[it.kind], "value_c"), t.cell(it.about, f"第 {i} 项对象", "value", 60)])
    if not st.items:
        items.append([t.p("本学期没有可统计的资助工作记录", "value"), "", "", ""])
    date_line = "　　　　年　　月　　日"
    signatures = grid([[L("本人（签字）"), "", L("日期"), date_line],
                       [L("资助专干审核（签字）"), t.cell(job.school_officer, "资助专干", "value_c", 40), L("日期"), date_line],
                       [L("学校（盖章）"), "", L("日期"), date_line]],
                      [30, 40, 14, 30], label_cells=[(0, r) for r in range(3)] + [(2, r) for r in range(3)],
                      row_heights=[12 * mm] * 3)
    return [
        spacer(4),
        Title(t.raw("学生资助工作量统计表"), size=19),
        subtitle(t, f"学校：{job.header.school}", f"学期：{job.header.term_label}", f"教师：{st.staff_name}"),
        spacer(4),
        section_bar("一、工作量汇总"),
        grid(counts, [70, 30], header_row=True),
        spacer(2),
        Paragraph(t(COUNTING_RULES), STYLES["small"]),
        spacer(3),
        *flowing_section("二、计入的工作明细"),  # a long list flows on across pages
        grid(items, [10, 26, 26, 48], header_row=True, repeat_header=True,
             spans=[((0, 1), (-1, 1))] if not st.items else []),
        *appendix(t),
        spacer(4),
        KeepTogether([section_bar("三、审核确认"), signatures]),
    ]
