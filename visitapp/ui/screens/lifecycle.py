"""Officer screen: the school's own records for the six coverages, and the end of a leaver's
records (issue 15).

- *Support centre* (coverage 1, 学生发展支持中心): its name and the evidence seen, per term;
- *Key support* (重点帮扶): designate a student or withdraw it, always with a reason;
- *Retention*: students off the roster with the day their retention ends; for one whose
  retention has passed, make the long-term archive PDF, then erase the student from the
  school server and every laptop (the other laptops at their next sync); for a student already
  erased, erase what laptops sent about them afterwards (late work, kept as orphaned work
  meanwhile). What the plan and the school's rules say is shown under each form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QTabWidget, QVBoxLayout, QWidget,
)

from visitapp.ui.i18n import tr
from visitapp.ui.widgets import RowsModel, rows_table, title_label


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def _day(day) -> str:  # noqa: ANN001 - a date or None
    return day.isoformat() if day else "—"


class LifecycleScreen(QWidget):
    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        from visitapp.services.support import KEY_SUPPORT_RULE_ZH, SUPPORT_CENTRE_RULE_ZH

        self.ctx = ctx
        self.term = ""
        self.state = QLabel()
        self.state.setWordWrap(True)

        # -- support centre
        self.centre_name = QLineEdit()
        self.centre_name.setAccessibleName(tr("Name of the support centre"))
        self.centre_evidence = QPlainTextEdit()
        self.centre_evidence.setAccessibleName(tr("Evidence"))
        self.centre_evidence.setPlaceholderText(tr("What you saw: the room, the duty roster, the records it keeps"))
        self.centre_save = QPushButton(tr("Record the support centre for this term"))
        self.centre_state = QLabel()
        centre_tab = QWidget()
        form = QFormLayout()
        form.addRow(tr("Name of the support centre"), self.centre_name)
        form.addRow(tr("Evidence"), self.centre_evidence)
        clay = QVBoxLayout(centre_tab)
        clay.addLayout(form)
        clay.addWidget(self.centre_save)
        clay.addWidget(self.centre_state)
        clay.addWidget(_caption(SUPPORT_CENTRE_RULE_ZH))
        clay.addStretch()

        # -- key support
        yes = tr("yes")
        self.students = RowsModel([
            (tr("Student"), lambda r: r.name), (tr("Class"), lambda r: r.class_name),
            (tr("Key support"), lambda r: yes if r.key_support else ""),
        ], self)
        self.student_view = rows_table(self.students, tr("Students on the roster"), single=True)
        self.key_reason = QLineEdit()
        self.key_reason.setAccessibleName(tr("Reason"))
        self.key_reason.setPlaceholderText(tr("Reason (required)"))
        self.designate_button = QPushButton(tr("Designate for key support"))
        self.withdraw_button = QPushButton(tr("Withdraw key support"))
        key_tab = QWidget()
        krow = QHBoxLayout()
        krow.addWidget(self.key_reason, 1)
        krow.addWidget(self.designate_button)
        krow.addWidget(self.withdraw_button)
        klay = QVBoxLayout(key_tab)
        klay.addWidget(self.student_view, 1)
        klay.addLayout(krow)
        klay.addWidget(_caption(KEY_SUPPORT_RULE_ZH))

        # -- retention
        due, kept, archived = tr("due: archive, then erase"), tr("kept"), tr("archived: may be erased")
        self.leavers = RowsModel([
            (tr("Student"), lambda r: r.name), (tr("Class"), lambda r: r.class_name),
            (tr("Left the roster"), lambda r: _day(r.left_on)), (tr("Retention ends"), lambda r: _day(r.retention_ends)),
            (tr("Records"), lambda r: str(r.records)),
            (tr("State"), lambda r: (archived if r.archived_sha256 else due) if r.due else kept),
        ], self)
        self.leaver_view = rows_table(self.leavers, tr("Students no longer on the roster"), single=True)
        self.archive_button = QPushButton(tr("Make the archive PDF…"))
        self.erase_button = QPushButton(tr("Erase from the server and every computer"))
        self.retention_rule = QLabel()
        self.retention_rule.setWordWrap(True)
        # students erased here: what laptops sent about them after the erase goes the same way
        self.erased = RowsModel([
            (tr("Student id"), lambda r: r.student_id), (tr("Erased on"), lambda r: r.erased_at[:10] or "—"),
            (tr("Records erased"), lambda r: str(r.records)), (tr("Late changes erased"), lambda r: str(r.late_erased)),
        ], self)
        self.erased_view = rows_table(self.erased, tr("Students erased from this computer"), single=True)
        self.late_button = QPushButton(tr("Erase late work…"))
        self.late_rule = _caption(tr(
            "A change about an erased student that a computer had not sent yet arrives afterwards and waits, "
            "unapplied, on the Orphaned work screen. Print it there if the archive needs it, then erase it here: "
            "the server erases it and adds it to the deletion record."))
        retention_tab = QWidget()
        rrow = QHBoxLayout()
        rrow.addStretch()
        rrow.addWidget(self.archive_button)
        rrow.addWidget(self.erase_button)
        lrow = QHBoxLayout()
        lrow.addWidget(self.late_rule, 1)
        lrow.addWidget(self.late_button)
        rlay = QVBoxLayout(retention_tab)
        rlay.addWidget(self.retention_rule)
        rlay.addWidget(self.leaver_view, 2)
        rlay.addLayout(rrow)
        rlay.addWidget(self.erased_view, 1)
        rlay.addLayout(lrow)

        self.tabs = QTabWidget()
        self.tabs.addTab(centre_tab, tr("Support centre"))
        self.tabs.addTab(key_tab, tr("Key support"))
        self.tabs.addTab(retention_tab, tr("Retention"))
        lay = QVBoxLayout(self)
        lay.addWidget(title_label(tr("Support centre, key support and retention")))
        lay.addWidget(self.state)
        lay.addWidget(self.tabs, 1)

        self.centre_save.clicked.connect(self.record_centre)
        self.designate_button.clicked.connect(lambda: self.set_key_support(True))
        self.withdraw_button.clicked.connect(lambda: self.set_key_support(False))
        self.archive_button.clicked.connect(self.archive)
        self.erase_button.clicked.connect(self.erase)
        self.late_button.clicked.connect(self.erase_late)

    # -- reading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.ctx.ws is None:
            return

        def work(ws):
            term = ws.reports.current_term()
            roster = [r for r in ws.students.list_mine() if r.on_roster]
            return (term, ws.support.centre(term), roster, ws.retention.left_students(),
                    ws.retention.school_years(), ws.retention.erased_students())

        self.ctx.run(work, on_done=self._show)

    def _show(self, result) -> None:
        from visitapp.domain import term_label

        self.term, centre, roster, leavers, years, erased = result
        self.state.setText(tr("Term: {term}").format(term=term_label(self.term)))
        if centre is not None:
            self.centre_name.setText(centre.name)
            self.centre_evidence.setPlainText(centre.evidence)
            self.centre_state.setText(tr("Recorded for this term on {day}.").format(
                day=centre.recorded_at.date().isoformat() if centre.recorded_at else "—"))
        else:
            self.centre_state.setText(tr("Not recorded for this term: coverage 1 counts 0 of 1."))
        self.students.set_rows(roster)
        self.leavers.set_rows(leavers)
        self.erased.set_rows(erased)
        self.retention_rule.setText(tr(
            "A student's records are kept for {n} school years after the student leaves the roster "
            "(the setting is on the Settings screen). When that has passed, make the archive PDF the school "
            "keeps, then erase: the records leave the school server at once and every other computer at its "
            "next sync, after it has sent what it had not sent yet. The deletion record (what, how many, when, "
            "who; no content) stays in the audit trail.").format(n=years))

    def _selected(self, view, model):  # noqa: ANN001, ANN202
        rows = view.selectionModel().selectedRows() if view.selectionModel() else []
        return model.rows[rows[0].row()] if rows else None

    # -- actions -------------------------------------------------------------------------------
    def record_centre(self) -> None:
        name, evidence, term = self.centre_name.text(), self.centre_evidence.toPlainText(), self.term

        def done(_c):
            self.ctx.info(tr("Support centre recorded; coverage 1 counts it."))
            self.ctx.data_changed.emit()
            self.refresh()

        self.ctx.run(lambda ws: ws.support.record_centre(term, name, evidence), on_done=done)

    def set_key_support(self, designated: bool) -> None:
        student = self._selected(self.student_view, self.students)
        if student is None:
            self.ctx.info(tr("Choose a student first."))
            return
        reason = self.key_reason.text()

        def done(_s):
            self.key_reason.clear()
            self.ctx.info(tr("Key support designated.") if designated else tr("Key support withdrawn."))
            self.ctx.data_changed.emit()
            self.refresh()

        self.ctx.run(lambda ws: ws.support.set_key_support(student.id, designated, reason), on_done=done)

    def archive(self) -> None:
        leaver = self._selected(self.leaver_view, self.leavers)
        if leaver is None:
            self.ctx.info(tr("Choose a student first."))
            return
        path = self.ctx.save_file_name(tr("Save the archive PDF"), f"长期档案-{leaver.name}.pdf", "PDF (*.pdf)")
        if not path:
            return

        def done(digest):
            self.ctx.info(tr("Archive saved: {path} (SHA-256 {digest}).").format(path=path, digest=digest[:16]))
            self.refresh()

        self.ctx.run(lambda ws: ws.retention.archive(leaver.student_id, Path(path)), on_done=done)

    def erase(self) -> None:
        leaver = self._selected(self.leaver_view, self.leavers)
        if leaver is None:
            self.ctx.info(tr("Choose a student first."))
            return
        if not self.ctx.confirm(tr("Erase the student's records"), tr(
                "Erase every record about {name} from the school server and every computer? The archive PDF "
                "is what remains; this cannot be undone.").format(name=leaver.name)):
            return

        def done(erasure):
            total = sum(erasure.counts.values())
            self.ctx.info(tr("Erased {n} records from the school server; other computers erase them at their "
                             "next sync.").format(n=total))
            self.ctx.data_changed.emit()
            self.refresh()

        self.ctx.run(lambda ws: ws.retention.erase(leaver.student_id), on_done=done, network=True)

    def erase_late(self) -> None:
        erased = self._selected(self.erased_view, self.erased)
        if erased is None:
            self.ctx.info(tr("Choose an erased student first."))
            return
        if not self.ctx.confirm(tr("Erase late work"), tr(
                "Erase from the school server what computers sent about {student} after the erase? Print it from "
                "the Orphaned work screen first if the archive needs it; this cannot be undone.").format(
                    student=erased.student_id)):
            return

        def done(late):
            self.ctx.info(tr("Erased {n} late changes from the school server; they are in the deletion "
                             "record.").format(n=late) if late else tr("Nothing about this student arrived "
                                                                        "after the erase."))
            self.ctx.data_changed.emit()
            self.refresh()

        self.ctx.run(lambda ws: ws.retention.erase_late_work(erased.student_id), on_done=done, network=True)
