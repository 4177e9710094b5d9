"""Conflicts: both values side by side; keep one, or merge by hand, and give a reason."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QPlainTextEdit, QPushButton, QVBoxLayout, QWidget,
)

from visitapp.domain import ValidationError
from visitapp.ui.i18n import label, tr
from visitapp.ui.errors import problems_text
from visitapp.ui.widgets import ErrorLabel


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict) and "text" in value:
        return str(value["text"])
    return str(value)


class ConflictsScreen(QWidget):
    changed = Signal()

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.current: Any = None
        self.list = QListWidget()
        self.list.setAccessibleName(tr("Open conflicts"))
        self.empty = QLabel(tr("No conflicts. Everything agrees with the school server."))
        self.mine = QPlainTextEdit()
        self.mine.setReadOnly(True)
        self.mine.setAccessibleName(tr("Value on this computer"))
        self.theirs = QPlainTextEdit()
        self.theirs.setReadOnly(True)
        self.theirs.setAccessibleName(tr("Value from the other device"))
        self.merged = QPlainTextEdit()
        self.merged.setAccessibleName(tr("Value to keep"))
        self.merged.setTabChangesFocus(True)
        self.reason = QLineEdit()
        self.reason.setAccessibleName(tr("Reason"))
        self.reason.setPlaceholderText(tr("Why this value? (kept in the audit trail)"))
        self.use_mine = QPushButton(tr("Keep mine"))
        self.use_theirs = QPushButton(tr("Keep theirs"))
        self.resolve_button = QPushButton(tr("Resolve"))
        self.error = ErrorLabel()
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(QLabel(tr("On this computer")), 0, 0)
        grid.addWidget(QLabel(tr("From the other device")), 0, 1)
        grid.addWidget(self.mine, 1, 0)
        grid.addWidget(self.theirs, 1, 1)
        grid.addWidget(self.use_mine, 2, 0)
        grid.addWidget(self.use_theirs, 2, 1)
        detail = QVBoxLayout()
        detail.addWidget(self.heading)
        detail.addLayout(grid)
        detail.addWidget(QLabel(tr("Value to keep (edit to merge by hand)")))
        detail.addWidget(self.merged)
        detail.addWidget(QLabel(tr("Reason")))
        detail.addWidget(self.reason)
        detail.addWidget(self.error)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.resolve_button)
        detail.addLayout(row)
        box = QGroupBox(tr("Conflict"))
        box.setLayout(detail)
        self.detail_box = box
        left = QVBoxLayout()
        left.addWidget(self.list)
        left.addWidget(self.empty)
        lay = QHBoxLayout(self)
        lay.addLayout(left, 1)
        lay.addWidget(box, 3)
        self.list.currentItemChanged.connect(self._show)
        self.use_mine.clicked.connect(lambda: self.merged.setPlainText(self.mine.toPlainText()))
        self.use_theirs.clicked.connect(lambda: self.merged.setPlainText(self.theirs.toPlainText()))
        self.resolve_button.clicked.connect(self.resolve)
        box.setEnabled(False)

    def refresh(self) -> None:
        def work(ws):
            out = []
            for c in ws.conflicts.list_open():
                name = ""
                if c.student_id:
                    try:
                        name = ws.students.get(c.student_id).name
                    except Exception:  # noqa: BLE001 - a purged student still shows its conflict
                        name = ""
                out.append((c, name))
            return out

        self.ctx.run(work, on_done=self._show_list)

    def _show_list(self, items) -> None:
        self.list.clear()
        for c, name in items:
            what = label(c.field_name) if c.field_name else label(c.record_kind)
            item = QListWidgetItem(f"{name}  {what}".strip())
            item.setData(Qt.ItemDataRole.UserRole, (c, name))
            self.list.addItem(item)
        self.empty.setVisible(not items)
        self.detail_box.setEnabled(bool(items))
        if items:
            self.list.setCurrentRow(0)
        else:
            self.current = None
            for w in (self.mine, self.theirs, self.merged):
                w.clear()
            self.heading.clear()

    def _show(self, item, _prev=None) -> None:
        if item is None:
            return
        c, name = item.data(Qt.ItemDataRole.UserRole)
        self.current = c
        what = label(c.field_name) if c.field_name else label(c.record_kind)
        self.heading.setText(tr("{student}: \u201c{field}\u201d was changed on two devices. "
                                "Both values are kept until you decide.").format(student=name, field=what))
        self.mine.setPlainText(_text(c.local_value))
        self.theirs.setPlainText(_text(c.remote_value))
        self.merged.setPlainText(_text(c.remote_value))
        self.reason.clear()
        self.error.show_message("")

    def resolve(self) -> None:
        if self.current is None:
            return
        reason = self.reason.text().strip()
        if not reason:
            self.error.show_message(tr("Give a reason for your choice."))
            return
        cid, value = self.current.id, self.merged.toPlainText()

        def failed(exc):
            if isinstance(exc, ValidationError):
                self.error.show_message(problems_text(exc.problems))
            else:
                self.ctx.show_error(exc)

        self.ctx.run(lambda ws: ws.conflicts.resolve(cid, value, reason),
                     on_done=lambda _r: (self.ctx.info(tr("The conflict was resolved.")),
                                         self.changed.emit(), self.refresh()),
                     on_error=failed)
