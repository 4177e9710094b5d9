"""Unlock: the passphrase opens the profile (or re-opens it after an idle lock). The KDF runs
off the GUI thread; wrong passphrases say so and the button waits out the service's delay."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from visitapp.ui.errors import user_message
from visitapp.ui.i18n import tr
from visitapp.ui.widgets import ErrorLabel


class UnlockScreen(QWidget):
    """``unlocked`` carries the open workspace."""

    unlocked = Signal(object)

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        title = QLabel(tr("Locked"))
        f = QFont(title.font())
        f.setPointSize(f.pointSize() + 6)
        f.setBold(True)
        title.setFont(f)
        self.hint = QLabel(tr("Enter your passphrase to open the profile."))
        self.hint.setWordWrap(True)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName(tr("Passphrase"))
        self.passphrase.setMinimumWidth(320)
        self.button = QPushButton(tr("Unlock"))
        self.button.setDefault(True)
        self.error = ErrorLabel()
        box = QWidget()
        inner = QVBoxLayout(box)
        for w in (title, self.hint, self.passphrase, self.error, self.button):
            inner.addWidget(w)
        box.setMaximumWidth(480)
        lay = QVBoxLayout(self)
        lay.addStretch()
        lay.addWidget(box, alignment=Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch()
        self._wait = 0
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self.button.clicked.connect(self.submit)
        self.passphrase.returnPressed.connect(self.submit)

    def set_relock(self, relock: bool) -> None:
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
