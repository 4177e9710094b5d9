"""Officer screen: orphaned work and devices (DESIGN.md §4, "No purge or wipe deletes something
unsent").

Orphaned work is what a laptop uploaded that the school server did not apply as its teacher's
record: the student had been moved to another teacher, the laptop had been revoked, the record
had been finalized meanwhile. Nothing of it is lost; the officer decides, and the server
audits: *accept* it into the record (a visit made while the teacher was assigned counts),
*hand it over* to the teacher now in charge (a draft they finish), or *discard* it with a reason.

Devices: *retire* a laptop that is being replaced (it uploads everything, then wipes, and
the list shows that it did) or *revoke* one that was lost or stolen (it wipes at its next
call; what it still sends comes here, never straight into the records).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QLineEdit, QPushButton, QTableView, QTabWidget, QVBoxLayout, QWidget,
)

from visitapp.ui.errors import refusal_text, user_message
from visitapp.ui.screens.officer_keys import OfficerKeysTab
from visitapp.ui.i18n import N_, label, tr
from visitapp.ui.widgets import RowsModel, rows_table, title_label

STATES = {"active": N_("In use"), "retiring": N_("Retiring: uploads, then wipes at its next sync"),
          "retired": N_("Retired: uploaded everything and wiped"),
          "revoked": N_("Revoked: wipes at its next call"), "revoked_wiped": N_("Revoked and wiped")}


KINDS = {"visit": N_("Visit"), "growth_entry": N_("Growth entry"), "growth_profile_field": N_("Growth file field"),
         "mentor_note": N_("Mentor note"), "conflict": N_("Conflict decision")}


def _what(o) -> str:
    text = tr(KINDS[o.kind]) if o.kind in KINDS else o.kind
    if o.is_draft:
        text += tr(" (draft)")
    if o.visit_date:
        text += f" {o.visit_date} {label(o.mode) if o.mode else ''}".rstrip()
    return text


def _when(o) -> str:
    if o.made_while_assigned is None:
        return ""
    return tr("made while assigned") if o.made_while_assigned else tr("made after the assignment ended")




class OrphansScreen(QWidget):
    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self._busy = False
        title = title_label(tr("Orphaned work and devices"))
        explain = QLabel(tr("Uploads the server did not save as their teacher's records (the student was "
                            "moved to another teacher, the laptop was revoked, the record was already final). "
                            "Nothing is lost: accept, hand over or discard each one with a reason."))
        explain.setWordWrap(True)
        self.state = QLabel()
        self.state.setWordWrap(True)

        self.model = RowsModel([
            (tr("What"), _what), (tr("Student"), lambda o: o.student_name or o.student_id or ""),
            (tr("Written by"), lambda o: o.author_name), (tr("Why"), lambda o: refusal_text(o.code, o.reason)),
            (tr("When"), _when), (tr("Content"), lambda o: o.excerpt),
        ], self)
        self.view = rows_table(self.model, tr("Orphaned work"), single=True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText(tr("Reason (required to discard)"))
        self.reason.setAccessibleName(tr("Reason"))
        self.accept_button = QPushButton(tr("Accept into the record"))
        self.handover_button = QPushButton(tr("Hand over to the teacher in charge"))
        self.discard_button = QPushButton(tr("Discard"))
        self.refresh_button = QPushButton(tr("Refresh"))
        row = QHBoxLayout()
        row.addWidget(self.reason, 1)
        for b in (self.accept_button, self.handover_button, self.discard_button, self.refresh_button):
            row.addWidget(b)
        orphan_tab = QWidget()
        olay = QVBoxLayout(orphan_tab)
        olay.addWidget(explain)
        olay.addWidget(self.view, 1)
        olay.addLayout(row)

        self.devices = RowsModel([
            (tr("Teacher"), lambda d: d.staff_name), (tr("Device"), lambda d: d.label or d.id[-12:]),
            (tr("Last sync"), lambda d: d.last_seen_at or "—"),
            (tr("State"), lambda d: tr(STATES.get(d.state, d.state)) + (f"（{d.wiped_at}）" if d.wiped_at else "")),
        ], self)
        self.device_view = rows_table(self.devices, tr("Devices"), single=True)
        self.retire_button = QPushButton(tr("Retire (being replaced)"))
        self.revoke_button = QPushButton(tr("Revoke (lost or stolen)"))
        drow = QHBoxLayout()
        drow.addStretch()
        drow.addWidget(self.retire_button)
        drow.addWidget(self.revoke_button)
        device_tab = QWidget()
        dlay = QVBoxLayout(device_tab)
        dlay.addWidget(self.device_view, 1)
        dlay.addLayout(drow)

        self.tabs = QTabWidget()
        self.tabs.addTab(orphan_tab, tr("Orphaned work"))
        self.tabs.addTab(device_tab, tr("Devices"))
        self.keys = OfficerKeysTab(ctx)
        self.tabs.addTab(self.keys, tr("Keys and enrollment codes"))
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.state)
        lay.addWidget(self.tabs, 1)

        self.accept_button.clicked.connect(lambda: self._resolve("accept"))
        self.handover_button.clicked.connect(lambda: self._resolve("handover"))
        self.discard_button.clicked.connect(lambda: self._resolve("discard"))
        self.refresh_button.clicked.connect(self.refresh)
        self.retire_button.clicked.connect(lambda: self._device("retire"))
        self.revoke_button.clicked.connect(lambda: self._device("revoke"))

    # -- reading -------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.ctx.ws is None or self._busy:
            return
        self._busy = True

        def work(ws):
            client = ws.officer
            return client.orphans(), client.devices()

        self.ctx.run(work, on_done=self._show, on_error=self._failed)
        self.keys.refresh()

    def _show(self, result) -> None:
        self._busy = False
        orphans, devices = result
        self.model.set_rows(orphans)
        self.devices.set_rows(devices)
        self.state.setText(tr("{n} pieces of orphaned work wait for a decision.").format(n=len(orphans))
                           if orphans else tr("No orphaned work waits for a decision."))

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.state.setText(user_message(exc))

    def _selected(self, view: QTableView, model: RowsModel):
        rows = view.selectionModel().selectedRows()
        return model.rows[rows[0].row()] if rows else None

    # -- deciding ------------------------------------------------------------------------------
    def _resolve(self, action: str) -> None:
        item = self._selected(self.view, self.model)
        if item is None or self._busy:
            self.state.setText(tr("Choose a row first."))
            return
        reason = self.reason.text().strip()
        if action == "discard" and not reason:
            self.state.setText(tr("Say why it is discarded: the reason is kept with it."))
            self.reason.setFocus()
            return
        self._busy = True

        def work(ws):
            client = ws.officer
            client.resolve_orphan(item.id, action, reason)
            return client.orphans(), client.devices()

        def done(result) -> None:
            self.reason.clear()
            self._show(result)
            self.state.setText({"accept": tr("Accepted into the record."),
                                "handover": tr("Handed over; the teacher receives it at their next sync."),
                                "discard": tr("Discarded; the content and the reason are kept.")}[action]
                               + " " + self.state.text())

        self.ctx.run(work, on_done=done, on_error=self._failed)

    def _device(self, action: str) -> None:
        device = self._selected(self.device_view, self.devices)
        if device is None or self._busy:
            self.state.setText(tr("Choose a device first."))
            return
        question = (tr("Retire {device}? It uploads everything at its next sync, then deletes the students' data.")
                    if action == "retire" else
                    tr("Revoke {device}? It deletes the students' data at its next call; what it still "
                       "sends waits here for you to check."))
        title = tr("Retire device") if action == "retire" else tr("Revoke device")
        if not self.ctx.confirm(title, question.format(device=device.label or device.id[-12:])):
            return
        self._busy = True

        def work(ws):
            client = ws.officer
            client.device_action(device.id, action)
            return client.orphans(), client.devices()

        self.ctx.run(work, on_done=self._show, on_error=self._failed)
