"""Review of records (谁审核谁负责, issue 15): the reviewer's queue of finalized visits and growth
entries waiting for a review — 已审核, or 退回 with a comment the author acts on — and, for the
officer, the grade leaders named reviewers of a grade. Nobody is offered their own records:
the reviewer answers for what they review, so it is never their own work."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QVBoxLayout,
    QWidget,
)

from visitapp.domain import DomainError, ValidationError
from visitapp.ui.errors import problems_text, user_message
from visitapp.ui.i18n import label, tr
from visitapp.ui.screens.reporting import screen_title
from visitapp.ui.widgets import ErrorLabel, RowsModel, rows_table


class RecordReviewScreen(QWidget):
    changed = Signal()

    def __init__(self, ctx: Any, parent=None):  # noqa: ANN001
        super().__init__(parent)
        self.ctx = ctx
        self.pending = RowsModel([
            (tr("Date"), lambda p: p.day.isoformat() if p.day else ""),
            (tr("Student"), lambda p: p.student_label),
            (tr("Record"), lambda p: p.summary),
            (tr("Author"), lambda p: p.author_name),
            (tr("Review state"), lambda p: label(p.status)),
        ], self)
        self.table = rows_table(self.pending, tr("Records waiting for review"), single=True)
        self.comment = QPlainTextEdit()
        self.comment.setAccessibleName(tr("Review comment"))
        self.comment.setTabChangesFocus(True)
        self.comment.setMaximumHeight(70)
        self.approve_button = QPushButton(tr("Reviewed (approve)"))
        self.return_button = QPushButton(tr("Return to the author…"))
        self.refresh_button = QPushButton(tr("Refresh"))
        self.error = ErrorLabel()
        self.caption = QLabel(tr(
            "谁审核谁负责: the reviewer answers for each record they review. Finalized visit records and growth "
            "entries wait here until reviewed; a returned record goes back to its author with your comment (a visit "
            "is corrected by an amendment, a growth entry is edited) and comes back here. Nobody reviews their own "
            "records."))
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #5f6368;")
        # -- the officer names grade leaders
        self.staff = QComboBox()
        self.staff.setAccessibleName(tr("Grade leader"))
        self.grade = QLineEdit()
        self.grade.setAccessibleName(tr("Grade (start of the class names)"))
        self.grade.setPlaceholderText("七年级")
        self.appoint_button = QPushButton(tr("Name as reviewer"))
        self.end_button = QPushButton(tr("End the selected appointment"))
        self.appointments = RowsModel([(tr("Grade leader"), lambda a: a[1]), (tr("Grade"), lambda a: a[0].grade)], self)
        self.appointments_table = rows_table(self.appointments, tr("Reviewers named"), stretch_all=True, single=True)
        appoint = QFormLayout()
        appoint.addRow(tr("Grade leader"), self.staff)
        appoint.addRow(tr("Grade (start of the class names)"), self.grade)
        appoint.addRow("", self.appoint_button)
        appoint.addRow(self.appointments_table)
        appoint.addRow("", self.end_button)
        self.appoint_box = QGroupBox(tr("Reviewers (grade leaders)"))
        self.appoint_box.setLayout(appoint)

        buttons = QHBoxLayout()
        buttons.addWidget(QLabel(tr("Review comment")))
        buttons.addWidget(self.comment, 1)
        buttons.addWidget(self.approve_button)
        buttons.addWidget(self.return_button)
        top = QHBoxLayout()
        top.addWidget(screen_title(tr("Review of records")))
        top.addStretch()
        top.addWidget(self.refresh_button)
        left = QVBoxLayout()
        left.addWidget(self.table, 1)
        left.addLayout(buttons)
        left.addWidget(self.error)
        body = QVBoxLayout()  # one column: the window is 1024 px wide on a school laptop
        body.addLayout(left, 3)
        body.addWidget(self.appoint_box, 2)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.caption)
        lay.addLayout(body, 1)
        self.refresh_button.clicked.connect(self.refresh)
        self.approve_button.clicked.connect(lambda: self.review("approved"))
        self.return_button.clicked.connect(lambda: self.review("returned"))
        self.appoint_button.clicked.connect(self.appoint)
        self.end_button.clicked.connect(self.end_appointment)

    def refresh(self) -> None:
        def work(ws):  # noqa: ANN001, ANN202
            officer = ws.identity.is_officer
            staff = [s for s in ws.staff.list() if s.role != "officer"] if officer else []
            names = {s.id: s.name for s in ws.staff.list()}
            appointments = [(a, names.get(a.staff_id, a.staff_id)) for a in ws.record_reviews.appointments()]
            return ws.record_reviews.pending(), officer, staff, appointments, ws.record_reviews.is_reviewer()

        self.ctx.run(work, on_done=self._show)

    def _show(self, result) -> None:  # noqa: ANN001
        pending, officer, staff, appointments, reviewer = result
        self.pending.set_rows(pending)
        self.appoint_box.setVisible(officer)
        self.staff.clear()
        for s in staff:
            self.staff.addItem(s.name, s.id)
        self.appointments.set_rows(appointments)
        for b in (self.approve_button, self.return_button):
            b.setEnabled(reviewer)
        if not reviewer:
            self.error.show_message(tr("Only the aid officer and the grade leaders the officer names review records."))

    def _selected(self):  # noqa: ANN202
        rows = self.table.selectionModel().selectedRows()
        return self.pending.row_at(rows[0].row()) if rows else None

    def review(self, verdict: str) -> None:
        record = self._selected()
        if record is None:
            self.error.show_message(tr("Choose a record first."))
            return
        comment = self.comment.toPlainText()

        def failed(exc):  # noqa: ANN001, ANN202
            if isinstance(exc, ValidationError):
                self.error.show_message(problems_text(exc.problems, "；"))
            elif isinstance(exc, DomainError):
                self.error.show_message(user_message(exc))
            else:
                self.ctx.show_error(exc)

        def done(_review):  # noqa: ANN001, ANN202
            self.error.show_message("")
            self.comment.setPlainText("")
            self.changed.emit()
            self.refresh()

        self.ctx.run(lambda ws: ws.record_reviews.review(record.record_kind, record.record_id, verdict, comment),
                     on_done=done, on_error=failed)

    def appoint(self) -> None:
        staff_id, grade = self.staff.currentData(), self.grade.text()
        if not staff_id:
            return

        def failed(exc):  # noqa: ANN001, ANN202
            if isinstance(exc, ValidationError):
                self.error.show_message(problems_text(exc.problems, "；"))
            else:
                self.ctx.show_error(exc)

        self.ctx.run(lambda ws: ws.record_reviews.appoint(staff_id, grade),
                     on_done=lambda _a: (self.grade.clear(), self.changed.emit(), self.refresh()), on_error=failed)

    def end_appointment(self) -> None:
        rows = self.appointments_table.selectionModel().selectedRows()
        if not rows:
            return
        appointment = self.appointments.row_at(rows[0].row())[0]
        self.ctx.run(lambda ws: ws.record_reviews.end_appointment(appointment.id),
                     on_done=lambda _a: (self.changed.emit(), self.refresh()))
