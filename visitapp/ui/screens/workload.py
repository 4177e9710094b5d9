"""The workload statement screen (工作量认定, plan §7): one teacher's aid work in a term, as
counts and the list of what was counted, printed with the officer's signature block or saved
as xlsx. Teachers see their own; the officer picks any teacher."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget,
)
from PySide6.QtCore import Qt

from visitapp.ui.i18n import N_, tr
from visitapp.ui.printing import print_document
from visitapp.ui.screens.reporting import TermBox, screen_title
from visitapp.ui.widgets import RowsModel, rows_table

WORK_TITLES = {"on_site_visit": N_("On-site home visits"), "other_visit": N_("Phone and video visits"),
               "mentor_note": N_("Mentor notes"), "case_discussion": N_("Case discussions"),
               "reward": N_("Rewards entered"), "review": N_("Collective reviews sat on"),
               "record_review": N_("Records reviewed")}




class WorkloadScreen(QWidget):
    def __init__(self, ctx, parent=None):  # noqa: ANN001
        super().__init__(parent)
        self.ctx = ctx
        self.statement = None
        self.teacher = QComboBox()
        self.teacher.setAccessibleName(tr("Teacher"))
        self.teacher.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.term = TermBox()
        self.refresh_button = QPushButton(tr("Refresh"))
        self.print_button = QPushButton(tr("Print the statement…"))
        self.export_button = QPushButton(tr("Export xlsx…"))
        self.counts = RowsModel([(tr("Work"), lambda r: tr(WORK_TITLES[r[0]])), (tr("Count"), lambda r: r[2])], self)
        self.items = RowsModel([(tr("Date"), lambda it: it.day.isoformat() if it.day else ""),
                                (tr("Work"), lambda it: tr(WORK_TITLES[it.kind])),
                                (tr("About"), lambda it: it.about)], self)
        self.counts_table = rows_table(self.counts, tr("Workload counts"), stretch_all=True)
        self.items_table = rows_table(self.items, tr("Work counted"), stretch_all=True)
        self.caption = QLabel(tr(
            "How it is counted: on-site visits are the teacher's own finalized on-site visit records (a correction is not "
            "counted again, a voided record not at all); phone and video visits are listed apart and never "
            "count as on-site; mentor notes and case discussions are the mentor notes they wrote; rewards are "
            "those they entered in growth files (not those from the city platform); collective reviews are the "
            "term's review meetings they sat on as a reviewer. Students are shown masked."))
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #5f6368;")

        top = QHBoxLayout()
        top.addWidget(screen_title(tr("Workload statement")))
        top.addStretch()
        self.teacher_label = QLabel(tr("Teacher"))
        self.teacher_label.setBuddy(self.teacher)
        term_label = QLabel(tr("Term"))
        term_label.setBuddy(self.term)
        for w in (self.teacher_label, self.teacher, term_label, self.term, self.refresh_button):
            top.addWidget(w)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.print_button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.counts_table)
        split.addWidget(self.items_table)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.caption)
        lay.addWidget(split, 1)
        lay.addLayout(buttons)

        self.refresh_button.clicked.connect(self.refresh)
        self.term.term_chosen.connect(lambda _t: self.load())
        self.teacher.activated.connect(lambda _i: self.load())
        self.print_button.clicked.connect(self.print_statement)
        self.export_button.clicked.connect(self.export_xlsx)

    def refresh(self) -> None:
        """Read the teachers and terms this laptop can make statements for, then load."""
        self.ctx.run(lambda ws: (ws.workload.teachers(), ws.workload.terms(), ws.reports.current_term()),
                     on_done=self._filled)

    def _filled(self, result) -> None:  # noqa: ANN001
        teachers, terms, current = result
        keep = self.teacher.currentData()
        self.teacher.clear()
        for staff_id, name in teachers:
            self.teacher.addItem(name or staff_id, staff_id)
        self.teacher.setCurrentIndex(max(0, self.teacher.findData(keep)))
        several = len(teachers) > 1  # a teacher's laptop: only oneself, so no chooser
        self.teacher.setVisible(several)
        self.teacher_label.setVisible(several)
        self.term.set_terms(terms, current)
        self.load()

    def load(self) -> None:
        staff_id, term = self.teacher.currentData(), self.term.term()
        self.counts.set_rows([])
        self.items.set_rows([])  # never the previous teacher's list under the new name
        self.ctx.run(lambda ws: ws.workload.statement(staff_id, term), on_done=self.show_statement)

    def show_statement(self, statement) -> None:  # noqa: ANN001
        if statement.staff_id != self.teacher.currentData() or statement.term != self.term.term():
            return  # an answer for a choice since replaced
        self.statement = statement
        self.counts.set_rows(list(statement.counts))
        self.items.set_rows(list(statement.items))

    def print_statement(self) -> None:
        st = self.statement
        if st is None:
            return
        print_document(self.ctx, f"workload-{st.term}",
                       lambda ws, path: ws.workload.print(path, st.staff_id, st.term))

    def export_xlsx(self) -> None:
        st = self.statement
        if st is None:
            return
        path = self.ctx.save_file_name(tr("Save the workload statement"), f"工作量统计-{st.staff_name}-{st.term}.xlsx",
                                       "Excel (*.xlsx)")
        if path:
            self.ctx.run(lambda ws: ws.workload.export_xlsx(path, st.staff_id, st.term),
                         on_done=lambda out: self.ctx.info(tr("Saved {path}.").format(path=out)))
