"""The officer's coverage screen: the six full coverages (六个全覆盖) per class and for the
school, for a term, as a table and a bar chart (painted with QPainter: QtCharts is not part of
the PySide6 wheels this project installs, and six bars do not need it). Selecting a cell lists
the students that coverage still misses; a double-click opens one's growth file."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView, QHeaderView, QLabel, QPushButton, QSizePolicy, QTableView, QVBoxLayout, QWidget,
)

from visitapp.ui.i18n import tr
from visitapp.ui.screens.reporting import (
    COVERAGE_TITLES, TermBox, TermReportScreen, bar_colour, class_label, long_title, short_title,
)
from visitapp.ui.widgets import RowsModel


def cell_text(c: Any) -> str:
    """``38/52 (73.1%)``; a coverage our records cannot show, or one with nobody to cover."""
    if not c.measured:
        return tr("reported by the school")
    if c.total == 0:
        return tr("nobody to cover")
    return f"{c.covered}/{c.total}（{c.percent:g}%）"


class CoverageChart(QWidget):
    """Horizontal bars, one per coverage, for the school or the selected class."""

    LABEL_W, ROW_H, TEXT_W = 260, 25, 150

    def __init__(self, parent=None):
        super().__init__(parent)
        self.heading = ""
        self.rows: list[Any] = []
        self.setAccessibleName(tr("Coverage chart"))
        self.setMinimumHeight(40 + self.ROW_H * len(COVERAGE_TITLES))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_row(self, heading: str, coverages: tuple) -> None:
        self.heading, self.rows = heading, list(coverages)
        # the chart's numbers for screen readers
        self.setAccessibleDescription("; ".join(
            f"{long_title(COVERAGE_TITLES, c.code, c.title)}: {cell_text(c)}" for c in self.rows))
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), self.palette().base())
        fm = p.fontMetrics()
        bold = p.font()
        bold.setBold(True)
        p.save()
        p.setFont(bold)
        p.drawText(QRectF(8, 4, self.width() - 16, 26), Qt.AlignmentFlag.AlignVCenter, self.heading)
        p.restore()
        bar_w = max(60, self.width() - self.LABEL_W - self.TEXT_W - 24)
        for i, c in enumerate(self.rows):
            y = 34 + i * self.ROW_H
            p.setPen(self.palette().text().color())
            label = fm.elidedText(long_title(COVERAGE_TITLES, c.code, c.title), Qt.TextElideMode.ElideRight,
                                  self.LABEL_W - 12)
            p.drawText(QRectF(8, y, self.LABEL_W - 12, self.ROW_H), Qt.AlignmentFlag.AlignVCenter, label)
            track = QRectF(self.LABEL_W, y + 5, bar_w, self.ROW_H - 10)
            p.fillRect(track, bar_colour(None).lighter(110))
            if c.percent is not None:
                p.fillRect(QRectF(track.x(), track.y(), bar_w * c.percent / 100, track.height()),
                           bar_colour(c.percent))
            p.setPen(QPen(self.palette().mid().color()))
            p.drawRect(track)
            p.setPen(self.palette().text().color())
            p.drawText(QRectF(self.LABEL_W + bar_w + 8, y, self.TEXT_W, self.ROW_H), Qt.AlignmentFlag.AlignVCenter,
                       cell_text(c))
        p.end()


class CoverageScreen(TermReportScreen):
    """Per-class table of the six coverages with the school on top, and the chart."""

    open_growth = Signal(str)  # student id

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.report: Any = None
        self._shown: tuple[int, int] | None = None
        self.term = TermBox()
        self.refresh_button = QPushButton(tr("Refresh"))
        columns = [(tr("Class"), lambda r: class_label(r.class_name))]
        for i, code in enumerate(COVERAGE_TITLES):
            columns.append((short_title(COVERAGE_TITLES, code), lambda r, i=i: cell_text(r.coverages[i])))
        self.model = RowsModel(columns, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(tr("Coverage per class"))
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self._notes: dict[str, str] = {}  # "电话家访 1 次，未实地走访" for the 家访 cell
        self.missing = RowsModel([(tr("Name"), lambda x: x.name), (tr("Class"), lambda x: x.class_name),
                                  (tr("Detail"), lambda x: self._notes.get(x.student_id, ""))], self)
        self.missing_list = QTableView()
        self.missing_list.setModel(self.missing)
        self.missing_list.setAccessibleName(tr("Students not covered"))
        self.missing_list.verticalHeader().hide()
        self.missing_list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.missing_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.missing_list.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.missing_title = QLabel()
        self.missing_title.setWordWrap(True)
        self.chart = CoverageChart()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addLayout(self.header(tr("Six full coverages")))
        lay.addWidget(self.summary)
        lay.addWidget(self.chart)
        split = self.table_over_list(self.table, self.missing_title, self.missing_list)
        split.setSizes([300, 200])
        lay.addWidget(split, 1)
        hint = QLabel(tr("Select a class to chart it, a cell to list the students that coverage still "
                         "misses (double-click one to open the growth file). Percentages count the "
                         "students each coverage applies to: every student, the hardship students, or "
                         "the key-support students."))
        hint.setWordWrap(True)
        lay.addWidget(hint)
        self.term.term_chosen.connect(lambda _t: self.load())
        self.refresh_button.clicked.connect(self.refresh)
        self.table.selectionModel().currentChanged.connect(lambda cur, _prev: self._cell(cur.row(), cur.column()))
        self.missing_list.doubleClicked.connect(lambda idx: self._open(idx.row()))
        self.missing_list.activated.connect(lambda idx: self._open(idx.row()))

    def report_of(self, ws, term: str):  # noqa: ANN001, ANN201
        return ws.reports.coverage(term)

    def show_report(self, report) -> None:
        self.report = report
        self.model.set_rows([report.school, *report.classes])
        visits = next(c for c in report.school.coverages if c.code == "visits")
        self.summary.setText(tr("{classes} classes, {students} students on the roster.").format(
            classes=len(report.classes), students=visits.total))
        self._shown = None
        self.table.setCurrentIndex(self.model.index(0, 2))  # the school's home visits
        if self._shown != (0, 2):  # the current cell did not change, so no signal came
            self._cell(0, 2)

    def _chart_row(self, row: int) -> None:
        if self.report is None or not (0 <= row < self.model.rowCount()):
            return
        r = self.model.row_at(row)
        self.chart.set_row(tr("Six full coverages: {who}").format(who=class_label(r.class_name)), r.coverages)

    def _cell(self, row: int, column: int) -> None:
        self._shown = (row, column)
        self._chart_row(row)
        if self.report is None or not (0 <= row < self.model.rowCount()) or column < 1:
            self.missing.set_rows([])
            self.missing_title.setText("")
            return
        r = self.model.row_at(row)
        c = r.coverages[column - 1]
        self.missing_title.setText(tr("Not yet covered — {what}, {who}: {n} students").format(
            what=long_title(COVERAGE_TITLES, c.code, c.title), who=class_label(r.class_name), n=len(c.missing)))
        ids = list(c.missing)
        notes = dict(c.notes)

        def show(rows) -> None:
            self._notes = notes
            self.missing.set_rows(rows)

        self.ctx.run(lambda ws: ws.reports.students(ids), on_done=show)

    def _open(self, row: int) -> None:
        if 0 <= row < self.missing.rowCount():
            self.open_growth.emit(self.missing.row_at(row).student_id)
