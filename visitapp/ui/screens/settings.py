"""Settings: language (中文 by default, or English), idle-lock minutes, server address; on an
officer's laptop also the school's rules the reports and the retention use (issue 15): how
often a mentor must write (``mentor_note_days``) and how long a leaver's records are kept
(``retention_school_years``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from visitapp.services.settings import SERVER_URL_KEY
from visitapp.ui.i18n import DEFAULT_LANGUAGE, LANGUAGES, tr
from visitapp.ui.screens.officer_keys import LaptopKeysBox

DEFAULT_IDLE_MINUTES = 10


class SettingsScreen(QWidget):
    """``saved`` carries the new settings dict."""

    saved = Signal(dict)
    enrolled = Signal()

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.language = QComboBox()
        self.language.setAccessibleName(tr("Language"))
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.idle = QSpinBox()
        self.idle.setRange(1, 240)
        self.idle.setSuffix(" " + tr("min"))
        self.idle.setAccessibleName(tr("Lock after idle minutes"))
        self.server = QLineEdit()
        self.server.setAccessibleName(tr("Server address"))
        self.note = QLabel(tr("A change of language applies the next time the application starts."))
        self.note.setWordWrap(True)
        self.save_button = QPushButton(tr("Save settings"))
        self.code = QLineEdit()
        self.code.setAccessibleName(tr("Full enrollment code"))
        self.code.setPlaceholderText("VA1.…")  # notr: the code prefix
        self.enroll_button = QPushButton(tr("Enroll with the school server"))
        self.enroll_state = QLabel()
        self.enroll_state.setWordWrap(True)
        self.mentor_days = QSpinBox()
        self.mentor_days.setRange(7, 180)
        self.mentor_days.setSuffix(" " + tr("days"))
        self.mentor_days.setAccessibleName(tr("A mentor writes at least every"))
        self.retention_years = QSpinBox()
        self.retention_years.setRange(1, 30)
        self.retention_years.setSuffix(" " + tr("school years"))
        self.retention_years.setAccessibleName(tr("Keep a leaver's records for"))
        self.school_rules = QLabel(tr(
            "The school's rules (officer): the data-quality check 导师记录超期未写 lists key-support students whose "
            "mentor has not written within the days above (定期记录); a student's records are kept for the school "
            "years above after the student leaves the roster, then archived and erased."))
        self.school_rules.setWordWrap(True)
        form = QFormLayout()
        form.addRow(tr("Language"), self.language)
        form.addRow(tr("Lock after idle minutes"), self.idle)
        form.addRow(tr("Server address"), self.server)
        form.addRow(tr("A mentor writes at least every"), self.mentor_days)
        form.addRow(tr("Keep a leaver's records for"), self.retention_years)
        form.addRow(self.school_rules)
        self.form = form
        self._officer_rows(False)
        enroll = QFormLayout()
        enroll.addRow(tr("Enrollment code"), self.code)
        enroll.addRow("", self.enroll_button)
        enroll.addRow("", self.enroll_state)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.note)
        lay.addWidget(self.save_button, alignment=Qt.AlignmentFlag.AlignLeft)
        lay.addSpacing(16)
        lay.addLayout(enroll)
        self.keys = LaptopKeysBox(ctx)
        lay.addWidget(self.keys)
        lay.addStretch()
        self.save_button.clicked.connect(self.save)
        self.enroll_button.clicked.connect(self.enroll)

    def refresh(self) -> None:
        def work(ws):
            return {"language": ws.settings.get("language", DEFAULT_LANGUAGE),
                    "idle_lock_minutes": ws.settings.get("idle_lock_minutes", DEFAULT_IDLE_MINUTES),
                    # the key sync reads: what is shown and saved here is the address sync uses
                    SERVER_URL_KEY: ws.settings.get(SERVER_URL_KEY, ws.identity.server_url or ""),
                    "mentor_note_days": ws.settings.get("mentor_note_days"),
                    "retention_school_years": ws.settings.get("retention_school_years"),
                    "officer": ws.identity.is_officer}

        self.ctx.run(work, on_done=self.show_values)
        self.keys.refresh()

    def show_values(self, values: dict) -> None:
        self.language.setCurrentIndex(max(0, self.language.findData(values["language"])))
        self.idle.setValue(int(values["idle_lock_minutes"] or DEFAULT_IDLE_MINUTES))
        self.server.setText(values[SERVER_URL_KEY] or "")
        self.mentor_days.setValue(int(values["mentor_note_days"]))
        self.retention_years.setValue(int(values["retention_school_years"]))
        self._officer_rows(bool(values["officer"]))

    def _officer_rows(self, shown: bool) -> None:
        """The school's rules are set on the officer's laptop (its reports use them)."""
        for widget in (self.mentor_days, self.retention_years, self.school_rules):
            self.form.setRowVisible(widget, shown)

    def enroll(self) -> None:
        """Enroll this computer later (the welcome screen's enrollment may have failed)."""
        from visitapp.protocol.sync import decode_enrollment_code
        from visitapp.ui.errors import user_message

        code = self.code.text().strip()
        try:
            decode_enrollment_code(code)
        except ValueError as exc:
            self.enroll_state.setText(user_message(exc))
            return

        def done(enrolled):
            self.code.clear()
            self.enroll_state.setText(tr("Enrolled. Sync now to bring your students down.") + "\n"
                                      + keys_line(enrolled))
            self.enrolled.emit()
            self.refresh()

        self.ctx.run(lambda ws: ws.sync.enroll(code), on_done=done,
                     on_error=lambda exc: self.enroll_state.setText(user_message(exc)))

    def save(self) -> None:
        values = {"language": self.language.currentData(), "idle_lock_minutes": self.idle.value(),
                  SERVER_URL_KEY: self.server.text().strip()}
        if self.form.isRowVisible(self.mentor_days):
            values.update(mentor_note_days=self.mentor_days.value(), retention_school_years=self.retention_years.value())

        def work(ws):
            for k, v in values.items():
                ws.settings.set(k, v)
            return values

        self.ctx.run(work, on_done=lambda v: (self.ctx.info(tr("Settings saved.")), self.saved.emit(v)))


def keys_line(enrolled) -> str:
    """The one line about this laptop's keys after enrollment: the fingerprint the officer
    compares with their screen, and how far its certification is."""
    if enrolled.fingerprint is None or enrolled.keys_state == "not_yet_published":
        return tr("Keys: not yet published to the school server (it will be tried again at the next sync).")
    if enrolled.keys_certified:
        return tr("Key fingerprint: {fingerprint} (certified)").format(fingerprint=enrolled.fingerprint)
    if enrolled.keys_state == "pinned":
        return tr("Key fingerprint: {fingerprint} (certified at the officer's next sync)").format(
            fingerprint=enrolled.fingerprint)
    return tr("Key fingerprint: {fingerprint} (keys not yet certified: the officer compares this fingerprint)"
              ).format(fingerprint=enrolled.fingerprint)
