"""The officer's audit-trail screen (责任追溯, issue 15): who entered and who reviewed what, when,
on which device, and whether each event is verified (signed by this laptop's certified key),
unsigned (written before the laptop had a signing key), not checkable here (another device's:
``visitapp-server audit verify`` checks those against the key directory) or where a chain
breaks. The same lines as ``visitapp audit show``; the summary is ``visitapp audit verify``."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from visitapp.ui.i18n import N_, tr
from visitapp.ui.screens.reporting import screen_title
from visitapp.ui.widgets import RowsModel, rows_table

STATUS_TITLES = {"signed": N_("Verified"), "unsigned": N_("Unsigned (enrolled before signing)"),
                 "unchecked": N_("Checked on the school server"), "broken": N_("Broken or forged")}


class AuditTrailScreen(QWidget):
    def __init__(self, ctx, parent=None):  # noqa: ANN001
        super().__init__(parent)
        self.ctx = ctx
        self.report = None
        self.verify_button = QPushButton(tr("Verify the trail"))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.lines = RowsModel([
            (tr("When"), lambda x: f"{x.at:%Y-%m-%d %H:%M}"),
            (tr("Who"), lambda x: x.actor),
            (tr("Action"), lambda x: x.action),
            (tr("Record"), lambda x: x.record_kind),
            (tr("Device"), lambda x: f"{x.device_id[:8]} #{x.seq}"),
            (tr("Signature"), lambda x: tr(STATUS_TITLES.get(x.status, x.status))),
        ], self)
        self.table = rows_table(self.lines, tr("Audit events"))
        caption = QLabel(tr(
            "Every change on a laptop is an event in that laptop's chain, signed with the laptop's key that the "
            "officer certified. Verified: signed by this laptop's key. Unsigned: written before the laptop had a "
            "key. Other devices' signatures are checked on the school server (visitapp-server audit verify)."))
        caption.setWordWrap(True)
        caption.setStyleSheet("color: #5f6368;")
        top = QHBoxLayout()
        top.addWidget(screen_title(tr("Audit trail")))
        top.addStretch()
        top.addWidget(self.verify_button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(caption)
        lay.addWidget(self.summary)
        lay.addWidget(self.table, 1)
        self.verify_button.clicked.connect(self.refresh)

    def refresh(self) -> None:
        self.ctx.run(lambda ws: (ws.audit.verify(), ws.audit.show()), on_done=self.show_trail)

    def show_trail(self, result) -> None:  # noqa: ANN001
        self.report, lines = result
        self.lines.set_rows(list(reversed(lines)))  # newest first
        b = self.report.broken
        if b is None:
            self.summary.setText(tr("Intact: {events} events from {devices} devices; {signed} verified, "
                                    "{unsigned} unsigned.").format(events=self.report.events,
                                                                   devices=self.report.devices,
                                                                   signed=self.report.signed,
                                                                   unsigned=self.report.unsigned))
            self.summary.setStyleSheet("")
        else:
            self.summary.setText(tr("Broken at event {seq} of device {device} ({action}): {reason}").format(
                seq=b.seq, device=b.device_id[:8], action=b.action, reason=b.reason))
            self.summary.setStyleSheet("color: #b00020; font-weight: bold;")
