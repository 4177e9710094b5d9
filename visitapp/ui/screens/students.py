"""My students: a table model that filters (search by name or class as you type, and the four
filters a teacher asks for), a proxy above it that sorts by the clicked header, a delegate that
paints the model's text, and the term's coverage "本学期已走访 37/52"."""

from __future__ import annotations

import bisect
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar,
    QPushButton, QStyledItemDelegate, QStyleOptionViewItem, QTableView, QVBoxLayout, QWidget,
)

from visitapp.domain.reports import class_sort_key
from visitapp.ui.fit import FlowLayout
from visitapp.ui.i18n import N_, label, tr

FIRST_PAGE = 200
# Looked up once: reading ``Qt.ItemDataRole.DisplayRole`` through PySide's enum lookup in
# every data() call was a fifth of the time of repainting the table.
_DISPLAY, _USER = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.UserRole
# what the proxy sorts by: the text, except the class, which sorts by grade (三年级 before
# 七年级; by code point and by pinyin alike 七 comes first)
_SORT = Qt.ItemDataRole.UserRole + 1
_CLASS_COLUMN = 1
_HAS_DISPLAY = QStyleOptionViewItem.ViewItemFeature.HasDisplay
VISIT_STATUS = {"not_visited": N_("Not visited"), "draft": N_("Draft"), "visited": N_("Visited"),
                "remote": N_("Phone or video only, not visited on site")}


class StudentFilter:
    """What the teacher asked to see: search text (name or class) and the four filters."""

    FLAGS = ("not_visited", "key_support", "no_reward", "no_mentor")

    def __init__(self, text: str = "", not_visited: bool = False, key_support: bool = False,
                 no_reward: bool = False, no_mentor: bool = False):
        self.text = text.strip().lower()
        self.not_visited, self.key_support = bool(not_visited), bool(key_support)
        self.no_reward, self.no_mentor = bool(no_reward), bool(no_mentor)

    def replace(self, text: str | None = None, **flags: bool) -> StudentFilter:
        values = {f: getattr(self, f) for f in self.FLAGS}
        values.update(flags)
        return StudentFilter(self.text if text is None else text, **values)

    @property
    def active(self) -> bool:
        return bool(self.text) or any(getattr(self, f) for f in self.FLAGS)

    def narrows(self, other: StudentFilter) -> bool:
        """Every row this filter accepts is also accepted by ``other`` (typing one more
        character, or ticking one more box), so only ``other``'s rows need testing."""
        return self.text.startswith(other.text) and all(
            getattr(self, f) or not getattr(other, f) for f in self.FLAGS)

    def accepted(self, rows: list, keys: list[str], candidates) -> list[int]:  # noqa: ANN001
        """The positions in ``rows`` (among ``candidates``) this filter lets through, in order."""
        text = self.text
        out = [i for i in candidates if text in keys[i]] if text else list(candidates)
        if self.not_visited:
            out = [i for i in out if rows[i].visit_status != "visited"]
        if self.key_support:
            out = [i for i in out if rows[i].key_support]
        if self.no_reward:
            out = [i for i in out if not rows[i].has_reward]
        if self.no_mentor:
            out = [i for i in out if not rows[i].mentor_names]
        return out


class StudentTableModel(QAbstractTableModel):
    """Rows are the services' frozen ``StudentListItem`` values; cells are computed once per load.

    The model also does the filtering: a keystroke computes the list of rows to show in one
    Python pass and resets the model to it. Letting QSortFilterProxyModel re-filter instead
    calls back into Python once per student (5,000 calls a keystroke) before anything is
    painted; here Qt only ever asks about the rows it shows. The proxy above it sorts."""

    COLUMNS = (N_("Name"), N_("Class"), N_("Stage"), N_("Hardship categories"), N_("Key support"),
               N_("Auto-eligible"), N_("Visit this term"), N_("Mentor"))

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[Any] = []
        self._cells: list[tuple[str, ...]] = []
        self._class_rank: list[int] = []  # each row's class in the school's order of classes
        self.search_keys: list[str] = []
        self._positions: dict[str, int] = {}
        self.filter = StudentFilter()
        self._shown: list[int] | None = None   # positions in ``rows`` on screen; None: all
        self._headers = [tr(h) for h in self.COLUMNS]

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        # The services' order (class, student number) is the order a class teacher reads a
        # roster in. The proxy keeps it until a header is clicked.
        self.rows = list(rows)
        status = {k: tr(v) for k, v in VISIT_STATUS.items()}
        yes = tr("Yes")
        gone = tr("no longer on the roster")
        # A school has a handful of stages and combinations of hardship categories: translate
        # each once, not once per student (that was a tenth of a second at start).
        stages = _Memo(label)
        hardships = _Memo(lambda cats: "、".join(label(c) for c in cats))
        self._cells = [(
            # students the platform dropped keep their records, so they stay listed, marked
            r.name, r.class_name if getattr(r, "on_roster", True) else f"{r.class_name}（{gone}）", stages(r.stage), hardships(tuple(r.hardship_categories)),
            yes if r.key_support else "", yes if r.auto_eligible else "",
            status.get(r.visit_status, r.visit_status), "、".join(r.mentor_names),
        ) for r in self.rows]
        # Lower-cased name + class, so a keystroke is one substring test per row.
        self.search_keys = [f"{r.name}\t{r.class_name}".lower() for r in self.rows]
        ranks = {name: i for i, name in enumerate(sorted({r.class_name for r in self.rows}, key=class_sort_key))}
        self._class_rank = [ranks[r.class_name] for r in self.rows]
        self._positions = {r.id: i for i, r in enumerate(self.rows)}
        self._shown = self.filter.accepted(self.rows, self.search_keys, range(len(self.rows))) \
            if self.filter.active else None
        self.endResetModel()

    def set_filter(self, new: StudentFilter) -> None:
        old, shown = self.filter, self._shown
        if not new.active:
            positions = None
        elif shown is not None and new.narrows(old):
            positions = new.accepted(self.rows, self.search_keys, shown)
        else:
            positions = new.accepted(self.rows, self.search_keys, range(len(self.rows)))
        self.filter = new
        if positions == shown:
            return
        self.beginResetModel()
        self._shown = positions
        self.endResetModel()

    @property
    def total(self) -> int:
        """All loaded students, whatever the filter shows."""
        return len(self.rows)

    def position_of(self, student_id: str) -> int | None:
        """The model row showing ``student_id``, or None when it is filtered out."""
        position = self._positions.get(student_id)
        if position is None or self._shown is None:
            return position
        at = bisect.bisect_left(self._shown, position)  # shown positions are in ascending order
        return at if at < len(self._shown) and self._shown[at] == position else None

    def row_at(self, position: int):  # noqa: ANN201
        return self.rows[position if self._shown is None else self._shown[position]]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        if parent.isValid():
            return 0
        return len(self.rows) if self._shown is None else len(self._shown)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def cell(self, index) -> str:  # noqa: ANN001
        """The text of a cell of this model (not of the proxy)."""
        row = index.row()
        return self._cells[row if self._shown is None else self._shown[row]][index.column()]

    def data(self, index, role=_DISPLAY):
        if role == _DISPLAY:
            return self.cell(index)
        if role == _USER:
            return self.row_at(index.row())
        if role == _SORT:
            if index.column() == _CLASS_COLUMN:
                row = index.row()
                return self._class_rank[row if self._shown is None else self._shown[row]]
            return self.cell(index)
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._headers[section]
        return None


class StudentFilterProxy(QSortFilterProxyModel):
    """Sorts by the clicked header (locale-aware) and forwards the search text and filters to
    the source model, which filters in one pass (see :class:`StudentTableModel`)."""

    def set_filters(self, *, text: str | None = None, **flags: bool) -> None:
        model: StudentTableModel = self.sourceModel()  # type: ignore[assignment]
        model.set_filter(model.filter.replace(text, **flags))


class StudentCellDelegate(QStyledItemDelegate):
    """Paints a cell from the one string the model holds for it.

    The standard delegate asks for seven roles per cell (font, alignment, colours, check
    state, icon, text, background), each through the proxy and into Python; this model answers
    only the text, so the style option is filled from it directly. That halves the cost of
    repainting the table after a keystroke; the look is the standard delegate's."""

    def __init__(self, proxy: QSortFilterProxyModel, model: StudentTableModel, parent=None):
        super().__init__(parent)
        self._proxy, self._model = proxy, model

    def initStyleOption(self, option, index) -> None:  # noqa: N802 - Qt API
        option.index = index
        text = self._model.cell(self._proxy.mapToSource(index))
        if text:
            option.features |= _HAS_DISPLAY
            option.text = text
        option.styleObject = None  # as Qt's own: no style animations inside item views


class _Memo(dict):
    """A per-load cache of a pure function of a hashable value."""

    def __init__(self, fn):  # noqa: ANN001
        super().__init__()
        self.fn = fn

    def __call__(self, key):  # noqa: ANN001, ANN204
        try:
            return self[key]
        except KeyError:
            value = self[key] = self.fn(key)
            return value


class StudentsScreen(QWidget):
    """``open_visit`` / ``open_growth`` carry a student id."""

    open_visit = Signal(str)
    open_growth = Signal(str)

    def __init__(self, ctx: Any, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self._loading = False
        self._requests = 0  # full-list loads asked for; only the latest queued one runs
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
        self.proxy.setSortRole(_SORT)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setItemDelegate(StudentCellDelegate(self.proxy, self.model, self.table))
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
        self.search.setMinimumWidth(240)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 2)
        flags = FlowLayout()  # the four filters wrap under each other on a narrow screen
        for w in (self.f_not_visited, self.f_key, self.f_no_reward, self.f_no_mentor):
            flags.addWidget(w)
        filters.addLayout(flags)
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
        selected = self.selected_id()
        self.proxy.set_filters(**kw)
        if selected:
            self.select_id(selected)  # a reset drops the selection; keep it if still shown
        self._update_count()

    def _update_count(self) -> None:
        self.count_label.setText(tr("{shown} of {total} students").format(
            shown=self.proxy.rowCount(), total=self.model.total))

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
        row = self.model.position_of(student_id)
        if row is None:
            return
        idx = self.proxy.mapFromSource(self.model.index(row, 0))
        if idx.isValid():
            self.table.selectRow(idx.row())
            self.table.setCurrentIndex(idx)

    def refresh(self) -> None:
        """Reload the list. The first time, one page comes first so a large school's window is
        usable at once; the whole list (needed for search and coverage) follows.

        Asked twice in a row (unlocking does: the shell appears, then the list is opened), the
        earlier of two queued loads is skipped on the worker: the later one starts after it on
        the same worker and so sees at least as much."""
        if not self.model.rows and not self._loading:
            self._loading = True
            self.count_label.setText(tr("Loading the students…"))
            self.ctx.run(lambda ws: (ws.students.list_mine(limit=FIRST_PAGE), False),
                         on_done=self.show_data, on_error=self._failed)
        self._requests += 1
        request = self._requests

        def load(ws):
            if request != self._requests:
                return None  # a later load is queued behind this one
            return ws.students.list_mine(), None

        self.ctx.run(load, on_done=self.show_data, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.ctx.show_error(exc)

    def show_data(self, result) -> None:
        if result is None:
            return  # skipped: superseded by a later load
        rows, coverage = result
        partial = coverage is False
        if partial and self.model.rows:
            return  # the whole list already arrived
        selected = self.selected_id() if self.model.rows else None
        self.model.set_rows(rows)
        if partial:
            self.count_label.setText(tr("Loading the students…"))
            return
        self._loading = False
        if coverage is None:  # counted here rather than asking the services to list again
            roster = [r for r in rows if getattr(r, "on_roster", True)]  # as StudentService.coverage
            coverage = SimpleNamespace(visited=sum(r.visit_status == "visited" for r in roster),
                                       total=len(roster), remote=sum(r.visit_status == "remote" for r in roster))
        self.show_coverage(coverage)
        self._update_count()
        if selected:
            self.select_id(selected)

    def show_coverage(self, coverage) -> None:
        text = tr("Visited this term: {visited}/{total}").format(visited=coverage.visited, total=coverage.total)
        remote = getattr(coverage, "remote", 0)
        if remote:  # on site only counts; phone and video are shown, not counted
            text += tr(" ({n} by phone or video only, not visited on site)").format(n=remote)
        self.coverage_label.setText(text)
        self.coverage_bar.setMaximum(max(coverage.total, 1))
        self.coverage_bar.setValue(coverage.visited)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
