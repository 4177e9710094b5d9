"""Officer screen: exchange with the city aid platform and the reconciliation report.

The school server does the exchange (its connector holds the platform's address and key); this
screen asks it through :class:`visitapp.services.officer.OfficerService` on the worker
thread: pull the roster (a preview first, then apply or cancel), pull the aid history, push
the results, read the reconciliation report (four tabs) and save it as xlsx, and read the log of
every exchange. New students and aid entries reach this computer at the next sync.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QTabWidget, QVBoxLayout, QWidget,
)

from visitapp.domain import term_of
from visitapp.ui.errors import user_message
from visitapp.ui.fit import FlowLayout
from visitapp.ui.i18n import N_, label, tr
from visitapp.ui.screens.reporting import term_text
from visitapp.ui.screens.sync import is_offline_error
from visitapp.ui.widgets import RowsModel, rows_table, title_label

TERM_RE = re.compile(r"^\d{4}-\d{4}-[12]$")
FIELD_NAMES = {"name": N_("Name"), "masked_id": N_("Masked ID"), "class_name": N_("Class"), "stage": N_("Stage"),
               "district": N_("District"), "hardship_categories": N_("Hardship categories"),
               "auto_eligible": N_("Automatically eligible"), "platform_level": N_("Level on the platform"),
               "on_roster": N_("On the roster")}
SECTIONS = (("not_visited", N_("Not visited")), ("off_roster", N_("Not on the roster")),
            ("level_mismatch", N_("Level differs")), ("exports", N_("Exports pending or failed")))
OPERATIONS = {"roster": N_("Roster"), "aid": N_("Aid history"), "upload": N_("Upload"),
              "statistics": N_("Statistics"), "import-file": N_("File import"), "export-file": N_("File export")}
RESULTS = {"ok": N_("OK"), "partial": N_("Partly"), "failed": N_("Failed"), "preview": N_("Preview only")}
KINDS = {"visit": N_("Visits"), "determination": N_("Determinations"), "reward": N_("Growth rewards"),
         "mentor": N_("Mentors")}


def recent_terms(today: dt.date | None = None, count: int = 3) -> list[str]:
    """The current term first, then the ones before it."""
    terms: list[str] = []
    day = today or dt.date.today()
    while len(terms) < count:
        term = term_of(day)
        if term not in terms:
            terms.append(term)
        day -= dt.timedelta(days=120)
    return terms


def _value(v: Any) -> str:
    if v is None or v == "" or v == []:
        return "—"
    if isinstance(v, bool):
        return tr("Yes") if v else tr("No")
    if isinstance(v, (list, tuple)):
        return "、".join(label(x) for x in v) or "—"
    return label(v)


def local_minute(iso_time: str) -> str:
    """A time the server sent (ISO 8601 with its offset) as this computer's local minute."""
    return dt.datetime.fromisoformat(iso_time).astimezone().strftime("%Y-%m-%d %H:%M")


def describe_changes(change) -> str:
    """``班级：三年级(1)班 → 三年级(2)班；…`` for one student of the preview."""
    return "；".join(f"{tr(FIELD_NAMES.get(f.field, f.field))}：{_value(f.old)} → {_value(f.new)}"
                    for f in change.changes)




class PlatformScreen(QWidget):
    """``changed``: the server's records changed (roster applied, aid pulled);
    ``sync_requested``: the officer asked to sync now to receive them."""

    changed = Signal()
    sync_requested = Signal()

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.preview = None
        self.report = None
        self._busy = False
        title = title_label(tr("City aid platform: exchange and reconciliation"))
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.term = QComboBox()
        self.term.setEditable(True)
        self.term.setAccessibleName(tr("Term"))
        for t in recent_terms():  # shown in words, as everywhere else; a typed 2026-2027-1 works too
            self.term.addItem(term_text(t), t)
        self.pull_button = QPushButton(tr("Pull the roster from the platform"))
        self.aid_button = QPushButton(tr("Pull aid records"))
        self.push_button = QPushButton(tr("Push to the platform"))
        self.report_button = QPushButton(tr("Refresh the report"))
        self.export_button = QPushButton(tr("Export xlsx…"))
        self.actions = [self.pull_button, self.aid_button, self.push_button, self.report_button, self.export_button]
        top = FlowLayout()  # the actions wrap onto a second line on a narrow screen
        term_label = QLabel(tr("Term"))
        term_label.setBuddy(self.term)
        top.addWidget(term_label)
        top.addWidget(self.term)
        for b in self.actions:
            top.addWidget(b)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumHeight(8)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setAccessibleName(tr("Working with the platform"))
        self.busy_bar.hide()
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.sync_button = QPushButton(tr("Sync now"))
        self.sync_button.hide()
        state_row = QHBoxLayout()
        state_row.addWidget(self.state, 1)
        state_row.addWidget(self.sync_button)

        # -- roster preview
        self.preview_model = RowsModel([
            (tr("Change"), lambda r: r[0]), (tr("Platform ref"), lambda r: r[1].platform_ref),
            (tr("Name"), lambda r: r[1].name), (tr("Class"), lambda r: r[1].class_name),
            (tr("What changes"), lambda r: describe_changes(r[1]) if r[1].changes else ""),
        ], self)
        self.preview_view = rows_table(self.preview_model, tr("Roster preview"))
        self.preview_summary = QLabel(tr("Pull the roster to see what would change before anything is applied."))
        self.preview_summary.setWordWrap(True)
        self.apply_button = QPushButton(tr("Apply"))
        self.cancel_button = QPushButton(tr("Cancel"))
        for b in (self.apply_button, self.cancel_button):
            b.setEnabled(False)
        prow = QHBoxLayout()
        prow.addWidget(self.preview_summary, 1)
        prow.addWidget(self.apply_button)
        prow.addWidget(self.cancel_button)
        preview_tab = QWidget()
        play = QVBoxLayout(preview_tab)
        play.addLayout(prow)
        play.addWidget(self.preview_view, 1)

        # -- reconciliation: one tab per section
        self.report_label = QLabel(tr("The report lists what the platform and the school do not agree on."))
        self.report_label.setWordWrap(True)
        self.section_tabs = QTabWidget()
        self.section_models: dict[str, RowsModel] = {}
        for key, _title in SECTIONS:
            columns = [(tr("Platform ref"), lambda x: x.platform_ref), (tr("Name"), lambda x: x.name),
                       (tr("Class"), lambda x: x.class_name)]
            if key == "level_mismatch":
                columns += [(tr("Level on the platform"), lambda x: label(x.platform_level)),
                            (tr("Level at school"), lambda x: label(x.school_level))]
            if key == "exports":
                columns.append((tr("Status"), lambda x: tr({"failed": "Failed", "pending": "Pending"}.get(
                    x.status, "Pending"))))
            columns.append((tr("Detail"), lambda x: x.detail))
            model = RowsModel(columns, self)
            self.section_models[key] = model
            self.section_tabs.addTab(rows_table(model, tr(_title)), tr(_title))
        report_tab = QWidget()
        rlay = QVBoxLayout(report_tab)
        rlay.addWidget(self.report_label)
        rlay.addWidget(self.section_tabs, 1)

        # -- push result
        self.push_summary = QLabel(tr("Pushing sends visit completion, final determinations, growth rewards and "
                                      "mentors (allow-listed facts only, no free text) and the statistics."))
        self.push_summary.setWordWrap(True)
        self.kind_model = RowsModel([
            (tr("Kind"), lambda k: tr(KINDS.get(k.kind, k.kind))), (tr("Items"), lambda k: k.items),
            (tr("Sent"), lambda k: k.sent), (tr("Failed"), lambda k: k.failed), (tr("Pending"), lambda k: k.pending),
        ], self)
        self.rejected_model = RowsModel([
            (tr("Kind"), lambda r: tr(KINDS.get(r.kind, r.kind))), (tr("Reason"), lambda r: r.reason),
            (tr("Item"), lambda r: r.item_id),
        ], self)
        push_tab = QWidget()
        ulay = QVBoxLayout(push_tab)
        ulay.addWidget(self.push_summary)
        ulay.addWidget(rows_table(self.kind_model, tr("Push result by kind")), 1)
        ulay.addWidget(QLabel(tr("Refused by the platform")))
        ulay.addWidget(rows_table(self.rejected_model, tr("Refused by the platform")), 1)

        # -- exchange log
        self.log_model = RowsModel([
            (tr("When"), lambda e: local_minute(e.at)),
            (tr("Who"), lambda e: e.actor),
            (tr("Direction"), lambda e: tr("Down") if e.direction == "down" else tr("Up")),
            (tr("Operation"), lambda e: tr(OPERATIONS.get(e.operation, e.operation))),
            (tr("Records"), lambda e: e.count),
            (tr("Result"), lambda e: tr(RESULTS.get(e.result, e.result))),
            (tr("Fields"), lambda e: ", ".join(e.fields)),
            (tr("Detail"), lambda e: e.detail),
        ], self)
        self.log_view = rows_table(self.log_model, tr("Exchange log"))

        self.tabs = QTabWidget()
        self.tabs.addTab(preview_tab, tr("Roster preview"))
        self.tabs.addTab(report_tab, tr("Reconciliation"))
        self.tabs.addTab(push_tab, tr("Push result"))
        self.tabs.addTab(self.log_view, tr("Exchange log"))

        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.status_label)
        lay.addLayout(top)
        lay.addWidget(self.busy_bar)
        lay.addLayout(state_row)
        lay.addWidget(self.tabs, 1)

        self.pull_button.clicked.connect(self.pull_roster)
        self.apply_button.clicked.connect(self.apply_roster)
        self.cancel_button.clicked.connect(self.cancel_preview)
        self.aid_button.clicked.connect(self.pull_aid)
        self.push_button.clicked.connect(self.push)
        self.report_button.clicked.connect(self.load_report)
        self.export_button.clicked.connect(self.export_xlsx)
        self.sync_button.clicked.connect(self._sync_now)

    def _sync_now(self) -> None:
        self.sync_button.hide()
        self.state.setText("")
        self.sync_requested.emit()

    # -- plumbing ----------------------------------------------------------------------------------
    def current_term(self) -> str | None:
        text = self.term.currentText().strip()
        index = self.term.findText(text)
        if index >= 0 and self.term.itemData(index):
            return self.term.itemData(index)
        if not TERM_RE.match(text):
            self.state.setText(tr("A term looks like 2026-2027-1 (school year, then 1 or 2)."))
            return None
        return text

    def _set_busy(self, on: bool, text: str = "") -> None:
        self._busy = on
        self.busy_bar.setVisible(on)
        for b in self.actions:
            b.setEnabled(not on)
        self.apply_button.setEnabled(not on and self.preview is not None and not self.preview.is_noop)
        self.cancel_button.setEnabled(not on and self.preview is not None)
        if text:
            self.state.setText(text)

    def _call(self, fn, on_done, busy_text: str) -> None:
        """Run ``fn(ws.officer)`` on the worker with the busy bar shown."""
        if self._busy or self.ctx.ws is None:
            return
        before = self.state.text()
        self._set_busy(True, busy_text)

        def done(result) -> None:
            self._set_busy(False)
            on_done(result)
            if self.state.text() == busy_text:  # the call said nothing new: show what was there
                self.state.setText(before if self.sync_button.isVisible() else "")

        self.ctx.run(lambda ws: fn(ws.officer), on_done=done, on_error=self._failed, network=True)

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if is_offline_error(exc) or getattr(exc, "message_id", "") == "sync.not_enrolled":
            self.state.setText(tr("Offline: the school server cannot be reached. The exchange with the "
                                  "platform runs on the school server; try again when this computer is on "
                                  "the school's network."))
            return
        if getattr(exc, "code", "") == "preview_stale":
            self.cancel_preview()
        self.state.setText(user_message(exc))
        preview = self.preview
        if getattr(exc, "code", "") == "roster_suspicious" and preview is not None and self.ctx.confirm(
                tr("Apply the roster?"),
                tr("More than half of the students would no longer be on the roster. This can mean a wrong "
                   "term or a problem on the platform. Nothing is deleted either way. Apply anyway?")):
            self._call(lambda c: c.apply_roster(preview, force=True), self._applied, tr("Applying the roster…"))

    # -- screen ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.ctx.ws is None or self._busy:
            return

        def work(ws):
            client = ws.officer
            return client.platform_status(), client.exchanges()

        def done(result) -> None:
            status, events = result
            if status.configured:
                self.status_label.setText(tr("The school server exchanges with the platform at {url} as school "
                                             "{code}.").format(url=status.url, code=status.school_code))
            else:
                self.status_label.setText(status.problem)
            self.log_model.set_rows(events)

        def failed(exc) -> None:
            if is_offline_error(exc) or getattr(exc, "message_id", "") == "sync.not_enrolled":
                self.status_label.setText(tr("Not connected to the school server: the platform exchange needs "
                                             "the school server."))
            else:
                self.status_label.setText(user_message(exc))

        self.ctx.run(work, on_done=done, on_error=failed, network=True)

    def _refresh_log(self) -> None:
        self.ctx.run(lambda ws: ws.officer.exchanges(), on_done=self.log_model.set_rows, network=True,
                     on_error=lambda _e: None)

    # -- roster ------------------------------------------------------------------------------------
    def pull_roster(self) -> None:
        term = self.current_term()
        if term is None:
            return
        self._call(lambda c: c.preview_roster(term), self._show_preview,
                   tr("Pulling the roster from the platform through the school server…"))

    def _show_preview(self, preview) -> None:
        self.preview = preview
        rows = ([(tr("New"), c) for c in preview.new] + [(tr("Changed"), c) for c in preview.changed]
                + [(tr("No longer on the roster"), c) for c in preview.gone])
        self.preview_model.set_rows(rows)
        self.preview_summary.setText(tr("New {new}, changed {changed}, no longer on the roster {gone}, "
                                        "unchanged {same}.").format(new=len(preview.new), changed=len(preview.changed),
                                                                    gone=len(preview.gone), same=preview.unchanged))
        self.tabs.setCurrentIndex(0)
        self._set_busy(False)
        self.state.setText(tr("Nothing to apply: the roster is up to date.") if preview.is_noop else
                           tr("Read the changes, then apply them or cancel. Nothing has been changed yet."))
        self._refresh_log()

    def apply_roster(self) -> None:
        preview = self.preview
        if preview is None or preview.is_noop:
            return
        self._call(lambda c: c.apply_roster(preview), self._applied, tr("Applying the roster…"))

    def _applied(self, result) -> None:
        self.preview = None
        self.preview_model.set_rows([])
        self.preview_summary.setText(tr("Applied: {new} new, {changed} changed, {gone} no longer on the roster.")
                                     .format(new=result.new, changed=result.changed, gone=result.gone))
        self._set_busy(False)
        self._received_on_server()
        self.changed.emit()
        self._refresh_log()

    def cancel_preview(self) -> None:
        self.preview = None
        self.preview_model.set_rows([])
        self.preview_summary.setText(tr("Cancelled: nothing was changed."))
        self._set_busy(False)

    def _received_on_server(self, extra: str = "") -> None:
        self.state.setText((extra + " " if extra else "") + tr(
            "The school server has the new records; sync to receive them on this computer."))
        self.sync_button.show()

    # -- aid ---------------------------------------------------------------------------------------
    def pull_aid(self) -> None:
        term = self.current_term()
        if term is None:
            return

        def done(result) -> None:
            text = tr("Aid records: {received} received, {added} new, {already} already there.").format(
                received=result.received, added=result.added, already=result.already)
            if result.orphans:
                text += " " + tr("{n} students are not on the school's roster.").format(n=len(result.orphans))
            if result.added:
                self._received_on_server(text)
                self.changed.emit()
            else:
                self.state.setText(text)
            self._refresh_log()

        self._call(lambda c: c.pull_aid(term), done, tr("Pulling aid records…"))

    # -- push --------------------------------------------------------------------------------------
    def push(self) -> None:
        term = self.current_term()
        if term is None:
            return
        self._call(lambda c: c.push_to_platform(term), self._pushed, tr("Pushing to the platform…"))

    def _pushed(self, outcome) -> None:
        self.kind_model.set_rows(list(outcome.by_kind))
        self.rejected_model.set_rows(list(outcome.rejected))
        text = tr("Pushed {items}: {sent} newly received, {dup} already there, {rejected} refused, {pending} "
                  "waiting; {cells} statistics cells.").format(
            items=outcome.items, sent=outcome.sent, dup=outcome.duplicates, rejected=len(outcome.rejected),
            pending=outcome.pending, cells=outcome.statistics_cells)
        if outcome.error:
            text += " " + outcome.error
        self.push_summary.setText(text)
        self.state.setText(text)
        self.tabs.setCurrentIndex(2)
        self._refresh_log()

    # -- reconciliation ----------------------------------------------------------------------------
    def load_report(self) -> None:
        term = self.current_term()
        if term is None:
            return
        self._call(lambda c: c.reconciliation(term), self._show_report, tr("Building the reconciliation report…"))

    def _show_report(self, report) -> None:
        self.report = report
        for i, (key, title) in enumerate(SECTIONS):
            rows = getattr(report, key)
            self.section_models[key].set_rows(list(rows))
            self.section_tabs.setTabText(i, f"{tr(title)} ({len(rows)})")
        self.report_label.setText(tr("Reconciliation report for {term}, made {when}.").format(
            term=term_text(report.term), when=local_minute(report.generated_at)))
        self.tabs.setCurrentIndex(1)

    def export_xlsx(self) -> None:
        term = self.current_term()
        if term is None:
            return
        path = self.ctx.save_file_name(tr("Save the reconciliation report"), f"对账报告-{term}.xlsx",
                                       tr("Excel workbook (*.xlsx)"))
        if not path:
            return
        path = Path(path)
        if path.suffix.lower() != ".xlsx":
            path = path.with_suffix(".xlsx")

        def done(saved) -> None:
            self.state.setText(tr("Saved {path}.").format(path=saved))

        self._call(lambda c: c.save_reconciliation_xlsx(path, term), done, tr("Saving the report…"))
