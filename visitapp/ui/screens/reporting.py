"""What the officer's report screens share: the term selector, titles of the six coverages
and the seven data-quality checks in the current language, and the bar colours."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from visitapp.ui.i18n import tr
from visitapp.ui.widgets import title_label

# (code, short column header, full title). The domain's codes; its Chinese titles are the
# translations, so the English window is English too.
COVERAGE_TITLES = {
    "support_centre": (lambda: tr("Support centre"), lambda: tr("A student development support centre in every school, recorded this term by the officer (name and evidence)")),
    "visits": (lambda: tr("Home visits"), lambda: tr("Every student visited on site (phone and video visits do not count)")),
    "rewards": (lambda: tr("Growth rewards"), lambda: tr("Every hardship student rewarded")),
    "growth_files": (lambda: tr("Growth files"),
                     lambda: tr("Every hardship student with a complete growth file: an on-site visit, traits and a reward")),
    "mentors": (lambda: tr("Mentors"), lambda: tr("Every key-support student with a mentor")),
    "case_discussions": (lambda: tr("Case discussions"), lambda: tr("Every key-support student discussed")),
}
CHECK_TITLES = {
    "missing_fields": (lambda: tr("Missing fields"), lambda: tr("Required fields missing")),
    "overdue_visits": (lambda: tr("Overdue visits"), lambda: tr("Home visits overdue this term")),
    "key_without_mentor": (lambda: tr("Key, no mentor"), lambda: tr("Key-support students without a mentor")),
    "hardship_without_reward": (lambda: tr("Hardship, no reward"),
                                lambda: tr("Hardship students without a growth reward")),
    "file_without_visit": (lambda: tr("File, no visit"), lambda: tr("Growth files without an on-site home visit")),
    "duplicate_visits": (lambda: tr("Duplicates?"), lambda: tr("Possible duplicate visits")),
    "stale_conflicts": (lambda: tr("Old conflicts"), lambda: tr("Conflicts unresolved for more than 7 days")),
    "mentor_notes_overdue": (lambda: tr("Notes overdue"),
                             lambda: tr("Key-support students whose mentor has not written within the set interval")),
    "no_case_discussion": (lambda: tr("No discussion"),
                           lambda: tr("Key-support students with no case discussion this term (after mid-term)")),
    # issue 15: the chain 申请 → 家访 → 认定 and 谁审核谁负责
    "application_without_visit": (lambda: tr("Applied, no visit"),
                                  lambda: tr("Applied this term but no finalized on-site visit yet")),
    "visit_without_application": (lambda: tr("No application"),
                                  lambda: tr("Visited or determined this term without an application (not needed for 免申即享)")),
    "unreviewed_records": (lambda: tr("Unreviewed"),
                           lambda: tr("Finalized visit records and growth entries not yet reviewed")),
}
SCHOOL_ROW = "全校"  # the domain's name of the school row


def short_title(table: dict, code: str, fallback: str = "") -> str:
    pair = table.get(code)
    return pair[0]() if pair else fallback


def long_title(table: dict, code: str, fallback: str = "") -> str:
    pair = table.get(code)
    return pair[1]() if pair else fallback


def class_label(name: str) -> str:
    return tr("Whole school") if name == SCHOOL_ROW else name


def term_text(term: str) -> str:
    """``2026-2027-1`` in words, in the current language."""
    try:
        start, end, half = term.split("-")
    except ValueError:
        return term
    # the words of visitapp.domain.term_label (2026-2027学年第一学期), which the printouts use
    half_text = {"1": tr("first"), "2": tr("second")}.get(half, half)
    return tr("{years} school year, {half} term").format(years=f"{start}-{end}", half=half_text)


def bar_colour(percent: float | None) -> QColor:
    """Green at 100 %, lighter green from 90, amber from 70, red below (as the server's SVG)."""
    if percent is None:
        return QColor("#e0e0e0")
    if percent >= 100:
        return QColor("#2e7d32")
    if percent >= 90:
        return QColor("#9ccc65")
    if percent >= 70:
        return QColor("#ffca28")
    return QColor("#ef5350")


def screen_title(text: str) -> QLabel:
    return title_label(text)


class TermBox(QComboBox):
    """The term selector; ``term_chosen`` fires when the officer picks another term."""

    term_chosen = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAccessibleName(tr("Term"))
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.currentIndexChanged.connect(self._changed)
        self._filling = False

    def set_terms(self, terms: list[str], current: str) -> None:
        keep = self.currentData() or current
        self._filling = True
        self.clear()
        for t in terms:
            self.addItem(term_text(t), t)
        self.setCurrentIndex(max(0, self.findData(keep)))
        self._filling = False

    def term(self) -> str | None:
        return self.currentData()

    def _changed(self, _index: int) -> None:
        if not self._filling and self.currentData():
            self.term_chosen.emit(self.currentData())


class TermReportScreen(QWidget):
    """A report of one term over the officer's data: the term list is read on refresh, the
    report (``report_of(ws, term)``) on every term picked; ``show_report`` gets it."""

    term: TermBox

    def header(self, title: str) -> QHBoxLayout:
        """The screen's title on the left, the term selector and the refresh button right."""
        top = QHBoxLayout()
        top.addWidget(screen_title(title))
        top.addStretch()
        term_label = QLabel(tr("Term"))
        term_label.setBuddy(self.term)
        top.addWidget(term_label)
        top.addWidget(self.term)
        top.addWidget(self.refresh_button)
        return top

    @staticmethod
    def table_over_list(table: QWidget, list_title: QLabel, students: QWidget) -> QSplitter:
        """The report's table above the students behind the selected cell."""
        lower = QWidget()
        low = QVBoxLayout(lower)
        low.setContentsMargins(0, 0, 0, 0)
        low.addWidget(list_title)
        low.addWidget(students, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(table)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        return split

    def report_of(self, ws, term: str):  # noqa: ANN001, ANN201 - the subclass's report
        raise NotImplementedError

    def show_report(self, report) -> None:  # noqa: ANN001
        raise NotImplementedError

    def refresh(self) -> None:
        self.ctx.run(lambda ws: (ws.reports.terms(), ws.reports.current_term()), on_done=self._terms)

    def _terms(self, result) -> None:
        terms, current = result
        self.term.set_terms(terms, current)
        self.load()

    def load(self) -> None:
        term = self.term.term()
        self.ctx.run(lambda ws: self.report_of(ws, term), on_done=self.show_report)
