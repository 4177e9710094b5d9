"""The keys on the desktop (issue 14). On the officer's laptop (a tab of 孤立记录与设备):
make an enrollment code for a staff member that carries the officer key, so that laptop is
certified at the officer's next sync; and compare the fingerprint of each device enrolled
with a server-made code (待确认指纹) with what that laptop's screen shows, then certify it.
The officer recovery sheet: printed on a laptop holding the officer key, typed in on the new
laptop of an officer whose laptop was lost. On every laptop (Settings): this laptop's own fingerprint, and for a laptop whose code carried
no officer key, trusting the officer key by typing the fingerprint from the officer's screen.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget,
)

from visitapp.crypto.errors import UntrustedKey
from visitapp.domain.errors import UserError
from visitapp.ui.errors import user_message
from visitapp.ui.i18n import tr
from visitapp.ui.widgets import RowsModel, rows_table


def epoch_list_text(seen: Any, officer: bool) -> str:
    """The line both screens show for comparing by eye (docs/decisions/signed-epoch-list.md):
    the officer's laptop and a teacher's should name the same version after their syncs."""
    if seen is None:
        return (tr("No key epoch list published yet: the sync publishes it once students' keys exist.")
                if officer else tr("No signed key epoch list received yet."))
    import datetime as dt
    try:
        when = dt.datetime.fromisoformat(seen.issued_at).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        when = seen.issued_at
    if officer:
        return tr("Key epoch list: version {version}, signed {when}. After their next sync, teachers' Settings "
                  "should show the same version; an older one there means the school server keeps the newer "
                  "keys from that laptop.").format(version=seen.version, when=when)
    return tr("Key epoch list: version {version}, signed {when}. The officer's screen shows the version the "
              "officer's laptop published; if it is newer than this after your sync, the school server is "
              "keeping keys from this laptop: tell the officer.").format(version=seen.version, when=when)


def key_message(exc: BaseException) -> str:
    """The sentence about a refused key step, in the window's language: the key service's
    refusals by their ``keys.*`` ids; a key whose signature does not check out (the crypto
    package's, without an id) says the server may have swapped keys."""
    if isinstance(exc, UntrustedKey) and not isinstance(exc, UserError):
        return tr("Refused: the fingerprints differ — the server's keys may have been swapped. "
                  "Nothing was certified or trusted; ask the school's IT teacher to check the server.")
    return user_message(exc)


class OfficerKeysTab(QWidget):
    """Enrollment codes with the officer key, and the devices waiting for the fingerprint check."""

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.staff = QComboBox()
        self.staff.setAccessibleName(tr("Staff member"))
        self.make_code_button = QPushButton(tr("Make an enrollment code"))
        self.code = QLineEdit()
        self.code.setReadOnly(True)
        self.code.setAccessibleName(tr("Enrollment code"))
        self.copy_button = QPushButton(tr("Copy"))
        self.code_note = QLabel()
        self.code_note.setWordWrap(True)
        code_row = QHBoxLayout()
        code_row.addWidget(self.code, 1)
        code_row.addWidget(self.copy_button)
        cform = QFormLayout()
        cform.addRow(tr("Staff member"), self.staff)
        cform.addRow("", self.make_code_button)
        cform.addRow(tr("Enrollment code"), code_row)
        cform.addRow(self.code_note)
        code_box = QGroupBox(tr("Enrollment code for a staff member's laptop"))
        code_box.setLayout(cform)

        self.pending = RowsModel([
            (tr("Teacher"), lambda d: self.names.get(d.staff_id, d.staff_id)),
            (tr("Device"), lambda d: d.label or d.device_id[-12:]),
            (tr("State"), lambda d: tr("Fingerprint to confirm") if not d.bound
             else tr("Certified at this laptop's next sync")),
            (tr("Fingerprint the server lists"), lambda d: d.fingerprint),
        ], self)
        self.names: dict[str, str] = {}
        self.pending_view = rows_table(self.pending, tr("Devices waiting for the fingerprint check"), single=True)
        # columns fit their content; with no device waiting that is only the header's two
        # characters, so give each a width a name or state would need
        self.pending_view.horizontalHeader().setMinimumSectionSize(self.fontMetrics().horizontalAdvance("待确认指纹设备") + 16)
        self.typed = QLineEdit()
        self.typed.setAccessibleName(tr("Fingerprint on that laptop's screen"))
        self.typed.setPlaceholderText(tr("Type the fingerprint that laptop's Settings screen shows"))
        self.confirm_button = QPushButton(tr("Compare and certify"))
        self.refresh_button = QPushButton(tr("Refresh"))
        prow = QHBoxLayout()
        prow.addWidget(self.typed, 1)
        prow.addWidget(self.confirm_button)
        prow.addWidget(self.refresh_button)
        pending_box = QGroupBox(tr("Devices waiting for the fingerprint check"))
        play = QVBoxLayout(pending_box)
        play.addWidget(self.pending_view, 1)
        play.addLayout(prow)
        # the officer recovery sheet: printed on a laptop holding the officer key, typed in on
        # the new laptop of an officer whose laptop was lost
        self.sheet_note = QLabel()
        self.sheet_note.setWordWrap(True)
        self.print_sheet_button = QPushButton(tr("Print the officer recovery sheet…"))
        self.sheet_typed = QLineEdit()
        self.sheet_typed.setAccessibleName(tr("Key on the officer recovery sheet"))
        self.sheet_typed.setPlaceholderText(tr("Type the 28 groups of the lost laptop's recovery sheet"))
        self.restore_button = QPushButton(tr("Restore from the sheet"))
        srow = QHBoxLayout()
        srow.addWidget(self.sheet_typed, 1)
        srow.addWidget(self.restore_button)
        srow.addWidget(self.print_sheet_button)
        sheet_box = QGroupBox(tr("Officer recovery sheet"))
        slay = QVBoxLayout(sheet_box)
        slay.addWidget(self.sheet_note)
        slay.addLayout(srow)
        self.state = QLabel()
        self.state.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(code_box)
        lay.addWidget(pending_box, 1)
        lay.addWidget(sheet_box)
        self.epoch_list = QLabel()
        self.epoch_list.setWordWrap(True)
        lay.addWidget(self.epoch_list)
        lay.addWidget(self.state)
        self.print_sheet_button.clicked.connect(self.print_sheet)
        self.restore_button.clicked.connect(self.restore)
        self.make_code_button.clicked.connect(self.make_code)
        self.copy_button.clicked.connect(self.copy_code)
        self.confirm_button.clicked.connect(self.confirm)
        self.refresh_button.clicked.connect(self.refresh)

    def refresh(self) -> None:
        if self.ctx.ws is None:
            return
        self.ctx.run(lambda ws: ws.keys.has_officer_key(), on_done=self._show_sheet)
        self.ctx.run(lambda ws: ws.officer_keys.epoch_list_seen(),
                     on_done=lambda seen: self.epoch_list.setText(epoch_list_text(seen, officer=True)))
        self.ctx.run(lambda ws: (ws.staff.list(), ws.officer_keys.pending_devices()), on_done=self._show,
                     on_error=lambda exc: self.state.setText(key_message(exc)))

    def _show_sheet(self, holds_officer_key: bool) -> None:
        """Print on a laptop with the officer key; restore on one without it."""
        self.print_sheet_button.setVisible(holds_officer_key)
        self.sheet_typed.setVisible(not holds_officer_key)
        self.restore_button.setVisible(not holds_officer_key)
        self.sheet_note.setText(
            tr("Print this page once and lock it away with the school seal: if this laptop is lost, a new "
               "officer laptop reads every family's records again with it. Whoever holds it can read them too.")
            if holds_officer_key else
            tr("This laptop does not hold the officer key. If the officer's laptop was lost, type the 28 "
               "groups of its printed recovery sheet here, then sync and revoke the lost laptop."))

    def choose_printer(self):  # noqa: ANN201 - a QPrinter or None (tests replace it: no dialog offscreen)
        from visitapp.ui.paper import choose_a4_printer
        return choose_a4_printer(self, tr("Officer recovery sheet"), tr("Print the officer recovery sheet"))

    def print_sheet(self) -> None:
        """The sheet goes straight to the printer, never to a file (visitapp.ui.paper)."""
        self.print_sheet_button.setEnabled(False)
        self.state.setText(tr("Preparing the page…"))

        def work(ws):
            import datetime as dt

            from visitapp.printing.recovery_key import officer_recovery_sheet, render_recovery_key
            from visitapp.ui.paper import sheet_images
            sheet = ws.officer_keys.recovery_sheet()
            return sheet_images(lambda pdf: render_recovery_key(officer_recovery_sheet(
                sheet.key, sheet.school, sheet.holder, sheet.device_id, dt.datetime.now()), pdf))

        def done(pages) -> None:
            from visitapp.ui.paper import paint_pages, printed_message
            self.print_sheet_button.setEnabled(True)
            printer = self.choose_printer()
            if printer is None:
                self.state.setText(tr("Not printed."))
            elif not paint_pages(printer, pages):
                self.state.setText(tr("The printer could not be started. Check that it is on "
                                      "and connected, then try again."))
            else:
                self.state.setText(printed_message(printer, tr(
                    "Written to the file {file}, not to paper: whoever has that file can read every family's "
                    "records. Print it, lock the page away, then delete the file.")))

        def failed(exc: BaseException) -> None:
            self.print_sheet_button.setEnabled(True)
            self.state.setText(key_message(exc))

        self.ctx.run(work, on_done=done, on_error=failed)

    def restore(self) -> None:
        typed = self.sheet_typed.text()

        def done(restored) -> None:
            self.sheet_typed.clear()
            self.state.setText(tr("Restored: the officer key and {keys} students' keys of the lost laptop. Sync "
                                  "now, then revoke the lost laptop on the Devices tab.").format(
                keys=restored.content_keys))
            self.refresh()

        def failed(exc: BaseException) -> None:
            # a mistyped sheet says what to check; another school's sheet says it is not this school's
            self.state.setText(key_message(exc))

        self.ctx.run(lambda ws: ws.officer_keys.restore_from_sheet(typed), on_done=done, on_error=failed)

    def _show(self, result) -> None:
        staff, pending = result
        self.names = {s.id: s.name for s in staff}
        keep = self.staff.currentData()
        self.staff.clear()
        for s in staff:
            self.staff.addItem(s.name, s.id)
        if keep is not None:
            self.staff.setCurrentIndex(max(0, self.staff.findData(keep)))
        self.pending.set_rows(pending)

    def make_code(self) -> None:
        staff_id = self.staff.currentData()
        if not staff_id:
            self.state.setText(tr("Choose a staff member first."))
            return

        def done(made) -> None:
            self.code.setText(made.code)
            self.code_note.setText(tr("For {name}, one use, valid until {until}. That laptop enrolls with it "
                                      "in Settings and is certified at this laptop's next sync.").format(
                name=made.staff_name, until=made.expires_at[:16].replace("T", " ")))
            self.state.setText("")

        self.ctx.run(lambda ws: ws.officer_keys.enrollment_code(staff_id), on_done=done,
                     on_error=lambda exc: self.state.setText(key_message(exc)))

    def copy_code(self) -> None:
        if self.code.text():
            QGuiApplication.clipboard().setText(self.code.text())
            self.state.setText(tr("The code is copied."))

    def confirm(self) -> None:
        rows = self.pending_view.selectionModel().selectedRows()
        if not rows:
            self.state.setText(tr("Choose a device first."))
            return
        device = self.pending.rows[rows[0].row()]
        typed = self.typed.text()

        def done(pending) -> None:
            self.typed.clear()
            self.pending.set_rows(pending)
            self.state.setText(tr("Certified: the fingerprints match. Student keys are shared with it at "
                                  "this laptop's next sync."))

        def work(ws):
            ws.officer_keys.confirm_device(device.device_id, typed)
            return ws.officer_keys.pending_devices()

        self.ctx.run(work, on_done=done, on_error=lambda exc: self.state.setText(key_message(exc)))


class LaptopKeysBox(QGroupBox):
    """Settings: this laptop's fingerprint, and trusting the officer key by its fingerprint."""

    def __init__(self, ctx: Any, parent=None):
        super().__init__(tr("Keys of this laptop"), parent)
        self.ctx = ctx
        self.mine = QLabel()
        self.mine.setWordWrap(True)
        self.officer = QLabel()
        self.officer.setWordWrap(True)
        self.typed = QLineEdit()
        self.typed.setAccessibleName(tr("Officer key fingerprint"))
        self.typed.setPlaceholderText(tr("Type the officer key fingerprint from the officer's screen"))
        self.pin_button = QPushButton(tr("Trust the officer key"))
        self.epoch_list = QLabel()
        self.epoch_list.setWordWrap(True)
        self.state = QLabel()
        self.state.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.typed, 1)
        row.addWidget(self.pin_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.mine)
        lay.addWidget(self.officer)
        lay.addWidget(self.epoch_list)
        lay.addLayout(row)
        lay.addWidget(self.state)
        self.pin_button.clicked.connect(self.pin)

    def refresh(self) -> None:
        if self.ctx.ws is None:
            return
        self.ctx.run(lambda ws: (ws.keys.my_fingerprint(), ws.officer_keys.officer_fingerprint(),
                                 ws.officer_keys.epoch_list_seen()),
                     on_done=self._show)

    def _show(self, result) -> None:
        mine, officer, seen = result
        self.epoch_list.setText(epoch_list_text(seen, officer=False))
        self.epoch_list.setVisible(bool(officer))  # a list counts only once the officer key is trusted
        self.mine.setText(tr("This laptop's key fingerprint: {fingerprint} (the officer compares it)").format(
            fingerprint=mine) if mine else tr("This laptop's keys are not registered with a school server yet."))
        self.officer.setText(tr("Officer key trusted: {fingerprint}").format(fingerprint=officer) if officer
                             else tr("No officer key trusted yet: type the fingerprint the officer's screen shows."))
        for w in (self.typed, self.pin_button):
            w.setVisible(bool(mine) and not officer)

    def pin(self) -> None:
        typed = self.typed.text()

        def done(_fingerprint) -> None:
            self.typed.clear()
            self.state.setText(tr("The officer key is trusted."))
            self.refresh()

        self.ctx.run(lambda ws: ws.officer_keys.pin_officer_key(typed), on_done=done,
                     on_error=lambda exc: self.state.setText(key_message(exc)))
