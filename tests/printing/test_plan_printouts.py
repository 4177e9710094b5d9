"""What the plan's printouts must say and how Chinese text breaks: the public notice is posted
(no 内部资料 stamp, a person to turn to with an objection), the recovery sheet claims no state
secrecy grade and no promise the print dialog can break, and no line starts with "，"."""

from __future__ import annotations

import datetime as dt

import pytest
from reportlab.platypus import Paragraph

from tests.conftest import add_student
from tests.services.test_documents import TODAY, finalized_visit, text_of
from tests.services.test_services import _staff
from visitapp.domain import Level
from visitapp.printing.fonts import register_pdf_font
from visitapp.printing.layout import CHINESE_CANNOT_START, STYLES
from visitapp.printing.recovery_key import RecoveryKeySheet, render_recovery_key


def _line_texts(paragraph: Paragraph) -> list[str]:
    out = []
    for line in paragraph.blPara.lines:
        words = line[1] if isinstance(line, tuple) else line.words
        out.append("".join(w if isinstance(w, str) else getattr(w, "text", "") for w in words))
    return out


@pytest.mark.parametrize("markup", [False, True], ids=["one-style", "mixed-styles"])
@pytest.mark.parametrize("mark", list("，；：！？）》”。、"))
def test_no_line_starts_with_closing_punctuation(mark, markup):
    register_pdf_font()
    starts = []
    for n in range(1, 70):  # the mark lands at every position of a line once
        text = "家" * n + mark + "访" * 40
        if markup:  # several fragments take reportlab's other wrapping path
            text = "<b>学生</b>" + text
        p = Paragraph(text, STYLES["value"])
        p.wrap(280, 2000)
        lines = _line_texts(p)
        assert "".join(lines).endswith("访" * 40)  # nothing dropped
        starts += [line[:1] for line in lines[1:]]
    assert not [s for s in starts if s in CHINESE_CANNOT_START]


def test_the_posted_notice_has_no_secret_stamp_and_names_a_contact(officer_workspace, tmp_path):
    ws = officer_workspace
    student = add_student(ws, "张晓明", assign=False, hardship_categories=("min_living",))
    finalized_visit(ws, student)
    reviewers = [_staff(ws, n).id for n in ("甲", "乙", "丙")]
    meeting = ws.review.record_meeting(ws.students.current_term(), TODAY, reviewers, "纪要")
    ws.review.determine(meeting.id, student.id, Level.ESPECIALLY)
    ws.review.publish_notice(meeting.id, TODAY, TODAY + dt.timedelta(days=6))
    ws.documents.print_notice(meeting.id, tmp_path / "n.pdf")
    text = text_of(tmp_path / "n.pdf").replace("\n", "")
    assert "内部资料" not in text and "注意保密" not in text
    assert "联系人：赵专干老师" in text and "异议" in text
    # the sheets that stay inside the school keep their stamp
    ws.documents.print_visit(ws.documents.visit_ids()[0], tmp_path / "v.pdf")
    assert "内部资料 注意保密" in text_of(tmp_path / "v.pdf")


def test_the_recovery_sheet_claims_no_secrecy_grade_and_says_what_to_do_with_a_file(tmp_path):
    out = tmp_path / "key.pdf"
    render_recovery_key(RecoveryKeySheet("ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345-6789", "实验中学", "李老师",
                                         "/home/li/visitapp", dt.datetime(2026, 9, 1, 8, 0)), out)
    text = text_of(out).replace("\n", "")
    assert "绝密" not in text
    assert "不在任何地方另存" not in text
    assert "如果打印成了文件" in text and "请锁好保管" in text


def test_my_students_are_in_school_order_on_every_page(workspace):
    """七年级 sorts before 三年级 by code point; the list follows the school's order, and the
    paged read (the first screen of a large profile) agrees with the whole list."""
    for class_name in ("七年级(1)班", "高一(2)班", "三年级(10)班", "三年级(2)班", "大(1)班", "一年级(1)班"):
        add_student(workspace, f"{class_name}学生", class_name=class_name)
    everyone = [r.class_name for r in workspace.students.list_mine()]
    assert everyone == ["大(1)班", "一年级(1)班", "三年级(2)班", "三年级(10)班", "七年级(1)班", "高一(2)班"]
    paged = [r.class_name for offset in range(0, 6, 2) for r in workspace.students.list_mine(limit=2, offset=offset)]
    assert paged == everyone


def test_the_printed_growth_file_has_no_line_starting_with_a_comma_and_names_the_term_in_words(workspace, tmp_path):
    """Read back from the PDF: a trait text with a comma after every run length wraps with no
    line starting with "，", and the term reads 2026-2027学年第一学期, never ``2026-2027-1``."""
    import re

    import pypdf

    from visitapp.domain import term_label
    student = add_student(workspace, "张晓明")
    finalized_visit(workspace, student)
    term = workspace.students.current_term()
    lines: list[str] = []
    for shift in range(3):  # the commas land at other places of the line each time
        text = "".join("好" * (k + shift) + "，" for k in range(1, 30))
        workspace.growth.set_profile_field(student.id, "strengths", text)
        out = tmp_path / f"g{shift}.pdf"
        workspace.documents.print_growth_file(student.id, out)
        page_lines = [x.strip() for p in pypdf.PdfReader(str(out)).pages for x in p.extract_text().splitlines()]
        wrapped = [x for x in page_lines if x and set(x) <= {"好", "，"}]
        assert len(wrapped) >= 8  # the trait text did wrap, many times
        lines += page_lines
    assert not [x for x in lines if x[:1] in "，；：！？）》”。、"]  # ("—" alone is an empty cell)
    text = "\n".join(lines)
    assert f"学期：{term_label(term)}" in text
    assert not re.search(r"\d{4}-\d{4}-[12](?!\d)", text)
