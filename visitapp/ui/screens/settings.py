"""Settings: language (中文 by default, or English), idle-lock minutes, server address."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from visitapp.ui.i18n import DEFAULT_LANGUAGE, LANGUAGES, tr

DEFAULT_IDLE_MINUTES = 10


class SettingsScreen(QWidget):
    """``saved`` carries the new settings dict."""

    saved = Signal(dict)

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
        form = QFormLayout()
        form.addRow(tr("Language"), self.language)
        form.addRow(tr("Lock after idle minutes"), self.idle)
        form.addRow(tr("Server address"), self.server)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.note)
        lay.addWidget(self.save_button)
        lay.addStretch()
        self.save_button.clicked.connect(self.save)

    def refresh(self) -> None:
        def work(ws):
            return {"language": ws.settings.get("language", DEFAULT_LANGUAGE),
                    "idle_lock_minutes": ws.settings.get("idle_lock_minutes", DEFAULT_IDLE_MINUTES),
                    "server_url": ws.settings.get("server_url", ws.identity.server_url or "")}

        self.ctx.run(work, on_done=self.show_values)

    def show_values(self, values: dict) -> None:
        self.language.setCurrentIndex(max(0, self.language.findData(values["language"])))
        self.idle.setValue(int(values["idle_lock_minutes"] or DEFAULT_IDLE_MINUTES))
        self.server.setText(values["server_url"] or "")

    def save(self) -> None:
        values = {"language": self.language.currentData(), "idle_lock_minutes": self.idle.value(),
                  "server_url": self.server.text().strip()}

        def work(ws):
            for k, v in values.items():
                ws.settings.set(k, v)
            return values

        self.ctx.run(work, on_done=lambda v: (self.ctx.info(tr("Settings saved.")), self.saved.emit(v)))
