"""Officer screens: assignments of visitors and mentors, and the collective review meeting
with its determinations (refused without a finalized on-site visit: 先家访后认定)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDateEdit, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
    QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QTableView, QVBoxLayout,
    QWidget,
)

from visitapp.domain import AssignmentRole, Level, ValidationError
from visitapp.ui.i18n import label, tr
from visitapp.ui.errors import problems_text
from visitapp.ui.screens.reporting import screen_title, term_text
from visitapp.ui.widgets import ErrorLabel, RowsModel


class AssignmentsScreen(QWidget):
    """Who visits whom and who mentors whom, this term."""

    changed = Signal()

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.names: dict[str, str] = {}
        self.model = RowsModel([
            (tr("Student"), lambda a: self.names.get(a.student_id, a.student_id)),
            (tr("Teacher"), lambda a: self.names.get(a.staff_id, a.staff_id)),
            (tr("Role"), lambda a: label(a.role)),
            (tr("Term"), lambda a: term_text(a.term)),
        ], self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(tr("Assignments"))
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.student = QComboBox()
        self.student.setAccessibleName(tr("Student"))
        self.staff = QComboBox()
        self.staff.setAccessibleName(tr("Teacher"))
        self.role = QComboBox()
        self.role.setAccessibleName(tr("Role"))
        for r in AssignmentRole:
            self.role.addItem(label(r), r)
        self.assign_button = QPushButton(tr("Assign"))
        self.end_button = QPushButton(tr("End the selected assignment"))
        form = QFormLayout()
        form.addRow(tr("Student"), self.student)
        form.addRow(tr("Teacher"), self.staff)
        form.addRow(tr("Role"), self.role)
        row = QHBoxLayout()
        row.addWidget(self.assign_button)
        row.addWidget(self.end_button)
        row.addStretch()
        form.addRow(row)
        box = QGroupBox(tr("New assignment"))
        box.setLayout(form)
        lay = QVBoxLayout(self)
        lay.addWidget(screen_title(tr("Assignments of visitors and mentors")))
        lay.addWidget(self.table, 1)
        lay.addWidget(box)
        self.assign_button.clicked.connect(self.assign)
        self.end_button.clicked.connect(self.end_selected)

    def refresh(self) -> None:
        self.ctx.run(lambda ws: (ws.students.list_mine(), ws.staff.list(), ws.assignments.list()),
                     on_done=self._show)

    def _show(self, result) -> None:
        students, staff, assignments = result
        self.names = {s.id: f"{s.name}（{s.class_name}）" for s in students}
        self.names.update({s.id: s.name for s in staff})
        for combo, items in ((self.student, [(s.id, f"{s.name}（{s.class_name}）") for s in students]),
                             (self.staff, [(s.id, s.name) for s in staff])):
            keep = combo.currentData()
            combo.clear()
            for key, text in items:
                combo.addItem(text, key)
            if keep is not None:
                combo.setCurrentIndex(max(0, combo.findData(keep)))
        self.model.set_rows(assignments)

    def assign(self) -> None:
        sid, staff, role = self.student.currentData(), self.staff.currentData(), self.role.currentData()
        if not sid or not staff:
            return
        self.ctx.run(lambda ws: ws.assignments.assign(sid, staff, role),
                     on_done=lambda _a: (self.changed.emit(), self.refresh()))

    def end_selected(self) -> None:
        idx = self.table.currentIndex()
        if not idx.isValid():
            return
        aid = self.model.row_at(idx.row()).id
        self.ctx.run(lambda ws: ws.assignments.end(aid),
                     on_done=lambda _a: (self.changed.emit(), self.refresh()))


class ReviewScreen(QWidget):
    """Record a collective review meeting, then its determinations, student by student."""

    changed = Signal()

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.names: dict[str, str] = {}
        self.meetings = QListWidget()
        self.meetings.setAccessibleName(tr("Review meetings"))
        self.date = QDateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setAccessibleName(tr("Meeting date"))
        self.reviewers = QListWidget()
        self.reviewers.setAccessibleName(tr("Reviewers"))
        self.reviewers.setMaximumHeight(110)
        self.minutes = QPlainTextEdit()
        self.minutes.setAccessibleName(tr("Minutes"))
        self.minutes.setTabChangesFocus(True)
        self.minutes.setMaximumHeight(80)
        self.meeting_error = ErrorLabel()
        self.record_button = QPushButton(tr("Record the meeting"))
        mform = QFormLayout()
        mform.addRow(tr("Meeting date"), self.date)
        mform.addRow(tr("Reviewers"), self.reviewers)
        mform.addRow(tr("Minutes"), self.minutes)
        mform.addRow(self.meeting_error)
        mform.addRow("", self.record_button)
        mbox = QGroupBox(tr("New review meeting"))
        mbox.setLayout(mform)

        self.det_model = RowsModel([
            (tr("Student"), lambda d: self.names.get(d.student_id, d.student_id)),
            (tr("Level"), lambda d: label(d.level)),
        ], self)
        self.det_table = QTableView()
        self.det_table.setModel(self.det_model)
        self.det_table.setAccessibleName(tr("Determinations"))
        self.det_table.verticalHeader().hide()
        self.det_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.student = QComboBox()
        self.student.setAccessibleName(tr("Student"))
        self.level = QComboBox()
        self.level.setAccessibleName(tr("Level"))
        for lv in Level:
            self.level.addItem(label(lv), lv)
        self.determine_button = QPushButton(tr("Record the determination"))
        self.notice_button = QPushButton(tr("Publish and print the public notice…"))
        self.notice_button.setToolTip(tr("Masked names, classes and levels only; open for 7 days"))
        self.det_error = ErrorLabel()
        dform = QFormLayout()
        dform.addRow(tr("Student"), self.student)
        dform.addRow(tr("Level"), self.level)
        dform.addRow(self.det_error)
        dform.addRow("", self.determine_button)
        dform.addRow("", self.notice_button)
        dbox = QGroupBox(tr("Determinations of the selected meeting"))
        dlay = QVBoxLayout()
        dlay.addWidget(self.det_table, 1)
        dlay.addLayout(dform)
        dbox.setLayout(dlay)
        left = QVBoxLayout()
        left.addWidget(QLabel(tr("Review meetings")))
        left.addWidget(self.meetings, 1)
        left.addWidget(mbox)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addWidget(dbox, 1)
        lay = QVBoxLayout(self)
        lay.addWidget(screen_title(tr("Collective review and determinations")))
        lay.addWidget(QLabel(tr("Visit first, then determine: a determination needs a "
                                "finalized on-site visit of this term.")))
        lay.addLayout(body, 1)
        self.record_button.clicked.connect(self.record_meeting)
        self.determine_button.clicked.connect(self.determine)
        self.meetings.currentItemChanged.connect(lambda *_: self._load_determinations())
        self.notice_button.clicked.connect(self.publish_notice)

    def refresh(self) -> None:
        self.ctx.run(lambda ws: (ws.students.list_mine(), ws.staff.list(), ws.review.meetings()),
                     on_done=self._show)

    def _show(self, result) -> None:
        students, staff, meetings = result
        self.names = {s.id: f"{s.name}（{s.class_name}）" for s in students}
        keep = self.student.currentData()
        self.student.clear()
        for s in students:
            self.student.addItem(self.names[s.id], s.id)
        if keep:
            self.student.setCurrentIndex(max(0, self.student.findData(keep)))
        checked = {self.reviewers.item(i).data(Qt.ItemDataRole.UserRole)
                   for i in range(self.reviewers.count())
                   if self.reviewers.item(i).checkState() == Qt.CheckState.Checked}
        self.reviewers.clear()
        for s in staff:
            item = QListWidgetItem(s.name)
            item.setData(Qt.ItemDataRole.UserRole, s.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if s.id in checked else Qt.CheckState.Unchecked)
            self.reviewers.addItem(item)
        current = self.current_meeting()
        self.meetings.clear()
        for m in sorted(meetings, key=lambda m: m.meeting_date or dt.date.min, reverse=True):
            item = QListWidgetItem(tr("{date} — {n} reviewers").format(
                date=m.meeting_date.isoformat() if m.meeting_date else "", n=len(m.reviewers)))
            item.setData(Qt.ItemDataRole.UserRole, m.id)
            self.meetings.addItem(item)
            if m.id == current:
                self.meetings.setCurrentItem(item)
        if self.meetings.count() and self.meetings.currentRow() < 0:
            self.meetings.setCurrentRow(0)

    def current_meeting(self) -> str | None:
        item = self.meetings.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def record_meeting(self) -> None:
        from visitapp.domain import term_of

        d = self.date.date()
        day = dt.date(d.year(), d.month(), d.day())
        reviewers = [self.reviewers.item(i).data(Qt.ItemDataRole.UserRole)
                     for i in range(self.reviewers.count())
                     if self.reviewers.item(i).checkState() == Qt.CheckState.Checked]
        minutes = self.minutes.toPlainText()

        def failed(exc):
            if isinstance(exc, ValidationError):
                self.meeting_error.show_message(problems_text(exc.problems))
            else:
                self.ctx.show_error(exc)

        def done(_m):
            self.meeting_error.show_message("")
            self.minutes.clear()
            self.changed.emit()
            self.refresh()

        self.ctx.run(lambda ws: ws.review.record_meeting(term_of(day), day, reviewers, minutes),
                     on_done=done, on_error=failed)

    def _load_determinations(self) -> None:
        mid = self.current_meeting()
        if mid:
            self.ctx.run(lambda ws: ws.review.determinations(mid), on_done=self.det_model.set_rows)
        else:
            self.det_model.set_rows([])

    def publish_notice(self) -> None:
        """Open the notice of the selected meeting (7 days from today, if not yet open) and print it."""
        from visitapp.ui.printing import print_document
        mid = self.current_meeting()
        if not mid:
            return

        def make(ws, path):
            if not any(n.meeting_id == mid for n in ws.review.notices()):
                ws.review.publish_notice(mid)  # seven days from today on the services' clock
            return ws.documents.print_notice(mid, path)

        print_document(self.ctx, f"notice-{mid[:8]}", make)

    def determine(self) -> None:
        mid, sid, level = self.current_meeting(), self.student.currentData(), self.level.currentData()
        if not mid:
            self.det_error.show_message(tr("Record or select a review meeting first."))
            return
        if not sid:
            return

        def failed(exc):
            from visitapp.ui.errors import user_message

            self.det_error.show_message(user_message(exc))

        def done(_d):
            self.det_error.show_message("")
            self.changed.emit()
            self._load_determinations()

        self.ctx.run(lambda ws: ws.review.determine(mid, sid, level), on_done=done, on_error=failed)
