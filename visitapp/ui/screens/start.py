"""First start: welcome (enroll with the school server, or the offline demo), then the
passphrase with a strength hint, then the recovery key, shown once, with Print and Save buttons.

Printing the recovery key goes straight to the printer: the one-page sheet
(:mod:`visitapp.printing.recovery_key`) is built in memory on the worker, drawn to page images,
and painted onto the printer chosen in the print dialog. Unlike the other documents it never
becomes a file in the prints folder: a recovery key lying on the disk next to the profile it
opens would defeat it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QStackedWidget, QVBoxLayout, QWidget,
)

from visitapp.ui.errors import user_message
from visitapp.ui.i18n import tr
from visitapp.ui.paper import choose_a4_printer, paint_pages, printed_message, sheet_images
from visitapp.ui.widgets import ErrorLabel, StrengthHint, title_label



class _Welcome(QWidget):
    chosen = Signal(str)  # enrollment code, or "" for the offline demo

    def __init__(self, parent=None):
        super().__init__(parent)
        title = title_label(tr("Welcome to the home-visit recorder"), grow=6)
        intro = QLabel(tr("Records stay encrypted on this computer and work without a network. "
                          "Enroll with your school's server to sync, or try the offline demo."))
        intro.setWordWrap(True)
        self.address = QLineEdit()
        self.address.setPlaceholderText("https://192.168.1.10:8443")  # notr: an address
        self.address.setAccessibleName(tr("Server address"))
        self.code = QLineEdit()
        self.code.setAccessibleName(tr("Enrollment code"))
        self.code.setPlaceholderText(tr("The code from the school's aid officer"))
        self.pasted = QLineEdit()
        self.pasted.setAccessibleName(tr("Full enrollment code"))
        self.pasted.setPlaceholderText("VA1.…")  # notr: the code prefix
        self.error = ErrorLabel()
        self.enroll_button = QPushButton(tr("Enroll with the school server"))
        self.enroll_button.setDefault(True)
        self.demo_button = QPushButton(tr("Start the offline demo"))
        form = QFormLayout()
        form.addRow(tr("Server address"), self.address)
        form.addRow(tr("Enrollment code"), self.code)
        form.addRow(tr("Or paste the full code"), self.pasted)
        buttons = QHBoxLayout()
        buttons.addWidget(self.enroll_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch()
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(intro)
        lay.addSpacing(12)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addLayout(buttons)
        lay.addStretch()
        self.enroll_button.clicked.connect(self._enroll)
        self.demo_button.clicked.connect(lambda: self.chosen.emit(""))

    def _enroll(self) -> None:
        from visitapp.protocol.sync import decode_enrollment_code, encode_enrollment_code

        code = self.pasted.text().strip()
        if not code:
            address, secret = self.address.text().strip(), self.code.text().strip()
            if not address or not secret:
                self.error.show_message(tr("Enter the server address and the code, or paste "
                                           "the full enrollment code."))
                return
            if "://" not in address:
                address = "https://" + address
            code = encode_enrollment_code(address, "", secret)
        try:
            decode_enrollment_code(code)
        except ValueError as exc:
            self.error.show_message(user_message(exc))
            return
        self.error.show_message("")
        self.chosen.emit(code)


class _Passphrase(QWidget):
    submitted = Signal(str, str)  # passphrase, staff name

    def __init__(self, parent=None):
        super().__init__(parent)
        title = title_label(tr("Choose a passphrase"), grow=4)
        intro = QLabel(tr("The passphrase protects the families' data on this computer. "
                          "Nobody can recover it for you; keep the recovery key shown next."))
        intro.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setAccessibleName(tr("Your name"))
        self.first = QLineEdit()
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.first.setAccessibleName(tr("Passphrase"))
        self.second = QLineEdit()
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.second.setAccessibleName(tr("Repeat the passphrase"))
        self.strength = StrengthHint(self.first)
        self.error = ErrorLabel()
        self.button = QPushButton(tr("Create the profile"))
        self.button.setDefault(True)
        form = QFormLayout()
        form.addRow(tr("Your name"), self.name)
        form.addRow(tr("Passphrase"), self.first)
        form.addRow("", self.strength)
        form.addRow(tr("Repeat the passphrase"), self.second)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.button, alignment=Qt.AlignmentFlag.AlignLeft)
        lay.addStretch()
        self.button.clicked.connect(self._submit)
        self.second.returnPressed.connect(self._submit)

    def _submit(self) -> None:
        if len(self.first.text()) < 8:
            self.error.show_message(tr("Too short: use at least 8 characters."))
            return
        if self.first.text() != self.second.text():
            self.error.show_message(tr("The two passphrases differ."))
            return
        self.error.show_message("")
        self.button.setEnabled(False)
        self.submitted.emit(self.first.text(), self.name.text().strip())


class _Recovery(QWidget):
    done = Signal()
    printed = Signal(object)  # the QPrinter the sheet went to

    def __init__(self, parent=None):
        super().__init__(parent)
        title = title_label(tr("Your recovery key"), grow=4)
        intro = QLabel(tr("Write it down or print it and keep it locked away. It is shown only "
                          "this once; with it you can open the profile if you forget the "
                          "passphrase."))
        intro.setWordWrap(True)
        self.key = QLabel()
        self.key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont("monospace")
        mono.setPointSize(mono.pointSize() + 4)
        self.key.setFont(mono)
        self.key.setAccessibleName(tr("Recovery key"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.print_button = QPushButton(tr("Print the recovery key…"))
        self.print_button.setDefault(True)
        self.save_button = QPushButton(tr("Save to a file…"))
        self.continue_button = QPushButton(tr("I have kept it safe, continue"))
        row = QHBoxLayout()
        row.addWidget(self.print_button)
        row.addWidget(self.save_button)
        row.addWidget(self.continue_button)
        row.addStretch()
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(intro)
        lay.addWidget(self.key)
        lay.addWidget(self.message)
        lay.addLayout(row)
        lay.addStretch()
        self.save_button.clicked.connect(self._save)
        self.continue_button.clicked.connect(self._continue)

    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("Save the recovery key"),
                                              str(Path.home() / "visitapp-recovery-key.txt"),
                                              "Text (*.txt)")
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        from visitapp.crypto.private import write_private
        write_private(path, tr("Recovery key of the home-visit recorder") + "\n\n" + self.key.text()
                      + "\n")  # owner-only: it opens the profile
        self.message.setText(tr("Saved. Print it, then delete the file."))

    def choose_printer(self):  # noqa: ANN201 - a QPrinter, or None when the dialog is cancelled
        """The print dialog (tests replace this method: offscreen, no dialog may open)."""
        return choose_a4_printer(self, tr("Recovery key"), tr("Print the recovery key"))

    def print_pages(self, pages) -> None:  # noqa: ANN001
        """Paint the sheet's page images onto the chosen printer, each fitted to its page."""
        self.print_button.setEnabled(True)
        printer = self.choose_printer()
        if printer is None:
            self.message.setText(tr("Not printed."))
            return
        if not paint_pages(printer, pages):
            self.message.setText(tr("The printer could not be started. Check that it is on "
                                    "and connected, then try again."))
            return
        self.message.setText(printed_message(printer))
        self.printed.emit(printer)

    def _continue(self) -> None:
        # The key is dropped from the screen: it is shown once.
        self.key.setText("")
        self.done.emit()


class StartScreen(QStackedWidget):
    """Welcome → passphrase → recovery key. ``finished`` carries the new workspace."""

    finished = Signal(object, bool)  # workspace, demo?

    def __init__(self, ctx: Any, kdf: Any = None, demo_seeder=None, parent=None):
        super().__init__(parent)
        self.ctx, self.kdf, self.demo_seeder = ctx, kdf, demo_seeder
        self.welcome = _Welcome()
        self.passphrase = _Passphrase()
        self.recovery = _Recovery()
        for w in (self.welcome, self.passphrase, self.recovery):
            self.addWidget(w)
        self.code = ""
        self._ws = None
        self.welcome.chosen.connect(self._chosen)
        self.passphrase.submitted.connect(self._create)
        self.recovery.done.connect(lambda: self.finished.emit(self._ws, not self.code))
        self.recovery.print_button.clicked.connect(self.print_recovery_key)

    def _chosen(self, code: str) -> None:
        self.code = code
        self.setCurrentWidget(self.passphrase)
        self.passphrase.first.setFocus()

    def _create(self, passphrase: str, name: str) -> None:
        backend, profile_dir, code, kdf = self.ctx.backend, self.ctx.profile_dir, self.code, self.kdf
        seeder = self.demo_seeder

        def work(_ws):
            kwargs = {"staff_name": name} if name else {}
            if kdf is not None:
                kwargs["kdf"] = kdf
            ws, recovery = backend.create_profile(profile_dir, passphrase, **kwargs)
            enroll_error = None
            if code:
                try:
                    ws.sync.enroll(code, device_label="")
                except Exception as exc:  # noqa: BLE001 - shown as a sentence, enroll later
                    enroll_error = exc
            elif seeder is not None:
                seeder(ws)
            return ws, recovery, enroll_error

        self.ctx.tasks.submit(work, None, on_done=self._created, on_error=self._failed)

    def _created(self, result) -> None:
        ws, recovery, enroll_error = result
        self._ws = ws
        self.recovery.key.setText(recovery)
        if enroll_error is not None:
            self.recovery.message.setText(
                tr("The profile was created, but enrollment did not succeed: {reason} "
                   "You can enroll later under Settings.").format(reason=user_message(enroll_error)))
        self.setCurrentWidget(self.recovery)

    def print_recovery_key(self) -> None:
        """Build the sheet on the worker (in memory), then open the print dialog."""
        ws, key = self._ws, self.recovery.key.text()
        if ws is None or not key:
            return
        self.recovery.print_button.setEnabled(False)
        self.recovery.message.setText(tr("Preparing the page…"))

        def work(_ws):
            import datetime as dt

            from visitapp.printing.recovery_key import RecoveryKeySheet, render_recovery_key

            ident = ws.identity
            return sheet_images(lambda pdf: render_recovery_key(
                RecoveryKeySheet(key, ident.school_name, ident.staff_name, str(ws.path), dt.datetime.now()), pdf))

        def failed(exc: BaseException) -> None:
            self.recovery.print_button.setEnabled(True)
            self.recovery.message.setText(user_message(exc))

        self.ctx.tasks.submit(work, None, on_done=self.recovery.print_pages, on_error=failed)

    def _failed(self, exc: BaseException) -> None:
        self.passphrase.button.setEnabled(True)
        self.passphrase.error.show_message(user_message(exc))
