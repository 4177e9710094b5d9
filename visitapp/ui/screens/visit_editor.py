"""The visit editor: the sections of the visit record form, autosave of drafts, finalize with a
summary (then read-only), amend with a reason. Validation messages appear next to the field."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from PySide6.QtCore import QDate, QTime, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QFormLayout, QGridLayout, QGroupBox,
    QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QScrollArea,
    QSpinBox, QTableWidget, QTableWidgetItem, QTimeEdit, QVBoxLayout, QWidget,
)

from visitapp.domain import FamilyMember, HardshipIndicator, Level, PolicyMaterial, Tier, Visit, VisitMode, field_tiers
from visitapp.domain import ValidationError
from visitapp.ui.errors import problem_text
from visitapp.ui.fit import FlowLayout
from visitapp.ui.i18n import label, tr
from visitapp.ui.widgets import ErrorLabel, title_label

AUTOSAVE_MS = 3000


def _text_box(name: str, height: int = 70) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setAccessibleName(name)
    box.setTabChangesFocus(True)
    box.setMinimumHeight(height)
    return box


class VisitEditor(QWidget):
    """Edits one visit; ``changed`` tells the shell a write happened."""

    changed = Signal()
    closed = Signal()

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.visit: Any = None
        self.student: Any = None
        self.dirty = False
        self.read_only = False
        self._loading = False
        self._request = 0  # the newest load: a late answer for an earlier one is dropped
        self.errors: dict[str, ErrorLabel] = {}
        self.unopened = False

        self.title = title_label()
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fff4ce; padding: 6px; border-radius: 4px;")
        self.banner.hide()
        self.save_state = QLabel()

        # -- visit facts
        self.visit_date = QDateEdit()
        self.visit_date.setCalendarPopup(True)
        self.visit_date.setDisplayFormat("yyyy-MM-dd")
        self.visit_date.setAccessibleName(tr("Visit date"))
        self.visit_time = QTimeEdit()
        self.visit_time.setDisplayFormat("HH:mm")
        self.visit_time.setAccessibleName(tr("Visit time"))
        self.mode = QComboBox()
        self.mode.setAccessibleName(tr("Mode"))
        self.mode.addItem(tr("(choose)"), None)
        for m in VisitMode:
            self.mode.addItem(label(m), m)
        self.visitors = QLineEdit()
        self.visitors.setAccessibleName(tr("Visitors"))
        self.visitors.setPlaceholderText(tr("Names, separated by commas"))
        self.people_present = QLineEdit()
        self.people_present.setAccessibleName(tr("People present"))
        facts = QFormLayout()
        self._row(facts, tr("Visit date"), self.visit_date, "visit_date")
        self._row(facts, tr("Visit time"), self.visit_time, "visit_time")
        self._row(facts, tr("Mode"), self.mode, "mode")
        self._row(facts, tr("Visitors"), self.visitors, "visitors")
        self._row(facts, tr("People present"), self.people_present, "people_present")

        # -- family
        self.members = QTableWidget(0, 5)
        self.members.setAccessibleName(tr("Family members"))
        self.members.setHorizontalHeaderLabels([tr("Relation"), tr("Name"), tr("Age"),
                                                tr("Occupation"), tr("Health")])
        self.members.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.members.verticalHeader().hide()
        self.members.setMinimumHeight(120)
        self.members.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.add_member = QPushButton(tr("Add member"))
        self.remove_member = QPushButton(tr("Remove member"))
        self.income = QSpinBox()
        self.income.setRange(-1, 100_000_000)
        self.income.setSpecialValueText(tr("not filled in"))
        self.income.setSuffix(" " + tr("yuan"))
        self.income.setSingleStep(1000)
        self.income.setAccessibleName(tr("Annual family income"))
        self.income_sources = QLineEdit()
        self.income_sources.setAccessibleName(tr("Income sources"))
        self.housing = _text_box(tr("Housing"), 50)
        self.major_expenses = _text_box(tr("Major expenses"), 50)
        fam = QFormLayout()
        member_buttons = QHBoxLayout()
        member_buttons.addWidget(self.add_member)
        member_buttons.addWidget(self.remove_member)
        member_buttons.addStretch()
        self._row(fam, tr("Family members"), self.members, "family_members")
        fam.addRow("", member_buttons)
        self._row(fam, tr("Annual family income"), self.income, "annual_income_yuan")
        self._row(fam, tr("Income sources"), self.income_sources, "income_sources")
        self._row(fam, tr("Housing"), self.housing, "housing")
        self._row(fam, tr("Major expenses"), self.major_expenses, "major_expenses")

        # -- indicators, needs, requests, materials, level
        self.indicators: dict[HardshipIndicator, QCheckBox] = {}
        grid = QGridLayout()
        for i, ind in enumerate(HardshipIndicator):
            cb = QCheckBox(label(ind))
            self.indicators[ind] = cb
            grid.addWidget(cb, i // 3, i % 3)
        self.student_needs = _text_box(tr("The student's needs"))
        self.family_requests = _text_box(tr("The family's requests"))
        self.materials: dict[PolicyMaterial, QCheckBox] = {}
        mats = QHBoxLayout()
        for m in PolicyMaterial:
            cb = QCheckBox(label(m))
            self.materials[m] = cb
            mats.addWidget(cb)
        mats.addStretch()
        self.level = QComboBox()
        self.level.setAccessibleName(tr("Recommended level"))
        self.level.addItem(tr("(choose)"), None)
        for lv in Level:
            self.level.addItem(label(lv), lv)
        assess = QFormLayout()
        self._row(assess, tr("Hardship indicators"), grid, "hardship_indicators")
        self._row(assess, tr("The student's needs"), self.student_needs, "student_needs")
        self._row(assess, tr("The family's requests"), self.family_requests, "family_requests")
        self._row(assess, tr("Policy materials handed over"), mats, "policy_materials")
        self._row(assess, tr("Recommended level"), self.level, "recommended_level")

        # -- record
        self.narrative = _text_box(tr("Narrative"), 120)
        self.follow_ups = _text_box(tr("Follow-ups"))
        self.consent = QComboBox()
        self.consent.setAccessibleName(tr("Guardian consent"))
        self.consent.addItem(tr("(not asked yet)"), None)
        self.consent.addItem(tr("The guardian agrees"), True)
        self.consent.addItem(tr("The guardian does not agree"), False)
        self.amendment_reason = QLineEdit()
        self.amendment_reason.setAccessibleName(tr("Reason for the correction"))
        rec = QFormLayout()
        self._row(rec, tr("Narrative"), self.narrative, "narrative")
        self._row(rec, tr("Follow-ups"), self.follow_ups, "follow_ups")
        self._row(rec, tr("Guardian consent"), self.consent, "guardian_consent")
        self._row(rec, tr("Reason for the correction"), self.amendment_reason, "amendment_reason")
        self._amend_row = rec.rowCount() - 1
        self._rec_form = rec

        body = QWidget()
        body_lay = QVBoxLayout(body)
        for title, form in ((tr("Visit"), facts), (tr("Family"), fam),
                            (tr("Assessment"), assess), (tr("Record"), rec)):
            box = QGroupBox(title)
            box.setLayout(form)
            body_lay.addWidget(box)
        self.general_error = ErrorLabel()
        body_lay.addWidget(self.general_error)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.scroll = scroll

        self.save_button = QPushButton(tr("Save draft"))
        self.finalize_button = QPushButton(tr("Finalize…"))
        self.amend_button = QPushButton(tr("Correct (amend)…"))
        self.new_button = QPushButton(tr("New visit record"))
        self.back_button = QPushButton(tr("Back to my students"))
        self.print_button = QPushButton(tr("Print record sheet…"))
        self.print_button.setToolTip(tr("A4 sheet for signatures and the paper archive (PDF)"))
        buttons = FlowLayout()  # wraps onto a second line rather than leave the window
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.save_state)
        buttons.addStretch()
        for b in (self.print_button, self.new_button, self.amend_button, self.save_button, self.finalize_button):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.banner)
        # issue 15: the record's review (谁审核谁负责), filled after the record is shown
        self.review_line = QLabel()
        self.review_line.setAccessibleName(tr("Review state"))
        self.review_line.setWordWrap(True)
        self.review_line.hide()
        lay.addWidget(self.review_line)
        lay.addWidget(scroll, 1)
        lay.addLayout(buttons)

        self.autosave = QTimer(self)
        self.autosave.setSingleShot(True)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.save)
        self.save_button.clicked.connect(self.save)
        self.finalize_button.clicked.connect(self.finalize)
        self.amend_button.clicked.connect(self.amend)
        self.new_button.clicked.connect(self.new_visit)
        self.back_button.clicked.connect(self._back)
        self.print_button.clicked.connect(self.print_sheet)
        self.print_button.setVisible(False)
        self.add_member.clicked.connect(lambda: self._add_member_row())
        self.remove_member.clicked.connect(self._remove_member_row)
        self._connect_dirty()
        self._set_enabled(False)

    # -- layout helpers ------------------------------------------------------------------------
    def _row(self, form: QFormLayout, text: str, field, key: str) -> None:
        err = ErrorLabel()
        self.errors[key] = err
        holder = QWidget()
        v = QVBoxLayout(holder)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(2)
        if isinstance(field, QWidget):
            v.addWidget(field)
        else:
            v.addLayout(field)
        v.addWidget(err)
        form.addRow(text, holder)

    def _story_boxes(self) -> list[QLineEdit | QPlainTextEdit]:
        """The free-text fields of the family's story (tier C)."""
        # the widgets carry the fields' names: the domain's tiers say which are the story
        boxes = (getattr(self, name, None) for name, tier in field_tiers(Visit).items() if tier is Tier.C)
        return [b for b in boxes if isinstance(b, (QLineEdit, QPlainTextEdit))]

    def _inputs(self) -> list[QWidget]:
        return [self.visit_date, self.visit_time, self.mode, self.visitors, self.people_present,
                self.members, self.add_member, self.remove_member, self.income,
                self.income_sources, self.housing, self.major_expenses,
                *self.indicators.values(), self.student_needs, self.family_requests,
                *self.materials.values(), self.level, self.narrative, self.follow_ups,
                self.consent, self.amendment_reason]

    def _connect_dirty(self) -> None:
        for w in self._inputs():
            for sig in ("textChanged", "dateChanged", "timeChanged", "currentIndexChanged",
                        "toggled", "valueChanged", "cellChanged"):
                if hasattr(w, sig) and not isinstance(w, QPushButton):
                    getattr(w, sig).connect(self._mark_dirty)

    def _mark_dirty(self, *_a) -> None:
        if self._loading or self.read_only or self.visit is None:
            return
        self.dirty = True
        self.save_state.setText(tr("Unsaved changes"))
        if not self.ctx.locked:
            self.autosave.start()

    def _set_enabled(self, editable: bool) -> None:
        for w in self._inputs():
            if isinstance(w, (QLineEdit, QPlainTextEdit)):
                w.setReadOnly(not editable)
            elif isinstance(w, QTableWidget):
                w.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers if editable
                                  else QAbstractItemView.EditTrigger.NoEditTriggers)
            else:
                w.setEnabled(editable)

    def _add_member_row(self, m: FamilyMember | None = None) -> None:
        r = self.members.rowCount()
        self.members.insertRow(r)
        values = ["", "", "", "", ""] if m is None else [
            m.relation, m.name, "" if m.age is None else str(m.age), m.occupation, m.health]
        for c, v in enumerate(values):
            self.members.setItem(r, c, QTableWidgetItem(v))
        if m is None:
            self.members.setCurrentCell(r, 0)
            self._mark_dirty()

    def _remove_member_row(self) -> None:
        r = self.members.currentRow()
        if r >= 0:
            self.members.removeRow(r)
            self._mark_dirty()

    # -- loading --------------------------------------------------------------------------------
    def open_for_student(self, student_id: str) -> None:
        """Open the student's draft, else the latest final record, else a new draft."""
        self.flush()

        def work(ws):
            student = ws.students.get(student_id)
            visits = ws.visits.for_student(student_id)
            drafts = [v for v in visits if str(v.status) == "draft"]
            if drafts:
                visit = drafts[0]
            else:
                current = [v for v in visits if str(v.status) == "final"
                           and str(ws.visits.effective_status(v.id)) == "final"]
                visit = current[0] if current else ws.visits.create_draft(student_id)
            return student, visit, str(ws.visits.effective_status(visit.id)), ws.visits.is_unopened(visit.id)

        self._load(work)

    def _load(self, work) -> None:
        """Show a loading state (never the previous record under a new name), then the answer
        of this request only."""
        self._request += 1
        request = self._request
        self.title.setText(tr("Loading…"))
        self.banner.hide()
        self.save_state.setText("")
        self._set_enabled(False)
        for b in (self.print_button, self.new_button, self.amend_button, self.save_button, self.finalize_button):
            b.setEnabled(False)
        self.ctx.run(work, on_done=lambda result: self._loaded(result, request))

    def new_visit(self) -> None:
        if self.student is None:
            return
        sid = self.student.id
        self.flush()
        self._load(lambda ws: (ws.students.get(sid), ws.visits.create_draft(sid), "draft"))

    def _loaded(self, result, request: int | None = None) -> None:
        if request is not None and request != self._request:
            return  # a later open is on its way: this answer is about another record
        student, visit, status, *unopened = result
        self.student = student
        self.show_visit(visit, status, unopened=bool(unopened and unopened[0]))
        self.changed.emit()

    def show_visit(self, visit, status: str | None = None, unopened: bool = False) -> None:
        """Show a record; ``unopened``: this laptop holds it without its family's story (sealed
        to readers it is not yet one of), so the story's fields say so and the record can be
        neither corrected nor printed here yet."""
        self._loading = True
        try:
            self.visit = visit
            self.unopened = unopened
            for box in self._story_boxes():
                box.setPlaceholderText(tr("Visible once the aid officer grants access") if unopened else "")
            status = status or str(visit.status)
            self.read_only = status != "draft"
            self.dirty = False
            self.save_state.setText("")
            self.title.setText(tr("Home visit record: {name} ({cls})").format(
                name=self.student.name, cls=self.student.class_name) if self.student else "")
            today = dt.date.today()
            d = visit.visit_date or today
            self.visit_date.setMaximumDate(QDate(today.year, today.month, today.day))
            self.visit_date.setDate(QDate(d.year, d.month, d.day))
            t = visit.visit_time or dt.datetime.now().time().replace(second=0, microsecond=0)
            self.visit_time.setTime(QTime(t.hour, t.minute))
            self.mode.setCurrentIndex(max(0, self.mode.findData(visit.mode)))
            self.visitors.setText("，".join(visit.visitors))
            self.people_present.setText(visit.people_present)
            self.members.setRowCount(0)
            for m in visit.family_members:
                self._add_member_row(m)
            self.income.setValue(-1 if visit.annual_income_yuan is None else visit.annual_income_yuan)
            self.income_sources.setText(visit.income_sources)
            self.housing.setPlainText(visit.housing)
            self.major_expenses.setPlainText(visit.major_expenses)
            chosen = {str(i) for i in visit.hardship_indicators}
            for ind, cb in self.indicators.items():
                cb.setChecked(str(ind) in chosen)
            self.student_needs.setPlainText(visit.student_needs)
            self.family_requests.setPlainText(visit.family_requests)
            mats = {str(m) for m in visit.policy_materials}
            for m, cb in self.materials.items():
                cb.setChecked(str(m) in mats)
            self.level.setCurrentIndex(max(0, self.level.findData(visit.recommended_level)))
            self.narrative.setPlainText(visit.narrative)
            self.follow_ups.setPlainText(visit.follow_ups)
            self.consent.setCurrentIndex(max(0, self.consent.findData(visit.guardian_consent)))
            self.amendment_reason.setText(visit.amendment_reason)
            self._rec_form.setRowVisible(self._amend_row, bool(visit.amends_id))
            self.show_problems({})
            self._set_enabled(not self.read_only)
            self.save_button.setEnabled(not self.read_only)
            self.finalize_button.setEnabled(not self.read_only)
            self.amend_button.setVisible(status == "final" and not unopened)
            self.new_button.setVisible(self.read_only)
            self.print_button.setVisible(self.read_only and not unopened)  # drafts are not filed on paper
            for b in (self.print_button, self.new_button, self.amend_button):
                b.setEnabled(True)
            if status == "draft":
                self.banner.setText(tr("This is a correction of a finalized record.")
                                    if visit.amends_id else tr("Draft: saved automatically while you type."))
                self.banner.setVisible(True)
            else:
                texts = {"final": tr("Finalized: this record is read-only. To change it, use "
                                     "Correct (amend) and give a reason."),
                         "amended": tr("This record was corrected by a later record and is kept "
                                       "read-only for the trail."),
                         "voided": tr("This record was voided and is kept read-only.")}
                text = texts.get(status, "")
                if unopened:
                    text = tr("The family's situation in this record is visible once the aid officer grants "
                              "access (待资助专干授权后可查看): it opens at the sync after the officer's. Until "
                              "then it can be neither corrected nor printed here.")
                self.banner.setText(text)
                self.banner.setVisible(True)
        finally:
            self._loading = False
        self.review_line.hide()
        if status != "draft":
            vid = visit.id
            self.ctx.run(lambda ws: (vid, ws.record_reviews.state("visit", vid),
                                     ws.record_reviews.staff_name(ws.record_reviews.state("visit", vid).review.reviewer_id)
                                     if ws.record_reviews.state("visit", vid).review else ""),
                         on_done=self._show_review)

    def _show_review(self, result) -> None:  # noqa: ANN001 - issue 15
        vid, state, reviewer = result
        if self.visit is None or self.visit.id != vid:
            return  # a late answer about the record shown before
        r = state.review
        if r is None:
            text = tr("Review: waiting for review.")
        elif state.status == "returned":
            text = tr("Returned by {name} on {day}: {comment} — correct it with Correct (amend).").format(
                name=reviewer, day=r.reviewed_on, comment=r.comment)
        else:
            text = tr("Reviewed by {name} on {day}.").format(name=reviewer, day=r.reviewed_on)
        self.review_line.setStyleSheet("color: #b3261e;" if state.status == "returned" else "color: #1e6b32;")
        self.review_line.setText(text)
        self.review_line.show()

    # -- collecting and saving --------------------------------------------------------------------
    def form_values(self) -> dict:
        """The form as ``save_draft`` keyword arguments."""
        members = []
        for r in range(self.members.rowCount()):
            cells = [(self.members.item(r, c).text().strip() if self.members.item(r, c) else "")
                     for c in range(5)]
            if not any(cells):
                continue
            age: int | None
            try:
                age = int(cells[2]) if cells[2] else None
            except ValueError:
                age = -1  # the domain reports it next to the table
            members.append(FamilyMember(relation=cells[0], name=cells[1], age=age,
                                        occupation=cells[3], health=cells[4]))
        qd, qt = self.visit_date.date(), self.visit_time.time()
        values = dict(
            visit_date=dt.date(qd.year(), qd.month(), qd.day()),
            visit_time=dt.time(qt.hour(), qt.minute()),
            mode=self.mode.currentData(),
            visitors=tuple(v.strip() for v in re.split(r"[,，、;；]", self.visitors.text()) if v.strip()),
            people_present=self.people_present.text().strip(),
            family_members=tuple(members),
            annual_income_yuan=None if self.income.value() < 0 else self.income.value(),
            income_sources=self.income_sources.text().strip(),
            housing=self.housing.toPlainText(),
            major_expenses=self.major_expenses.toPlainText(),
            hardship_indicators=tuple(i for i, cb in self.indicators.items() if cb.isChecked()),
            student_needs=self.student_needs.toPlainText(),
            family_requests=self.family_requests.toPlainText(),
            policy_materials=tuple(m for m, cb in self.materials.items() if cb.isChecked()),
            recommended_level=self.level.currentData(),
            narrative=self.narrative.toPlainText(),
            follow_ups=self.follow_ups.toPlainText(),
            guardian_consent=self.consent.currentData(),
        )
        if self.visit is not None and self.visit.amends_id:
            values["amendment_reason"] = self.amendment_reason.text().strip()
        return values

    def save(self, then=None) -> None:
        """Save the draft now (the autosave timer, Ctrl+S and closing all come here)."""
        self.autosave.stop()
        if self.visit is None or self.read_only or self.ctx.locked:
            if then:
                then()
            return
        if not self.dirty:
            if then:
                then()
            return
        values, visit_id = self.form_values(), self.visit.id
        self.dirty = False
        self.save_state.setText(tr("Saving…"))

        def done(visit):
            self.visit = visit
            self.show_problems({})
            if not self.dirty:
                self.save_state.setText(tr("Saved at {time}").format(
                    time=dt.datetime.now().strftime("%H:%M:%S")))
            self.changed.emit()
            if then:
                then()

        def failed(exc):
            self.dirty = True
            self.save_state.setText(tr("Not saved"))
            self._handle_error(exc)

        self.ctx.run(lambda ws: ws.visits.save_draft(visit_id, **values),
                     on_done=done, on_error=failed)

    def flush(self) -> None:
        """Save pending edits before the form changes or the keys are dropped."""
        if self.dirty and not self.read_only:
            self.save()

    def show_problems(self, problems: dict[str, str]) -> None:
        for key, err in self.errors.items():
            err.show_message("")
        general = []
        for key, text in problems.items():
            base = key.split("[")[0].split(".")[0]
            text = problem_text(text)
            if base in self.errors:
                old = self.errors[base].text()
                self.errors[base].show_message((old + "\n" if old else "") + text)
            else:
                general.append(text)
        self.general_error.show_message("\n".join(general))

    def _handle_error(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            self.show_problems(exc.problems)
            self.ctx.notice.emit(tr("Please check the fields marked in red."), "error")
        else:
            self.ctx.show_error(exc)

    # -- finalize and amend -------------------------------------------------------------------------
    def summary(self) -> str:
        v = self.form_values()
        lines = [
            tr("Student: {name}").format(name=self.student.name if self.student else ""),
            tr("Date: {date}, {mode}").format(date=v["visit_date"].isoformat(), mode=label(v["mode"])),
            tr("Visitors: {names}").format(names="，".join(v["visitors"])),
            tr("Hardship indicators: {n}").format(n=len(v["hardship_indicators"])),
            tr("Recommended level: {level}").format(level=label(v["recommended_level"]) or "—"),
            "",
            tr("After finalizing, the record becomes read-only. Corrections are made as a new "
               "record with a reason."),
        ]
        return "\n".join(lines)

    def finalize(self) -> None:
        if self.visit is None or self.read_only:
            return
        if not self.ctx.confirm(tr("Finalize the visit record?"), self.summary()):
            return
        values, visit_id = self.form_values(), self.visit.id
        self.autosave.stop()
        self.dirty = False

        def work(ws):
            ws.visits.save_draft(visit_id, **values)
            visit = ws.visits.finalize(visit_id)
            return visit, str(ws.visits.effective_status(visit_id))

        def done(result):
            visit, status = result
            self.show_visit(visit, status)
            self.ctx.info(tr("The visit record was finalized."))
            self.changed.emit()

        def failed(exc):
            self.dirty = True
            self._handle_error(exc)

        self.ctx.run(work, on_done=done, on_error=failed)

    def print_sheet(self) -> None:
        from visitapp.ui.printing import print_document
        visit_id = self.visit.id
        print_document(self.ctx, f"visit-{visit_id[:8]}",
                       lambda ws, path: ws.documents.print_visit(visit_id, path))

    def amend(self) -> None:
        if self.visit is None:
            return
        reason = self.ctx.ask_text(tr("Correct a finalized record"),
                                   tr("Why does the record need a correction?"))
        if reason is None:
            return
        if not reason.strip():
            self.ctx.notice.emit(tr("A correction needs a reason."), "error")
            return
        visit_id = self.visit.id
        self.ctx.run(lambda ws: (ws.students.get(ws.visits.get(visit_id).student_id),
                                 ws.visits.amend(visit_id, reason), "draft"),
                     on_done=self._loaded, on_error=self._handle_error)

    def _back(self) -> None:
        self.flush()
        self.closed.emit()
