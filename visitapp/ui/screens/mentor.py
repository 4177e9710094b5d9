"""Mentor notes: the students I mentor, their notes, and an editor for regular notes,
psychological-support notes and case discussions (which need two or more participants)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDateEdit, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget,
)

from visitapp.domain import MentorNoteKind, ValidationError
from visitapp.ui.i18n import label, tr
from visitapp.ui.errors import problems_text
from visitapp.ui.widgets import ErrorLabel


class MentorScreen(QWidget):
    changed = Signal()

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.editing_id: str | None = None
        self._shown_text = ""  # the note's text as loaded, to tell typed text from it
        self.mentees = QListWidget()
        self.mentees.setAccessibleName(tr("Students I mentor"))
        self.notes = QListWidget()
        self.notes.setAccessibleName(tr("Notes"))
        self.notes.setWordWrap(True)
        self.notes.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.kind = QComboBox()
        self.kind.setAccessibleName(tr("Kind"))
        for k in MentorNoteKind:
            self.kind.addItem(label(k), k)
        self.date = QDateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setAccessibleName(tr("Date"))
        self.participants = QLineEdit()
        self.participants.setAccessibleName(tr("Participants"))
        self.participants.setPlaceholderText(tr("Names, separated by commas"))
        self.text = QPlainTextEdit()
        self.text.setAccessibleName(tr("Note"))
        self.text.setTabChangesFocus(True)
        self.error = ErrorLabel()
        self.new_button = QPushButton(tr("New note"))
        self.save_button = QPushButton(tr("Save note"))
        self.empty = QLabel(tr("You are not the mentor of any student yet."))
        self.empty.hide()
        form = QFormLayout()
        form.addRow(tr("Kind"), self.kind)
        form.addRow(tr("Date"), self.date)
        form.addRow(tr("Participants"), self.participants)
        form.addRow(tr("Note"), self.text)
        form.addRow(self.error)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.new_button)
        row.addWidget(self.save_button)
        form.addRow(row)
        editor = self.editor_box = QGroupBox(tr("Note"))
        editor.setLayout(form)
        left = QVBoxLayout()
        left.addWidget(QLabel(tr("Students I mentor")))
        left.addWidget(self.mentees)
        left.addWidget(self.empty)
        mid = QVBoxLayout()
        mid.addWidget(QLabel(tr("Notes")))
        mid.addWidget(self.notes)
        lay = QHBoxLayout(self)
        lay.addLayout(left, 1)
        lay.addLayout(mid, 1)
        lay.addWidget(editor, 2)
        self.mentees.currentItemChanged.connect(lambda *_: self._load_notes())
        self.notes.currentItemChanged.connect(self._show_note)
        self.new_button.clicked.connect(self._new)
        self.save_button.clicked.connect(self.save)

    def refresh(self) -> None:
        self.ctx.run(lambda ws: ws.mentor.my_mentees(), on_done=self._show_mentees)

    def _show_mentees(self, rows) -> None:
        current = self.current_student()
        self.mentees.clear()
        for r in rows:
            item = QListWidgetItem(f"{r.name}  {r.class_name}")
            item.setData(Qt.ItemDataRole.UserRole, r.id)
            self.mentees.addItem(item)
            if r.id == current:
                self.mentees.setCurrentItem(item)
        self.empty.setVisible(not rows)
        if rows and self.mentees.currentRow() < 0:
            self.mentees.setCurrentRow(0)

    def current_student(self) -> str | None:
        item = self.mentees.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _load_notes(self) -> None:
        sid = self.current_student()
        item = self.mentees.currentItem()
        # the editor says whose note it is; the list empties until this student's notes arrive
        self.editor_box.setTitle(tr("Note") + (f": {item.text().split()[0]}" if item and item.text().split() else ""))
        self.notes.clear()
        if sid:
            # a late answer for the student selected before is dropped
            self.ctx.run(lambda ws: ws.mentor.notes(sid),
                         on_done=lambda notes: self._show_notes(notes) if self.current_student() == sid else None)

    def _show_notes(self, notes) -> None:
        self.notes.clear()
        for n in notes:
            head = f"{n.note_date.isoformat() if n.note_date else ''}  {label(n.kind)}"
            if getattr(n, "conflict_of", None):
                head += "  " + tr("(conflict copy)")
            preview = n.text if len(n.text) <= 40 else n.text[:40] + "…"
            item = QListWidgetItem(head + "\n" + preview)
            item.setData(Qt.ItemDataRole.UserRole, n)
            self.notes.addItem(item)
        self._new()

    def _show_note(self, item, _prev=None) -> None:
        if item is None:
            return
        n = item.data(Qt.ItemDataRole.UserRole)
        self.editing_id = n.id
        self.kind.setCurrentIndex(max(0, self.kind.findData(n.kind)))
        if n.note_date:
            self.date.setDate(QDate(n.note_date.year, n.note_date.month, n.note_date.day))
        self.participants.setText("，".join(n.participants))
        self.text.setPlainText(n.text)
        self._shown_text = n.text
        self.error.show_message("")

    def _new(self) -> None:
        self.editing_id = None
        self.kind.setCurrentIndex(0)
        self.date.setDate(QDate.currentDate())
        self.participants.clear()
        self.text.clear()
        self._shown_text = ""
        self.error.show_message("")

    def unsaved(self) -> bool:
        """Note text typed and not saved yet (closing the window saves it)."""
        text = self.text.toPlainText()
        return bool(self.current_student()) and bool(text.strip()) and text != self._shown_text

    def save(self) -> None:
        sid = self.current_student()
        if not sid:
            return
        d = self.date.date()
        values = dict(kind=self.kind.currentData(), note_date=dt.date(d.year(), d.month(), d.day()),
                      text=self.text.toPlainText(),
                      participants=tuple(p.strip() for p in re.split(r"[,，、;；]", self.participants.text()) if p.strip()))
        note_id = self.editing_id

        def work(ws):
            if note_id:
                return ws.mentor.edit_note(note_id, **values)
            return ws.mentor.write_note(sid, values["kind"], values["note_date"], values["text"],
                                        participants=values["participants"])

        def failed(exc):
            if isinstance(exc, ValidationError):
                self.error.show_message(problems_text(exc.problems))
            else:
                self.ctx.show_error(exc)

        self.ctx.run(work, on_done=lambda _n: (self.ctx.info(tr("The note was saved.")),
                                               self.changed.emit(), self._load_notes()),
                     on_error=failed)
