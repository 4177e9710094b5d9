"""The officer's public-notice screen (公示): the notices with their period and status, the
masked list as published, the objections received with how each was handled; record an
objection, handle the selected one, close the notice (its determinations become final) —
refused before the period ends or with an objection open, the reason shown beside the
button — and print the notice."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDateEdit, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
    QPlainTextEdit, QPushButton, QSplitter, QTableView, QVBoxLayout, QWidget,
)

from visitapp.ui.errors import problem_text, user_message
from visitapp.ui.i18n import label, tr
from visitapp.ui.screens.reporting import screen_title
from visitapp.ui.widgets import ErrorLabel, RowsModel


def _day(d) -> str:  # noqa: ANN001
    return d.isoformat() if d else ""


def _status(status: str) -> str:
    return tr("Open") if status == "open" else tr("Closed")


class NoticeScreen(QWidget):
    changed = Signal()

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.detail: Any = None
        # -- the notices
        self.notices_model = RowsModel([
            (tr("Review meeting"), lambda n: _day(n.meeting_date)),
            (tr("Notice period"), lambda n: f"{_day(n.period_start)} — {_day(n.period_end)}"),
            (tr("Status"), lambda n: _status(n.status) + (f"（{_day(n.closed_on)}）" if n.closed_on else "")),
            (tr("Determinations"), lambda n: n.determinations),
            (tr("Objections (open)"), lambda n: f"{n.objections}（{n.open_objections}）"),
        ], self)
        self.notices = self._table(self.notices_model, tr("Public notices"))
        self.notices.setMaximumHeight(110)
        # -- the masked list, as published
        self.lines_model = RowsModel([
            (tr("No."), lambda x: x[0]),
            (tr("Name"), lambda x: x[1].masked_name),
            (tr("Class"), lambda x: x[1].class_name),
            (tr("Level"), lambda x: label(x[1].level)),
        ], self)
        self.lines = self._table(self.lines_model, tr("Masked list of determinations"))
        # -- objections
        self.objections_model = RowsModel([
            (tr("Received"), lambda o: _day(o.received_on)),
            (tr("About"), lambda o: o.about if o.about != "整体" else tr("The whole notice")),
            (tr("Content"), lambda o: o.content),
            (tr("Handled"), lambda o: _day(o.handled_on) if o.handled else tr("Not yet")),
            (tr("How it was handled"), lambda o: o.handling),
        ], self)
        self.objections = self._table(self.objections_model, tr("Objections"))
        self.objections.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.objections.horizontalHeader().setStretchLastSection(True)
        for col, width in ((0, 90), (1, 80), (2, 220), (3, 90)):
            self.objections.setColumnWidth(col, width)

        # -- record an objection
        self.received = QDateEdit(QDate.currentDate())
        self.received.setCalendarPopup(True)
        self.received.setDisplayFormat("yyyy-MM-dd")
        self.received.setAccessibleName(tr("Date received"))
        self.about = QComboBox()
        self.about.setAccessibleName(tr("About"))
        self.content = QPlainTextEdit()
        self.content.setAccessibleName(tr("Objection"))
        self.content.setTabChangesFocus(True)
        self.content.setMaximumHeight(60)
        self.record_button = QPushButton(tr("Record the objection"))
        self.record_error = ErrorLabel()
        rform = QFormLayout()
        rform.addRow(tr("Date received"), self.received)
        rform.addRow(tr("About"), self.about)
        rform.addRow(tr("Objection"), self.content)
        rform.addRow(self.record_error)
        rform.addRow("", self.record_button)
        rbox = QGroupBox(tr("Record an objection"))
        rbox.setLayout(rform)
        # -- handle the selected objection, close, print
        self.handling = QPlainTextEdit()
        self.handling.setAccessibleName(tr("How it was handled"))
        self.handling.setTabChangesFocus(True)
        self.handling.setMaximumHeight(60)
        self.handle_button = QPushButton(tr("Handle the selected objection"))
        self.handle_error = ErrorLabel()
        self.close_button = QPushButton(tr("Close the notice"))
        self.close_button.setToolTip(tr("After the period has ended with every objection handled; "
                                        "the determinations then become final"))
        self.blockers = QLabel()
        self.blockers.setWordWrap(True)
        self.blockers.setStyleSheet("color: #b3261e;")
        self.blockers.setAccessibleName(tr("Why the notice cannot close yet"))
        self.print_button = QPushButton(tr("Print the notice…"))
        hform = QFormLayout()
        hform.addRow(tr("How it was handled"), self.handling)
        hform.addRow(self.handle_error)
        hform.addRow("", self.handle_button)
        close_row = QHBoxLayout()
        close_row.addWidget(self.close_button)
        close_row.addWidget(self.blockers, 1)
        hform.addRow(close_row)
        hform.addRow("", self.print_button)
        hbox = QGroupBox(tr("Handle and close"))
        hbox.setLayout(hform)

        lists = QSplitter(Qt.Orientation.Horizontal)
        for title, table in ((tr("Masked list, as published"), self.lines), (tr("Objections"), self.objections)):
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            bl.addWidget(QLabel(title))
            bl.addWidget(table, 1)
            lists.addWidget(box)
        lists.setStretchFactor(0, 2)
        lists.setStretchFactor(1, 3)
        forms = QHBoxLayout()
        forms.addWidget(rbox, 1)
        forms.addWidget(hbox, 1)
        self.empty = QLabel(tr("No public notice yet: publish one from the collective review screen."))
        self.empty.hide()
        lay = QVBoxLayout(self)
        lay.addWidget(screen_title(tr("Public notice and objections")))
        lay.addWidget(self.empty)
        lay.addWidget(self.notices)
        lay.addWidget(lists, 1)
        lay.addLayout(forms)

        self.notices.selectionModel().currentRowChanged.connect(lambda *_: self.load_detail())
        self.record_button.clicked.connect(self.record_objection)
        self.handle_button.clicked.connect(self.handle_selected)
        self.close_button.clicked.connect(self.close_notice)
        self.print_button.clicked.connect(self.print_notice)
        self._enable(None)

    @staticmethod
    def _table(model: RowsModel, name: str) -> QTableView:
        t = QTableView()
        t.setModel(model)
        t.setAccessibleName(name)
        t.verticalHeader().hide()
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setWordWrap(True)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        return t

    # -- reading ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.ctx.run(lambda ws: ws.notices.list(), on_done=self._show_notices)

    def _show_notices(self, notices) -> None:
        keep = self.current_notice()
        self.notices_model.set_rows(notices)
        self.empty.setVisible(not notices)
        rows = [i for i, n in enumerate(notices) if n.notice_id == keep] or ([0] if notices else [])
        if rows:
            self.notices.selectRow(rows[0])
            self.load_detail()
        else:
            self._show_detail(None)

    def current_notice(self) -> str | None:
        idx = self.notices.currentIndex()
        return self.notices_model.row_at(idx.row()).notice_id if idx.isValid() else None

    def load_detail(self) -> None:
        nid = self.current_notice()
        if nid:
            self.ctx.run(lambda ws: ws.notices.detail(nid), on_done=self._show_detail)

    def _show_detail(self, detail) -> None:
        self.detail = detail
        if detail is None:
            self.lines_model.set_rows([])
            self.objections_model.set_rows([])
            self._enable(None)
            return
        view = detail.view
        self.lines_model.set_rows(list(enumerate(view.lines, 1)))
        self.objections_model.set_rows(view.objections)
        self.objections.resizeRowsToContents()  # content and handling wrap rather than elide
        keep = self.about.currentData()
        self.about.clear()
        self.about.addItem(tr("The whole notice"), "")
        for s in detail.subjects:
            self.about.addItem(s.label, s.student_id)
        self.about.setCurrentIndex(max(0, self.about.findData(keep)))
        if view.period_start:
            p = view.period_start
            self.received.setMinimumDate(QDate(p.year, p.month, p.day))
        if view.period_end:
            p = view.period_end
            self.received.setMaximumDate(QDate(p.year, p.month, p.day))
        self._enable(view)

    def _enable(self, view) -> None:  # noqa: ANN001
        is_open = view is not None and view.status == "open"
        for w in (self.received, self.about, self.content, self.record_button, self.handling, self.handle_button):
            w.setEnabled(is_open)
        self.print_button.setEnabled(view is not None)
        self.close_button.setEnabled(bool(view is not None and view.can_close))
        if view is None:
            self.blockers.setText("")
        elif view.status != "open":
            self.blockers.setStyleSheet("color: #2e7d32;")
            self.blockers.setText(tr("Closed: the determinations are final."))
        else:
            self.blockers.setStyleSheet("color: #b3261e;")
            self.blockers.setText("".join(problem_text(b) for b in view.blockers))

    # -- writing ------------------------------------------------------------------------------------
    def _after_write(self, _result=None) -> None:
        self.changed.emit()
        self.refresh()

    def record_objection(self) -> None:
        nid = self.current_notice()
        if not nid:
            return
        day = self.received.date().toPython()
        about = self.about.currentData() or ""
        text = self.content.toPlainText()

        def done(_o) -> None:
            self.record_error.show_message("")
            self.content.clear()
            self._after_write()

        self.ctx.run(lambda ws: ws.notices.record_objection(nid, day, text, about), on_done=done,
                     on_error=lambda exc: self.record_error.show_message(user_message(exc)))

    def selected_objection(self) -> str | None:
        idx = self.objections.currentIndex()
        return self.objections_model.row_at(idx.row()).objection_id if idx.isValid() else None

    def handle_selected(self) -> None:
        oid = self.selected_objection()
        if not oid:
            self.handle_error.show_message(tr("Select an objection in the list first."))
            return
        text = self.handling.toPlainText()

        def done(_o) -> None:
            self.handle_error.show_message("")
            self.handling.clear()
            self._after_write()

        self.ctx.run(lambda ws: ws.notices.handle_objection(oid, text), on_done=done,
                     on_error=lambda exc: self.handle_error.show_message(user_message(exc)))

    def close_notice(self) -> None:
        nid = self.current_notice()
        if not nid or not self.ctx.confirm(tr("Close the notice"), tr(
                "Close the notice? Its determinations become final and can no longer be changed.")):
            return

        def done(_n) -> None:
            self.ctx.info(tr("The notice is closed; its determinations are final."))
            self._after_write()

        def failed(exc) -> None:
            self.blockers.setText(user_message(exc))

        self.ctx.run(lambda ws: ws.notices.close(nid), on_done=done, on_error=failed)

    def print_notice(self) -> None:
        from visitapp.ui.printing import print_document
        idx = self.notices.currentIndex()
        if not idx.isValid():
            return
        meeting_id = self.notices_model.row_at(idx.row()).meeting_id
        print_document(self.ctx, f"notice-{meeting_id[:8]}", lambda ws, path: ws.documents.print_notice(meeting_id, path))
