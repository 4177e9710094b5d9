"""Unlock: the passphrase opens the profile (or re-opens it after an idle lock). The KDF runs
off the GUI thread; wrong passphrases say so and the button waits out the service's delay.

A forgotten passphrase is replaced here too: "Forgot the passphrase?" opens a small panel
where the printed recovery key and a new passphrase (twice, with the strength hint of the
first start) open the profile exactly as the passphrase would."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget,
)

from visitapp.crypto import WeakPassphrase
from visitapp.ui.errors import user_message
from visitapp.ui.i18n import tr
from visitapp.ui.widgets import ErrorLabel, StrengthHint, title_label

MIN_LENGTH = 8  # the services' rule for a new passphrase (visitapp.crypto.check_new_passphrase)


def _password_field(name: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    return field


class RecoveryPanel(QWidget):
    """Recovery key + new passphrase twice. ``submitted`` carries (key, new passphrase) once
    the fields are filled in and agree; ``cancelled`` on Escape or Cancel."""

    submitted = Signal(str, str)
    cancelled = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        title = title_label(tr("Reset the passphrase with the recovery key"), grow=2)
        intro = QLabel(tr("Type the recovery key from the printed sheet (capital or small "
                          "letters, with or without dashes) and choose a new passphrase. "
                          "Your records stay as they are."))
        intro.setWordWrap(True)
        self.key = QLineEdit()
        self.key.setAccessibleName(tr("Recovery key"))
        self.key.setPlaceholderText(tr("8 groups of 4 characters, as printed"))
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.key.setFont(mono)
        self.first = _password_field(tr("New passphrase"))
        self.strength = StrengthHint(self.first)
        self.second = _password_field(tr("Repeat the new passphrase"))
        self.error = ErrorLabel()
        self.button = QPushButton(tr("Reset the passphrase and open"))
        self.cancel_button = QPushButton(tr("Cancel"))
        form = QFormLayout()
        form.addRow(tr("Recovery key"), self.key)
        form.addRow(tr("New passphrase"), self.first)
        form.addRow("", self.strength)
        form.addRow(tr("Repeat the new passphrase"), self.second)
        buttons = QHBoxLayout()
        buttons.addWidget(self.button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(title)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addLayout(buttons)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.cancelled)
        self.cancel_button.clicked.connect(self.cancelled)
        self.button.clicked.connect(self._submit)
        self.second.returnPressed.connect(self._submit)

    def _submit(self) -> None:
        if not self.button.isEnabled():
            return
        if not self.key.text().strip():
            self.error.show_message(tr("Enter the recovery key from the printed sheet."))
            self.key.setFocus()
            return
        if len(self.first.text()) < MIN_LENGTH:
            self.error.show_message(tr("Too short: use at least 8 characters."))
            self.first.setFocus()
            return
        if self.first.text() != self.second.text():
            self.error.show_message(tr("The two passphrases differ."))
            self.second.selectAll()
            self.second.setFocus()
            return
        self.error.show_message("")
        self.submitted.emit(self.key.text(), self.first.text())

    def clear(self) -> None:
        for field in (self.key, self.first, self.second):
            field.clear()
        self.error.show_message("")


class UnlockScreen(QWidget):
    """``unlocked`` carries the open workspace."""

    unlocked = Signal(object)

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        title = title_label(tr("Locked"), grow=6)
        self.hint = QLabel(tr("Enter your passphrase to open the profile."))
        self.hint.setWordWrap(True)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName(tr("Passphrase"))
        self.passphrase.setMinimumWidth(320)
        self.button = QPushButton(tr("Unlock"))
        self.button.setDefault(True)
        self.error = ErrorLabel()
        self.forgot_button = QPushButton(tr("Forgot the passphrase? Use the recovery key"))
        self.forgot_button.setFlat(True)
        self.forgot_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.forgot_button.setStyleSheet("color: #0b57d0; text-align: left;")
        self.recovery = RecoveryPanel()
        self.recovery.hide()
        # the passphrase part, hidden while the recovery panel is open
        self.normal = QWidget()
        normal = QVBoxLayout(self.normal)
        normal.setContentsMargins(0, 0, 0, 0)
        for w in (self.hint, self.passphrase, self.error, self.button, self.forgot_button):
            normal.addWidget(w)
        box = QWidget()
        inner = QVBoxLayout(box)
        for w in (title, self.normal, self.recovery):
            inner.addWidget(w)
        box.setMaximumWidth(520)
        # centred by stretches rather than an alignment flag: an aligned box gets the height
        # of its preferred width, too little once the recovery panel's intro wraps at its
        # real width (the fields were squeezed to 20 px)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box, 100)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addStretch()
        lay.addLayout(row)
        lay.addStretch()
        self._wait = 0
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self.button.clicked.connect(self.submit)
        self.passphrase.returnPressed.connect(self.submit)
        self.forgot_button.clicked.connect(self.show_recovery)
        self.recovery.cancelled.connect(self.hide_recovery)
        self.recovery.submitted.connect(self.reset_with_recovery)

    # -- the recovery panel ------------------------------------------------------------------
    def show_recovery(self) -> None:
        self.normal.hide()
        self.recovery.show()
        self.recovery.button.setDefault(True)
        self.recovery.key.setFocus()

    def hide_recovery(self) -> None:
        self.recovery.clear()
        self.recovery.hide()
        self.normal.show()
        self.button.setDefault(True)
        self.passphrase.setFocus()

    def reset_with_recovery(self, key: str, new_passphrase: str) -> None:
        self.recovery.button.setEnabled(False)
        self.recovery.cancel_button.setEnabled(False)
        backend, profile_dir = self.ctx.backend, self.ctx.profile_dir

        def work(ws):
            if ws is None:
                return backend.open_profile_with_recovery(profile_dir, key, new_passphrase)
            ws.unlock_with_recovery(key, new_passphrase)
            return ws

        self.ctx.run(work, on_done=self._reset_done, on_error=self._reset_failed)

    def _reset_done(self, ws) -> None:
        self.recovery.button.setEnabled(True)
        self.recovery.cancel_button.setEnabled(True)
        self.hide_recovery()
        self.passphrase.clear()
        self.unlocked.emit(ws)
        self.ctx.info(tr("The passphrase was changed. From now on, open the profile with the "
                         "new one; the recovery key stays valid."))

    def _reset_failed(self, exc: BaseException) -> None:
        self.recovery.button.setEnabled(True)
        self.recovery.cancel_button.setEnabled(True)
        self.recovery.error.show_message(user_message(exc))
        if isinstance(exc, WeakPassphrase):
            self.recovery.first.setFocus()
        else:
            self.recovery.key.selectAll()
            self.recovery.key.setFocus()

    # -- the passphrase ----------------------------------------------------------------------
    def set_relock(self, relock: bool) -> None:
        if not self.recovery.isHidden():
            self.hide_recovery()
        self.hint.setText(tr("The application locked itself after a while without use. Your "
                             "open form is kept; enter the passphrase to continue.")
                          if relock else tr("Enter your passphrase to open the profile."))

    def submit(self) -> None:
        if self._wait > 0 or not self.button.isEnabled():
            return
        text = self.passphrase.text()
        if not text:
            self.error.show_message(tr("Enter your passphrase."))
            return
        self.button.setEnabled(False)
        self.error.show_message("")
        backend, profile_dir = self.ctx.backend, self.ctx.profile_dir

        def work(ws):
            if ws is None:
                return backend.open_profile(profile_dir, text)
            ws.unlock(text)
            return ws

        self.ctx.run(work, on_done=self._done, on_error=self._failed)

    def _done(self, ws) -> None:
        self.passphrase.clear()
        self.button.setEnabled(True)
        self.unlocked.emit(ws)

    def _failed(self, exc: BaseException) -> None:
        self.passphrase.selectAll()
        self.error.show_message(user_message(exc))
        delay = float(getattr(exc, "delay_seconds", 0) or 0)
        if delay >= 1:
            self._wait = int(round(delay))
            self._tick(first=True)
            self._timer.start()
        else:
            self.button.setEnabled(True)

    def _tick(self, first: bool = False) -> None:
        if not first:
            self._wait -= 1
        if self._wait <= 0:
            self._timer.stop()
            self.button.setEnabled(True)
            self.button.setText(tr("Unlock"))
            return
        self.button.setEnabled(False)
        self.button.setText(tr("Wait {n} s").format(n=self._wait))
