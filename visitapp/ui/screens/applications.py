"""Applications and the chain (issue 15): record a family's application (申请) for one of my
students — date, how it came (family, class teacher's recommendation, the platform's own
免申即享), the papers received and what the family said — and see the student's whole chain
申请 → 家访 → 审核 → 集体评议 → 公示 → 认定 for the term on one screen, printed on one page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateEdit, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit,
    QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget,
)

from visitapp.domain import ApplicationChannel, ApplicationMaterial, ValidationError
from visitapp.domain.applications import APPLICATION_RULE_ZH
from visitapp.ui.errors import problems_text
from visitapp.ui.i18n import label, tr
from visitapp.ui.printing import print_document
from visitapp.ui.screens.reporting import screen_title
from visitapp.ui.widgets import ErrorLabel, RowsModel, rows_table


class ApplicationsScreen(QWidget):
    changed = Signal()

    def __init__(self, ctx: Any, parent=None):  # noqa: ANN001
        super().__init__(parent)
        self.ctx = ctx
        self.term: str | None = None
        self.chain = None
        self.student = QComboBox()
        self.student.setAccessibleName(tr("Student"))
        self.student.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh_button = QPushButton(tr("Refresh"))
        # -- the application form
        self.applied_on = QDateEdit(QDate.currentDate())
        self.applied_on.setCalendarPopup(True)
        self.applied_on.setDisplayFormat("yyyy-MM-dd")
        self.applied_on.setAccessibleName(tr("Date applied"))
        self.channel = QComboBox()
        self.channel.setAccessibleName(tr("How it was applied"))
        self.channel.addItem(tr("(choose)"), None)
        for c in ApplicationChannel:
            self.channel.addItem(label(c), c.value)
        self.materials: dict[str, QCheckBox] = {}
        materials = QGridLayout()
        for i, m in enumerate(ApplicationMaterial):
            box = QCheckBox(label(m))
            box.setAccessibleName(label(m))
            self.materials[m.value] = box
            materials.addWidget(box, i // 2, i % 2)
        self.details = QPlainTextEdit()
        self.details.setAccessibleName(tr("What the family says"))
        self.details.setTabChangesFocus(True)
        self.details.setMaximumHeight(90)
        self.error = ErrorLabel()
        self.record_button = QPushButton(tr("Record the application"))
        form = QFormLayout()
        form.addRow(tr("Date applied"), self.applied_on)
        form.addRow(tr("How it was applied"), self.channel)
        form.addRow(tr("Papers received"), materials)
        form.addRow(tr("What the family says"), self.details)
        form.addRow(self.error)
        form.addRow("", self.record_button)
        form_box = QGroupBox(tr("New application"))
        form_box.setLayout(form)
        form_scroll = QScrollArea()  # the form scrolls rather than widen the window past 1024 px
        form_scroll.setWidgetResizable(True)
        form_scroll.setWidget(form_box)
        form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # -- the student's applications and chain
        self.applications = RowsModel([
            (tr("Date applied"), lambda a: a.applied_on.isoformat() if a.applied_on else ""),
            (tr("How it was applied"), lambda a: label(a.channel)),
            (tr("Papers received"), lambda a: "、".join(label(m) for m in a.materials)),
        ], self)
        self.applications_table = rows_table(self.applications, tr("Applications"), stretch_all=True)
        self.steps = RowsModel([
            (tr("Step"), lambda s: s.step),
            (tr("Done"), lambda s: tr("Yes") if s.done else tr("No")),
            (tr("Date"), lambda s: s.day.isoformat() if s.day else ""),
            (tr("By"), lambda s: s.who),
            (tr("What"), lambda s: s.detail),
        ], self)
        self.chain_table = rows_table(self.steps, tr("Application to determination"))
        self.print_button = QPushButton(tr("Print the chain…"))
        self.caption = QLabel(APPLICATION_RULE_ZH)  # the plan's rule, in the plan's words
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #5f6368;")
        right = QVBoxLayout()
        right.addWidget(QLabel(tr("Applications of this student")))
        right.addWidget(self.applications_table, 1)
        chain_label = QLabel(tr("Application → visit → review → collective review → notice → determination"))
        chain_label.setWordWrap(True)
        right.addWidget(chain_label)
        right.addWidget(self.chain_table, 2)
        right.addWidget(self.print_button)
        holder = QWidget()
        holder.setLayout(right)
        split = QSplitter()
        split.addWidget(form_scroll)
        split.addWidget(holder)
        split.setStretchFactor(1, 2)
        top = QHBoxLayout()
        top.addWidget(screen_title(tr("Applications")))
        top.addStretch()
        student_label = QLabel(tr("Student"))
        student_label.setBuddy(self.student)
        for w in (student_label, self.student, self.refresh_button):
            top.addWidget(w)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.caption)
        lay.addWidget(split, 1)
        self.refresh_button.clicked.connect(self.refresh)
        self.student.activated.connect(lambda _i: self.load())
        self.record_button.clicked.connect(self.record)
        self.print_button.clicked.connect(self.print_chain)

    def refresh(self) -> None:
        self.ctx.run(lambda ws: (ws.students.list_mine(), ws.students.current_term()), on_done=self._filled)

    def _filled(self, result) -> None:  # noqa: ANN001
        students, self.term = result
        keep = self.student.currentData()
        self.student.clear()
        for s in students:
            self.student.addItem(f"{s.name}（{s.class_name}）", s.id)
        self.student.setCurrentIndex(max(0, self.student.findData(keep)))
        self.load()

    def load(self) -> None:
        sid, term = self.student.currentData(), self.term
        self.applications.set_rows([])
        self.steps.set_rows([])
        self.chain = None
        if not sid:
            return
        self.ctx.run(lambda ws: (sid, ws.applications.for_student(sid), ws.applications.chain(sid, term),
                                 ws.applications.may_record(sid)), on_done=self._show)

    def _show(self, result) -> None:  # noqa: ANN001
        sid, applications, chain, may_record = result
        if sid != self.student.currentData():
            return  # an answer about the student chosen before
        self.applications.set_rows(applications)
        self.steps.set_rows(list(chain.steps))
        self.chain = chain
        self.record_button.setEnabled(may_record)
        self.error.show_message("" if may_record else tr("Only the aid officer or the student's class teacher records an application."))

    def record(self) -> None:
        sid = self.student.currentData()
        if not sid:
            return
        d = self.applied_on.date()
        values = dict(applied_on=dt.date(d.year(), d.month(), d.day()), channel=self.channel.currentData(),
                      materials=[code for code, box in self.materials.items() if box.isChecked()],
                      details=self.details.toPlainText().strip())

        def failed(exc):  # noqa: ANN001, ANN202
            if isinstance(exc, ValidationError):
                self.error.show_message(problems_text(exc.problems, "；"))
            else:
                self.ctx.show_error(exc)

        def done(_application):  # noqa: ANN001, ANN202
            self.error.show_message("")
            self.details.setPlainText("")
            for box in self.materials.values():
                box.setChecked(False)
            self.channel.setCurrentIndex(0)
            self.ctx.info(tr("The application was recorded."))
            self.changed.emit()
            self.load()

        self.ctx.run(lambda ws: ws.applications.record(sid, **values), on_done=done, on_error=failed)

    def print_chain(self) -> None:
        chain = self.chain
        if chain is None:
            return
        print_document(self.ctx, f"chain-{chain.student.id[:8]}",
                       lambda ws, path: ws.documents.print_chain(chain.student.id, path, chain.term))
