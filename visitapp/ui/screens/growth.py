"""The growth file: editable profile fields (a field with an open conflict is marked) and the
timeline of visits, rewards, aid, psychological support and mentor notes, newest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QGroupBox,
    QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSplitter,
    QTableView, QVBoxLayout, QWidget,
)

from visitapp.domain import AidKind, ProfileField, RewardKind, ValidationError
from visitapp.ui.i18n import N_, label, tr
from visitapp.ui.errors import problems_text
from visitapp.ui.widgets import ErrorLabel, RowsModel, title_label

TIMELINE_KINDS = {"visit": N_("Home visit"), "reward": N_("Growth reward"), "aid": N_("Aid"),
                  "psych_support": N_("Psychological support"), "mentor_note": N_("Mentor note"),
                  "activity": N_("Activity")}


ENTRY_KINDS = (("reward", N_("Growth reward")), ("aid", N_("School aid")),
               ("psych_support", N_("Psychological support")), ("activity", N_("Activity or study trip")))


class EntryDialog(QDialog):
    """Add a growth-file entry of any kind the plan names: a growth reward (scholarship,
    commendation, job practice, study trip), the school's own aid (from its 3–5% funds: kind,
    amount, programme), psychological support, or an activity; then date, title, detail."""

    def __init__(self, parent=None, kind: str = "reward"):
        super().__init__(parent)
        self.setWindowTitle(tr("Add to the growth file"))
        self.entry_kind = QComboBox()
        self.entry_kind.setAccessibleName(tr("Entry kind"))
        for code, text in ENTRY_KINDS:
            self.entry_kind.addItem(tr(text), code)
        self.kind = QComboBox()  # the reward's kind
        self.kind.setAccessibleName(tr("Reward kind"))
        for k in RewardKind:
            self.kind.addItem(label(k), k)
        self.aid_kind = QComboBox()
        self.aid_kind.setAccessibleName(tr("Aid kind"))
        for k in AidKind:
            self.aid_kind.addItem(label(k), k)
        self.amount = QLineEdit()
        self.amount.setAccessibleName(tr("Amount (yuan)"))
        self.amount.setPlaceholderText("0")
        self.programme = QLineEdit()
        self.programme.setAccessibleName(tr("Programme"))
        self.date = QDateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setAccessibleName(tr("Date"))
        self.title = QLineEdit()
        self.title.setAccessibleName(tr("Title"))
        self.detail = QPlainTextEdit()
        self.detail.setAccessibleName(tr("Detail"))
        self.detail.setTabChangesFocus(True)
        self.error = ErrorLabel()
        self.form = form = QFormLayout(self)
        form.addRow(tr("Entry kind"), self.entry_kind)
        form.addRow(tr("Reward kind"), self.kind)
        form.addRow(tr("Aid kind"), self.aid_kind)
        form.addRow(tr("Amount (yuan)"), self.amount)
        form.addRow(tr("Programme"), self.programme)
        form.addRow(tr("Date"), self.date)
        form.addRow(tr("Title"), self.title)
        form.addRow(tr("Detail"), self.detail)
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.entry_kind.currentIndexChanged.connect(lambda _i: self._show_fields())
        self.entry_kind.setCurrentIndex(max(0, self.entry_kind.findData(kind)))
        self._show_fields()

    def _show_fields(self) -> None:
        """Only the fields of the chosen kind: a reward has its kind, aid its kind and amount."""
        kind = self.entry_kind.currentData()
        for widget, shown in ((self.kind, kind == "reward"), (self.aid_kind, kind == "aid"),
                              (self.amount, kind == "aid"), (self.programme, kind in ("aid", "activity"))):
            self.form.setRowVisible(widget, shown)

    def values(self) -> dict:
        """The entry's kind and fields, as ``GrowthService.add_entry`` takes them."""
        d = self.date.date()
        kind = self.entry_kind.currentData()
        out = dict(kind=kind, entry_date=dt.date(d.year(), d.month(), d.day()), title=self.title.text().strip(),
                   detail=self.detail.toPlainText())
        if kind == "reward":
            out["reward_kind"] = self.kind.currentData()
        if kind == "aid":
            out["aid_kind"] = self.aid_kind.currentData()
            text = self.amount.text().strip().replace(",", "").replace("，", "")
            try:
                out["amount_yuan"] = float(text) if text else None
            except ValueError:
                out["amount_yuan"] = -1.0  # refused by the domain with its sentence (金额不能为负数)
        if kind in ("aid", "activity") and self.programme.text().strip():
            out["programme"] = self.programme.text().strip()
        return out


RewardDialog = EntryDialog  # the dialog opens on 成长奖励, the kind the plan asks of every student


class GrowthScreen(QWidget):
    """One student's growth file."""

    changed = Signal()
    closed = Signal()

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.student_id: str | None = None
        self.loaded_id: str | None = None   # whose file the screen shows (None while loading)
        self._loaded_values: dict = {}
        self._request = 0
        self.title = title_label()
        self.fields: dict[ProfileField, QPlainTextEdit] = {}
        self.marks: dict[ProfileField, QLabel] = {}
        profile = QFormLayout()
        for pf in ProfileField:
            box = QPlainTextEdit()
            box.setAccessibleName(label(pf))
            box.setTabChangesFocus(True)
            box.setMaximumHeight(70)
            mark = QLabel()
            mark.setStyleSheet("color: #a15c00;")
            mark.hide()
            holder = QWidget()
            v = QVBoxLayout(holder)
            v.setContentsMargins(0, 0, 0, 0)
            v.addWidget(box)
            v.addWidget(mark)
            self.fields[pf] = box
            self.marks[pf] = mark
            profile.addRow(label(pf), holder)
        self.save_profile = QPushButton(tr("Save profile"))
        profile.addRow("", self.save_profile)
        profile_box = QGroupBox(tr("Profile"))
        profile_box.setLayout(profile)

        self.model = RowsModel([
            (tr("Date"), lambda i: i.date.isoformat() if i.date else ""),
            (tr("Kind"), lambda i: tr(TIMELINE_KINDS[i.kind]) if i.kind in TIMELINE_KINDS else label(i.kind)),
            (tr("Title"), lambda i: i.title),
            (tr("Detail"), lambda i: i.detail),
            (tr("Review"), self._review_text),  # issue 15: 谁审核谁负责
        ], self)
        self.review_states: dict = {}
        self.timeline = QTableView()
        self.timeline.setModel(self.model)
        self.timeline.setAccessibleName(tr("Timeline"))
        self.timeline.verticalHeader().hide()
        self.timeline.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.timeline.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline.horizontalHeader().setStretchLastSection(True)
        self.timeline.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        # Fixed widths from the font: ResizeToContents would measure every row of a long file.
        fm = self.fontMetrics()
        self.timeline.setColumnWidth(0, fm.horizontalAdvance("2026-12-31") + 16)
        self.timeline.setColumnWidth(1, fm.horizontalAdvance("心理帮扶记录") + 16)
        self.timeline.setColumnWidth(2, fm.horizontalAdvance("校级“自强之星”表彰") + 16)
        self.add_reward = QPushButton(tr("Add to the growth file…"))
        self.back_button = QPushButton(tr("Back to my students"))
        self.print_button = QPushButton(tr("Print growth file…"))
        self.edit_returned = QPushButton(tr("Edit the returned entry…"))  # issue 15: the author's answer to 退回
        self.edit_returned.setEnabled(False)
        tl = QVBoxLayout()
        tl.addWidget(self.timeline)
        tl_box = QGroupBox(tr("Timeline (newest first)"))
        tl_box.setLayout(tl)
        split = QSplitter()
        split.addWidget(profile_box)
        split.addWidget(tl_box)
        split.setStretchFactor(1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch()
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.edit_returned)
        buttons.addWidget(self.add_reward)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(split, 1)
        lay.addLayout(buttons)
        self.save_profile.clicked.connect(self._save_profile)
        self.add_reward.clicked.connect(self._add_reward)
        self.print_button.clicked.connect(self.print_file)
        self.back_button.clicked.connect(self.closed.emit)
        self.reward_dialog_factory = RewardDialog
        self.edit_returned.clicked.connect(self._edit_returned)
        self.timeline.selectionModel().selectionChanged.connect(lambda *_a: self._returned_selected())

    def print_file(self) -> None:
        from visitapp.ui.printing import print_document
        sid = self.loaded_id
        if sid:
            print_document(self.ctx, f"growth-file-{sid[:8]}",
                           lambda ws, path: ws.documents.print_growth_file(sid, path))

    def open(self, student_id: str) -> None:
        """Show a loading state at once (never the previous child's file under a new name);
        only the answer to this request fills the screen."""
        self.student_id = student_id
        self.loaded_id = None
        self._request += 1
        request = self._request
        self.title.setText(tr("Loading…"))
        for box in self.fields.values():
            box.setPlainText("")
            box.setReadOnly(True)
        for mark in self.marks.values():
            mark.hide()
        self.model.set_rows([])
        for b in (self.save_profile, self.add_reward, self.print_button):
            b.setEnabled(False)

        def work(ws):
            conflicts = [c for c in ws.conflicts.list_open()
                         if c.student_id == student_id and c.record_kind == "growth_profile_field"]
            return (ws.students.get(student_id), ws.growth.profile(student_id),
                    ws.students.timeline(student_id), conflicts)

        self.ctx.run(work, on_done=lambda result: self.show_data(result, request))

    def show_data(self, result, request: int | None = None) -> None:
        if request is not None and request != self._request:
            return  # a late answer about the child opened before
        student, profile, timeline, conflicts = result
        self.loaded_id = student.id
        for b in (self.save_profile, self.add_reward, self.print_button):
            b.setEnabled(True)
        self.title.setText(tr("Growth file: {name} ({cls})").format(name=student.name, cls=student.class_name))
        conflicted = {str(c.field_name) for c in conflicts}
        for pf, box in self.fields.items():
            entry = profile.get(pf) if profile else None
            box.setPlainText(entry.value if entry is not None else "")
            box.setReadOnly(False)
            mark = self.marks[pf]
            if str(pf) in conflicted:
                mark.setText(tr("Another device changed this field too: resolve it under Conflicts."))
                mark.show()
            else:
                mark.hide()
        self.model.set_rows(timeline)
        self._loaded_values = self._values()
        self.review_states = {}
        sid = student.id
        self.ctx.run(lambda ws: (sid, ws.record_reviews.states_for_student(sid)),
                     on_done=self._show_reviews)

    # -- issue 15: review states and the author's answer to 退回 ------------------------------------
    def _review_text(self, item) -> str:  # noqa: ANN001
        state = self.review_states.get(item.record_id)
        if state is None:
            return ""
        if state.status == "returned" and state.review is not None:
            return f"{label(state.status)}：{state.review.comment}"
        return label(state.status)

    def _show_reviews(self, result) -> None:  # noqa: ANN001
        sid, states = result
        if sid != self.loaded_id:
            return
        self.review_states = states
        last = self.model.columnCount() - 1
        if self.model.rowCount():
            self.model.dataChanged.emit(self.model.index(0, last), self.model.index(self.model.rowCount() - 1, last))
        self._returned_selected()

    def _returned_selected(self):  # noqa: ANN202
        rows = self.timeline.selectionModel().selectedRows()
        item = self.model.row_at(rows[0].row()) if rows else None
        state = self.review_states.get(item.record_id) if item is not None else None
        returned = item if state is not None and state.status == "returned" and item.kind != "visit" else None
        self.edit_returned.setEnabled(returned is not None)
        return returned

    def _edit_returned(self) -> None:
        item = self._returned_selected()
        sid = self.loaded_id
        if item is None or sid is None:
            return
        dialog = self.reward_dialog_factory(self, kind=item.kind)
        dialog.entry_kind.setEnabled(False)  # an edit keeps the entry's kind
        dialog.title.setText(item.title)
        if not dialog.exec():
            return
        values = dialog.values()
        values.pop("kind", None)
        if not values.get("detail"):
            values.pop("detail", None)  # the timeline does not show the detail: keep it unless retyped

        def failed(exc):  # noqa: ANN001, ANN202
            if isinstance(exc, ValidationError):
                self.ctx.notice.emit(problems_text(exc.problems, "；"), "error")
            else:
                self.ctx.show_error(exc)

        self.ctx.run(lambda ws: ws.record_reviews.edit_returned_entry(item.record_id, **values),
                     on_done=lambda _e: (self.changed.emit(), self.open(sid)), on_error=failed)

    def _values(self) -> dict:
        return {pf: box.toPlainText() for pf, box in self.fields.items()}

    def unsaved(self) -> bool:
        """Profile text typed and not saved yet (closing the window saves it)."""
        return self.loaded_id is not None and self._values() != self._loaded_values

    def _save_profile(self) -> None:
        sid = self.loaded_id
        if sid is None:
            return
        values = self._values()
        self._loaded_values = dict(values)

        def work(ws):
            current = ws.growth.profile(sid)
            for pf, value in values.items():
                old = current.get(pf)
                if (old.value if old is not None else "") != value:
                    ws.growth.set_profile_field(sid, pf, value)

        self.ctx.run(work, on_done=lambda _r: (self.ctx.info(tr("The profile was saved.")),
                                               self.changed.emit(), self.open(sid)))

    def _add_reward(self) -> None:
        sid = self.loaded_id
        if sid is None:
            return
        dialog = self.reward_dialog_factory(self)
        if not dialog.exec():
            return
        self.save_reward(dialog.values())

    def save_reward(self, values: dict) -> None:
        """Add the dialog's entry (a reward unless ``values`` names another ``kind``)."""
        sid = self.loaded_id
        values = dict(values)
        kind = values.pop("kind", "reward")

        def failed(exc):
            if isinstance(exc, ValidationError):
                self.ctx.notice.emit(problems_text(exc.problems, "；"), "error")
            else:
                self.ctx.show_error(exc)

        self.ctx.run(lambda ws: ws.growth.add_entry(sid, kind, **values),
                     on_done=lambda _e: (self.changed.emit(), self.open(sid)), on_error=failed)
