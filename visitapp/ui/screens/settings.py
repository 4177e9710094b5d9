"""Settings: language (中文 by default, or English), idle-lock minutes, server address."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from visitapp.services.settings import SERVER_URL_KEY
from visitapp.ui.i18n import DEFAULT_LANGUAGE, LANGUAGES, tr

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
        form = QFormLayout()
        form.addRow(tr("Language"), self.language)
        form.addRow(tr("Lock after idle minutes"), self.idle)
        form.addRow(tr("Server address"), self.server)
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
        lay.addStretch()
        self.save_button.clicked.connect(self.save)
        self.enroll_button.clicked.connect(self.enroll)

    def refresh(self) -> None:
        def work(ws):
            return {"language": ws.settings.get("language", DEFAULT_LANGUAGE),
                    "idle_lock_minutes": ws.settings.get("idle_lock_minutes", DEFAULT_IDLE_MINUTES),
                    # the key sync reads: what is shown and saved here is the address sync uses
                    SERVER_URL_KEY: ws.settings.get(SERVER_URL_KEY, ws.identity.server_url or "")}

        self.ctx.run(work, on_done=self.show_values)

    def show_values(self, values: dict) -> None:
        self.language.setCurrentIndex(max(0, self.language.findData(values["language"])))
        self.idle.setValue(int(values["idle_lock_minutes"] or DEFAULT_IDLE_MINUTES))
        self.server.setText(values[SERVER_URL_KEY] or "")

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

        def done(_r):
            self.code.clear()
            self.enroll_state.setText(tr("Enrolled. Sync now to bring your students down."))
            self.enrolled.emit()
            self.refresh()

        self.ctx.run(lambda ws: ws.sync.enroll(code), on_done=done,
                     on_error=lambda exc: self.enroll_state.setText(user_message(exc)))

    def save(self) -> None:
        values = {"language": self.language.currentData(), "idle_lock_minutes": self.idle.value(),
                  SERVER_URL_KEY: self.server.text().strip()}

        def work(ws):
            for k, v in values.items():
                ws.settings.set(k, v)
            return values

        self.ctx.run(work, on_done=lambda v: (self.ctx.info(tr("Settings saved.")), self.saved.emit(v)))
