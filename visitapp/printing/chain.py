"""One student's chain on one page (issue 15): 申请 → 家访 → 审核 → 集体评议 → 公示 → 认定 (plan
§3), each step with its date, who did it and what it was, so an inspector can walk from the
family's application to the final determination. The page's QR code carries the chain's
content hash (kind ``chain``, id ``<student id>:<term>``): ``verify-sheet`` tells whether the
paper still matches the records."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.platypus import Paragraph

from visitapp.domain.applications import APPLICATION_RULE_ZH, Chain
from visitapp.printing.documents import SheetHeader
from visitapp.printing.fingerprint import Fingerprint, content_hash, shown_record_id
from visitapp.printing.layout import STYLES, TextSink, Title, appendix, fmt_date, grid, section_bar, spacer, subtitle

__all__ = ["ChainJob", "chain_story", "chain_record_id"]


def chain_record_id(student_id: str, term: str) -> str:
    return f"{student_id}:{term}"


@dataclass(frozen=True)
class ChainJob:
    chain: Chain
    header: SheetHeader

    def fingerprint(self) -> Fingerprint:
        """Version: how many of the six steps are done; hash: every step as printed."""
        c = self.chain
        done = sum(s.done for s in c.steps)
        content = {"student": c.student.id, "name": c.student.name, "term": c.term,
                   "steps": [(s.step, s.done, s.day, s.who, s.detail, s.record_id) for s in c.steps]}
        return Fingerprint("chain", chain_record_id(c.student.id, c.term), f"{done}.{len(c.steps)}",
                           content_hash(content), shown=shown_record_id(c.student.id, c.term))


def chain_story(job: ChainJob, t: TextSink) -> list:
    c = job.chain
    s = c.student
    L = lambda text: Paragraph(text, STYLES["label"])  # noqa: E731
    student = grid([[L("学生姓名"), t.cell(s.name, "学生姓名"), L("班级"), t.cell(s.class_name, "班级"),
                     L("免申即享"), t.p("是" if s.auto_eligible else "否", "value_c")]],
                   [20, 30, 14, 34, 18, 14], label_cells=[(0, 0), (2, 0), (4, 0)])
    rows = [[L("环节"), L("状态"), L("日期"), L("经办人"), L("情况")]]
    for step in c.steps:
        rows.append([t.p(step.step, "value_c"), t.p("已完成" if step.done else "未完成", "value_c"),
                     t.p(fmt_date(step.day), "value_c"), t.cell(step.who or "—", f"{step.step}经办人", "value_c", 60),
                     t.cell(step.detail, f"{step.step}情况", "value", 200)])
    summary = "六个环节均已完成。" if c.complete else \
        "尚未完成：" + "、".join(step.step for step in c.steps if not step.done) + "。"
    return [
        spacer(4),
        Title(t.raw("家庭经济困难学生资助工作全过程记录"), size=18),
        subtitle(t, f"学校：{job.header.school}", f"学期：{job.header.term_label}"),
        spacer(3),
        section_bar("一、学生"),
        student,
        spacer(3),
        section_bar("二、申请 → 家访 → 审核 → 集体评议 → 公示 → 认定"),
        grid(rows, [18, 16, 24, 34, 58], header_row=True),
        spacer(2),
        Paragraph(t(summary), STYLES["value"]),
        Paragraph(t(APPLICATION_RULE_ZH + "审核指家访记录由资助专干或指定的年级审核人审核（谁审核谁负责），"
                    "审核人不得审核本人填写的记录。"), STYLES["small"]),
        *appendix(t),
    ]
