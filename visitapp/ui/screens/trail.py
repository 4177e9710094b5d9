"""The officer's audit-trail screen (责任追溯, issue 15): who entered and who reviewed what, when,
on which device, and whether each event is verified (signed by this laptop's certified key),
unsigned (written before the laptop had a signing key), not checkable here (another device's:
``visitapp-server audit verify`` checks those against the key directory) or where a chain
breaks. The same lines as ``visitapp audit show``, filtered the same way (a student and every
record about them, one staff member, from a day on: ``AuditService.show``); the summary is
``visitapp audit verify``, always over the whole trail."""

from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget,
)

from visitapp.ui.i18n import N_, tr
from visitapp.ui.screens.reporting import screen_title
from visitapp.ui.widgets import RowsModel, rows_table

STATUS_TITLES = {"signed": N_("Verified"), "unsigned": N_("Unsigned (enrolled before signing)"),
                 "unchecked": N_("Checked on the school server"), "broken": N_("Broken or forged")}


class AuditTrailScreen(QWidget):
    _filling = False  # the choices are being replaced: not a filter the officer changed

    def __init__(self, ctx, parent=None):  # noqa: ANN001
        super().__init__(parent)
        self.ctx = ctx
        self.report = None
        self.verify_button = QPushButton(tr("Verify the trail"))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.lines = RowsModel([
            (tr("When"), lambda x: f"{x.at:%Y-%m-%d %H:%M}"),
            (tr("Who"), lambda x: x.actor),
            (tr("Action"), lambda x: x.action),
            (tr("Record"), lambda x: x.record_kind),
            (tr("Device"), lambda x: f"{x.device_id[:8]} #{x.seq}"),
            (tr("Signature"), lambda x: tr(STATUS_TITLES.get(x.status, x.status))),
        ], self)
        self.table = rows_table(self.lines, tr("Audit events"))
        # a school has thousands of students: the officer types the 学号 (or a name's start) and
        # the box completes it; the list is there to scroll too
        self.student = QComboBox()
        self.student.setEditable(True)
        self.student.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.student.setMinimumContentsLength(16)
        self.student.setAccessibleName(tr("Student"))
        self.student.lineEdit().editingFinished.connect(self._settle_student_text)
        self.staff = QComboBox()
        self.staff.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # names are short
        self.staff.setAccessibleName(tr("Staff member"))
        self.since_on = QCheckBox(tr("From"))
        self.since = QDateEdit(QDate.currentDate())
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("yyyy-MM-dd")
        self.since.setAccessibleName(tr("From"))
        self.since.setEnabled(False)
        self.shown = QLabel()
        for combo, everyone in ((self.student, tr("All students")), (self.staff, tr("All staff"))):
            combo.addItem(everyone, None)
            combo.currentIndexChanged.connect(self._filters_changed)
        self.since_on.toggled.connect(self.since.setEnabled)
        self.since_on.toggled.connect(self._filters_changed)
        self.since.dateChanged.connect(self._filters_changed)
        caption = QLabel(tr(
            "Every change on a laptop is an event in that laptop's chain, signed with the laptop's key that the "
            "officer certified. Verified: signed by this laptop's key. Unsigned: written before the laptop had a "
            "key. Other devices' signatures are checked on the school server (visitapp-server audit verify)."))
        caption.setWordWrap(True)
        caption.setStyleSheet("color: #5f6368;")
        top = QHBoxLayout()
        top.addWidget(screen_title(tr("Audit trail")))
        top.addStretch()
        top.addWidget(self.verify_button)
        filters = QHBoxLayout()
        filters.addWidget(QLabel(tr("Student")))
        filters.addWidget(self.student, 2)
        filters.addWidget(QLabel(tr("Staff member")))
        filters.addWidget(self.staff)
        filters.addWidget(self.since_on)
        filters.addWidget(self.since)
        filters.addStretch()
        filters.addWidget(self.shown)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(caption)
        lay.addWidget(self.summary)
        lay.addLayout(filters)
        lay.addWidget(self.table, 1)
        self.verify_button.clicked.connect(self.refresh)

    def filters(self) -> tuple[str | None, str | None, object]:
        """(student id, staff id, first day) as ``AuditService.show`` takes them; None: all."""
        since = self.since.date().toPython() if self.since_on.isChecked() else None
        return self.student.currentData(), self.staff.currentData(), since

    def refresh(self) -> None:
        student, staff, since = self.filters()

        def load(ws):  # noqa: ANN001
            students = [(s.id, f"{s.student_no} {s.name}（{s.class_name}）") for s in ws.students.list_mine()]
            return ws.audit.verify(), ws.audit.show(student, staff, since), students, ws.workload.teachers()
        self.ctx.run(load, on_done=self.show_trail)

    def _filters_changed(self, *_args) -> None:  # noqa: ANN002
        if not self._filling:
            self.refresh()

    def _settle_student_text(self) -> None:
        """Typed text that names no student goes back to the chosen one, so what the box says
        is always what the list is filtered by."""
        if self.student.lineEdit().text() != self.student.currentText():
            self.student.setEditText(self.student.itemText(self.student.currentIndex()))

    def _fill(self, combo: QComboBox, choices: list[tuple[str, str]]) -> bool:
        """The choices after "all", keeping the one chosen (by id); False when it is gone."""
        chosen = combo.currentData()
        self._filling = True
        try:
            while combo.count() > 1:
                combo.removeItem(1)
            for key, text in choices:
                combo.addItem(text, key)
            at = combo.findData(chosen) if chosen is not None else 0
            combo.setCurrentIndex(max(at, 0))
        finally:
            self._filling = False
        return at >= 0

    def show_trail(self, result) -> None:  # noqa: ANN001
        self.report, lines, students, staff = result
        if not (self._fill(self.student, students) & self._fill(self.staff, staff)):
            self.refresh()  # the student or staff member filtered by is no longer here: show all
        self.lines.set_rows(list(reversed(lines)))  # newest first
        self.shown.setText(tr("{count} events shown").format(count=len(lines)))
        b = self.report.broken
        if b is None:
            self.summary.setText(tr("Intact: {events} events from {devices} devices; {signed} verified, "
                                    "{unsigned} unsigned.").format(events=self.report.events,
                                                                   devices=self.report.devices,
                                                                   signed=self.report.signed,
                                                                   unsigned=self.report.unsigned))
            self.summary.setStyleSheet("")
        else:
            self.summary.setText(tr("Broken at event {seq} of device {device} ({action}): {reason}").format(
                seq=b.seq, device=b.device_id[:8], action=b.action, reason=b.reason))
            self.summary.setStyleSheet("color: #b00020; font-weight: bold;")
