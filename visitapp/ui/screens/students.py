"""My students: a table model and a filter proxy (search by name or class as you type, and
the four filters a teacher asks for), and the term's coverage "本学期已走访 37/52"."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar,
    QPushButton, QTableView, QVBoxLayout, QWidget,
)

from visitapp.ui.i18n import N_, label, tr

FIRST_PAGE = 200
VISIT_STATUS = {"not_visited": N_("Not visited"), "draft": N_("Draft"), "visited": N_("Visited")}


def _yes(flag: bool) -> str:
    return tr("Yes") if flag else ""


class StudentTableModel(QAbstractTableModel):
    """Rows are the services' frozen ``StudentRow`` values; cells are computed once per load."""

    COLUMNS = (N_("Name"), N_("Class"), N_("Stage"), N_("Hardship categories"), N_("Key support"),
               N_("Auto-eligible"), N_("Visit this term"), N_("Mentor"))

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[Any] = []
        self._cells: list[tuple[str, ...]] = []
        self.search_keys: list[str] = []
        self._headers = [tr(h) for h in self.COLUMNS]

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        # The services' order (class, student number) is the order a class teacher reads a
        # roster in. The proxy keeps it until a header is clicked, so filtering never re-sorts
        # 5,000 rows through Python.
        self.rows = list(rows)
        status = {k: tr(v) for k, v in VISIT_STATUS.items()}
        yes = tr("Yes")
        self._cells = [(
            r.name, r.class_name, label(r.stage),
            "、".join(label(c) for c in r.hardship_categories),
            yes if r.key_support else "", yes if r.auto_eligible else "",
            status.get(r.visit_status, r.visit_status), "、".join(r.mentor_names),
        ) for r in self.rows]
        # Lower-cased name + class, so a keystroke is one substring test per row.
        self.search_keys = [f"{r.name}\t{r.class_name}".lower() for r in self.rows]
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.UserRole:
            return self.rows[index.row()]
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._headers[section]
        return None


class StudentFilterProxy(QSortFilterProxyModel):
    """Search text and filters are applied in one pass over the rows when they change; the
    per-row callback from Qt is then a set lookup, which keeps a keystroke on 5,000 students
    well under 30 ms."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.text = ""
        self.not_visited = self.key_support = self.no_reward = self.no_mentor = False
        self._accepted: set[int] | None = None

    def set_filters(self, *, text: str | None = None, **flags: bool) -> None:
        if text is not None:
            self.text = text.strip().lower()
        for k, v in flags.items():
            setattr(self, k, bool(v))
        self._compute()
        # One "layout changed" for the view instead of a removed/inserted signal per range
        # of rows, which made a keystroke on 5,000 students cost several times more.
        self.invalidate()

    def _compute(self) -> None:
        model: StudentTableModel = self.sourceModel()  # type: ignore[assignment]
        if model is None:
            self._accepted = None
            return
        text, rows, keys = self.text, model.rows, model.search_keys
        if not (text or self.not_visited or self.key_support or self.no_reward or self.no_mentor):
            self._accepted = None
            return
        accepted = set()
        for i, r in enumerate(rows):
            if text and text not in keys[i]:
                continue
            if self.not_visited and r.visit_status == "visited":
                continue
            if self.key_support and not r.key_support:
                continue
            if self.no_reward and r.has_reward:
                continue
            if self.no_mentor and r.mentor_names:
                continue
            accepted.add(i)
        self._accepted = accepted

    def filterAcceptsRow(self, source_row, source_parent) -> bool:  # noqa: N802 - Qt API
        return self._accepted is None or source_row in self._accepted


class StudentsScreen(QWidget):
    """``open_visit`` / ``open_growth`` carry a student id."""

    open_visit = Signal(str)
    open_growth = Signal(str)

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self._loading = False
        self.coverage_label = QLabel()
        self.coverage_bar = QProgressBar()
        self.coverage_bar.setTextVisible(False)
        self.coverage_bar.setMaximumHeight(10)
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("Search by name or class"))
        self.search.setAccessibleName(tr("Search by name or class"))
        self.search.setClearButtonEnabled(True)
        self.f_not_visited = QCheckBox(tr("Not yet visited"))
        self.f_key = QCheckBox(tr("Key support"))
        self.f_no_reward = QCheckBox(tr("No growth reward"))
        self.f_no_mentor = QCheckBox(tr("No mentor"))
        self.model = StudentTableModel(self)
        self.proxy = StudentFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortLocaleAware(True)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)  # one line per cell: a wrapped layout per cell per paint is slow
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName(tr("My students"))
        self.count_label = QLabel()
        self.visit_button = QPushButton(tr("Write visit record"))
        self.growth_button = QPushButton(tr("Open growth file"))
        top = QHBoxLayout()
        top.addWidget(self.coverage_label)
        top.addWidget(self.coverage_bar, 1)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 2)
        for w in (self.f_not_visited, self.f_key, self.f_no_reward, self.f_no_mentor):
            filters.addWidget(w)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label)
        bottom.addStretch()
        bottom.addWidget(self.visit_button)
        bottom.addWidget(self.growth_button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(filters)
        lay.addWidget(self.table, 1)
        lay.addLayout(bottom)
        self.search.textChanged.connect(lambda t: self._apply(text=t))
        self.f_not_visited.toggled.connect(lambda v: self._apply(not_visited=v))
        self.f_key.toggled.connect(lambda v: self._apply(key_support=v))
        self.f_no_reward.toggled.connect(lambda v: self._apply(no_reward=v))
        self.f_no_mentor.toggled.connect(lambda v: self._apply(no_mentor=v))
        self.table.doubleClicked.connect(lambda _i: self._emit(self.open_visit))
        self.visit_button.clicked.connect(lambda: self._emit(self.open_visit))
        self.growth_button.clicked.connect(lambda: self._emit(self.open_growth))
        self.setTabOrder(self.search, self.f_not_visited)
        self.setTabOrder(self.f_not_visited, self.f_key)
        self.setTabOrder(self.f_key, self.f_no_reward)
        self.setTabOrder(self.f_no_reward, self.f_no_mentor)
        self.setTabOrder(self.f_no_mentor, self.table)
        self.setTabOrder(self.table, self.visit_button)
        self.setTabOrder(self.visit_button, self.growth_button)

    def _apply(self, **kw) -> None:
        self.proxy.set_filters(**kw)
        self._update_count()

    def _update_count(self) -> None:
        self.count_label.setText(tr("{shown} of {total} students").format(
            shown=self.proxy.rowCount(), total=self.model.rowCount()))

    def _emit(self, signal) -> None:
        sid = self.selected_id()
        if sid:
            signal.emit(sid)
        else:
            self.ctx.info(tr("Select a student first."))

    def selected_id(self) -> str | None:
        idx = self.table.selectionModel().currentIndex()
        if not idx.isValid():
            rows = self.table.selectionModel().selectedRows()
            if not rows:
                return None
            idx = rows[0]
        return self.proxy.data(idx, Qt.ItemDataRole.UserRole).id

    def select_id(self, student_id: str) -> None:
        for r in range(self.proxy.rowCount()):
            idx = self.proxy.index(r, 0)
            if self.proxy.data(idx, Qt.ItemDataRole.UserRole).id == student_id:
                self.table.selectRow(r)
                self.table.setCurrentIndex(idx)
                return

    def refresh(self) -> None:
        """Reload the list. The first time, one page comes first so a large school's window is
        usable at once; the whole list (needed for search and coverage) follows."""
        if not self.model.rows and not self._loading:
            self._loading = True
            self.count_label.setText(tr("Loading the students…"))
            self.ctx.run(lambda ws: (ws.students.list_mine(limit=FIRST_PAGE), False),
                         on_done=self.show_data, on_error=self._failed)
        self.ctx.run(lambda ws: (ws.students.list_mine(), None), on_done=self.show_data,
                     on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.ctx.show_error(exc)

    def show_data(self, result) -> None:
        rows, coverage = result
        partial = coverage is False
        if partial and self.model.rows:
            return  # the whole list already arrived
        selected = self.selected_id() if self.model.rows else None
        self.model.set_rows(rows)
        self.proxy.set_filters()
        if partial:
            self.count_label.setText(tr("Loading the students…"))
            return
        self._loading = False
        if coverage is None:  # counted here rather than asking the services to list again
            roster = [r for r in rows if getattr(r, "on_roster", True)]  # as StudentService.coverage
            coverage = SimpleNamespace(visited=sum(r.visit_status == "visited" for r in roster),
                                       total=len(roster))
        self.show_coverage(coverage)
        self._update_count()
        if selected:
            self.select_id(selected)

    def show_coverage(self, coverage) -> None:
        self.coverage_label.setText(tr("Visited this term: {visited}/{total}").format(
            visited=coverage.visited, total=coverage.total))
        self.coverage_bar.setMaximum(max(coverage.total, 1))
        self.coverage_bar.setValue(coverage.visited)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
