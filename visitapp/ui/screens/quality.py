"""The officer's data-quality screen ("3 × 100%, 3 × zero errors"): per class, how many
students each of the seven checks finds, the school on top; selecting a count lists the
students behind it, and a double-click opens that student's growth file."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHeaderView, QLabel, QPushButton, QTableView, QVBoxLayout,
)

from visitapp.ui.i18n import tr
from visitapp.ui.screens.reporting import (
    CHECK_TITLES, SCHOOL_ROW, TermBox, TermReportScreen, class_label, long_title, short_title,
)
from visitapp.ui.widgets import RowsModel


class _Row:
    """One line of the counts table: a class (or the school) and its checks."""

    def __init__(self, class_name: str, checks: tuple):
        self.class_name = class_name
        self.checks = checks

    @property
    def total(self) -> int:
        return sum(c.count for c in self.checks)


class QualityScreen(TermReportScreen):
    open_growth = Signal(str)  # student id

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.report: Any = None
        self.term = TermBox()
        self.refresh_button = QPushButton(tr("Refresh"))
        columns = [(tr("Class"), lambda r: class_label(r.class_name))]
        for i, code in enumerate(CHECK_TITLES):
            columns.append((short_title(CHECK_TITLES, code), lambda r, i=i: r.checks[i].count))
        columns.append((tr("Total"), lambda r: r.total))
        self.counts = RowsModel(columns, self)
        self.table = QTableView()
        self.table.setModel(self.counts)
        self.table.setAccessibleName(tr("Data-quality counts per class"))
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.items = RowsModel([
            (tr("Name"), lambda x: x[1].name),
            (tr("Class"), lambda x: x[1].class_name),
            (tr("Check"), lambda x: long_title(CHECK_TITLES, x[0], x[0])),
            (tr("Detail"), lambda x: x[1].detail),
        ], self)
        self.list = QTableView()
        self.list.setModel(self.items)
        self.list.setAccessibleName(tr("Students behind the selected count"))
        self.list.verticalHeader().hide()
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.list_title = QLabel()
        self.list_title.setWordWrap(True)
        self.legend = QLabel("　".join(f"{short_title(CHECK_TITLES, c)} = {long_title(CHECK_TITLES, c)}"
                                      for c in CHECK_TITLES))
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet("color: #5f6368;")

        split = self.table_over_list(self.table, self.list_title, self.list)
        lay = QVBoxLayout(self)
        lay.addLayout(self.header(tr("Data quality")))
        lay.addWidget(self.legend)
        lay.addWidget(split, 1)
        lay.addWidget(QLabel(tr("Select a count to see the students behind it; double-click a student "
                                "(or press Enter) to open the growth file.")))

        self.term.term_chosen.connect(lambda _t: self.load())
        self.refresh_button.clicked.connect(self.refresh)
        self.table.selectionModel().currentChanged.connect(lambda cur, _prev: self.show_items(cur.row(),
                                                                                              cur.column()))
        self.list.doubleClicked.connect(lambda idx: self._open(idx.row()))
        self.list.activated.connect(lambda idx: self._open(idx.row()))

    def report_of(self, ws, term: str):  # noqa: ANN001, ANN201
        return ws.reports.data_quality(term)

    def show_report(self, report) -> None:
        self.report = report
        rows = [_Row(SCHOOL_ROW, report.school)] + [_Row(k.class_name, k.checks) for k in report.classes]
        self.counts.set_rows(rows)
        self.table.setCurrentIndex(self.counts.index(0, self.counts.columnCount() - 1))

    def show_items(self, row: int, column: int) -> None:
        """The students behind one count: a check (column) of a class (row). The class and
        total columns list every problem of that row."""
        if not (0 <= row < self.counts.rowCount()):
            self.items.set_rows([])
            return
        r = self.counts.row_at(row)
        checks = list(r.checks)
        if 1 <= column <= len(checks):
            checks = [checks[column - 1]]
            what = long_title(CHECK_TITLES, checks[0].code, checks[0].title)
        else:
            what = tr("All checks")
        items = [(c.code, it) for c in checks for it in c.items]
        self.items.set_rows(items)
        # one student can have several problems (the class and total columns list them all)
        students = len({it.student_id for _code, it in items})
        self.list_title.setText(tr("{what} — {who}: {problems} problems, {n} students").format(
            what=what, who=class_label(r.class_name), problems=len(items), n=students))

    def _open(self, row: int) -> None:
        if 0 <= row < self.items.rowCount():
            self.open_growth.emit(self.items.row_at(row)[1].student_id)
