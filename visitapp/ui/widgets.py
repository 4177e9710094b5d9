"""Small building blocks the screens share: a table model over frozen rows, error labels, the
passphrase strength hint."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QLineEdit, QSizePolicy, QTableView

from visitapp.ui.i18n import tr


class RowsModel(QAbstractTableModel):
    """A read-only table over a list of plain rows; columns are (header, getter) pairs."""

    def __init__(self, columns: Sequence[tuple[str, Callable[[Any], Any]]], parent=None):
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self.rows[row]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = self.columns[index.column()][1](self.rows[index.row()])
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.UserRole:
            return self.rows[index.row()]
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section][0]
        return None


class ErrorLabel(QLabel):
    """The red sentence shown next to a field that holds a bad value."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setStyleSheet("color: #b3261e;")
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.hide()

    def show_message(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))


def title_label(text: str = "", grow: int = 3) -> QLabel:
    """A bold heading ``grow`` points above the window's font (so it follows high-DPI and
    the user's font size)."""
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSize(font.pointSize() + grow)
    font.setBold(True)
    label.setFont(font)
    return label


def passphrase_strength(text: str) -> tuple[int, str]:
    """A 0–4 score and a hint; length counts most, since a passphrase is typed, not remembered
    as symbols."""
    if not text:
        return 0, ""
    kinds = sum(bool(any(f(c) for c in text)) for f in (
        str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum(),
        lambda c: "\u4e00" <= c <= "\u9fff"))
    score = 0
    if len(text) >= 8:
        score += 1
    if len(text) >= 12:
        score += 1
    if len(text) >= 16:
        score += 1
    if kinds >= 3:
        score += 1
    hints = [tr("Too short: use at least 8 characters."), tr("Weak: a longer passphrase is safer."),
             tr("Fair: a few more words would help."), tr("Good."), tr("Strong.")]
    if len(text) < 8:
        return 0, hints[0]
    return score, hints[min(score, 4)]


class StrengthHint(QLabel):
    """The coloured strength hint under a new-passphrase field; it follows what is typed there.
    Used wherever a passphrase is chosen (first start, reset with the recovery key)."""

    COLOURS = ["#b3261e", "#b3261e", "#a15c00", "#2e7d32", "#2e7d32"]

    def __init__(self, field: QLineEdit, parent=None):
        super().__init__(parent)
        field.textChanged.connect(self._show)

    def _show(self, text: str) -> None:
        score, hint = passphrase_strength(text)
        self.setText(hint)
        self.setStyleSheet(f"color: {self.COLOURS[score]};")


def rows_table(model: RowsModel, name: str, stretch_all: bool = False, single: bool = False) -> QTableView:
    """A read-only table of ``model`` whose rows are selected whole; columns fit their content
    and the last takes the rest (``stretch_all``: every column shares the width)."""
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.verticalHeader().hide()
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    header = view.horizontalHeader()
    if stretch_all:
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    else:
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
    return view
