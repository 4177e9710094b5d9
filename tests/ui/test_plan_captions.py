"""Captions that count what they say they count, and one way of writing a term."""

from __future__ import annotations

from tests.ui.helpers import idle
from tests.ui.test_officer_reports import _click_cell


def test_the_quality_caption_counts_problems_and_students_apart(qtbot, unlocked, officer_template):
    """The school's total lists every problem; one student can have several, so the caption
    must not call 242 problems "242 名学生"."""
    w, ws = unlocked(officer_template)
    w.show_screen(w.quality)
    idle(qtbot, w)
    q = w.quality
    _click_cell(qtbot, q.table, 0, q.counts.columnCount() - 1)
    report = ws.reports.data_quality()
    problems = [it for c in report.school for it in c.items]
    students = {it.student_id for it in problems}
    assert len(problems) > len(students)  # the demo school has students with several problems
    assert f"{len(problems)} problems, {len(students)} students" in q.list_title.text()


def _zh(source: str) -> str:
    import xml.etree.ElementTree as ET

    from visitapp.ui.i18n import ts_path
    root = ET.parse(ts_path("zh_CN")).getroot()
    return next(m.findtext("translation") for m in root.iter("message") if m.findtext("source") == source)


def test_terms_read_the_same_on_screens_as_on_paper(qtbot, unlocked, officer_template):
    """Screens write a term in words (never the id 2026-2027-1), and in Chinese in exactly the
    words the printouts use (2026-2027学年第一学期)."""
    from visitapp.domain import term_label
    from visitapp.ui.screens.reporting import term_text

    w, ws = unlocked(officer_template)
    term = ws.students.current_term()
    w.show_screen(w.assignments)
    idle(qtbot, w)
    model = w.assignments.model
    assert model.rowCount() > 0
    shown = {model.index(r, 3).data() for r in range(model.rowCount())}
    assert shown == {term_text(term)} and term not in shown
    start, end, half = term.split("-")
    in_chinese = _zh("{years} school year, {half} term").format(
        years=f"{start}-{end}", half=_zh("first" if half == "1" else "second"))
    assert in_chinese == term_label(term)
