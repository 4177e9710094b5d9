"""The officer's data-quality report ("3 × 100%, 3 × zero errors") and the coverage report
("six full coverages", 六个全覆盖), per class and for the school, with a chart.

Every count is the length of the list behind it, so a number on screen can always be opened
to the students it counts. Pure functions over domain entities, returning frozen dataclasses
that the officer's desktop screens show as they are. One implementation for both sides: the
officer's laptop runs them over its whole-school local data (``visitapp.services.reports``)
and the school server's CLI over its records (``sync_server.platform.quality`` re-exports).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from visitapp.domain import rules
from visitapp.domain.entities import (
    Assignment, Conflict, Determination, GrowthEntry, GrowthProfileField, MentorNote, Student, Visit,
)
from visitapp.domain.enums import AssignmentRole, ConflictStatus, GrowthKind, Level, MentorNoteKind
from visitapp.domain.entities import Application, RecordReview
from visitapp.domain.enums import VisitStatus, label_zh
from visitapp.domain.record_review import latest_reviews, review_state
from visitapp.domain.terms import term_bounds, term_label

STALE_CONFLICT_DAYS = 7
VISIT_WINDOW_DAYS = 60  # a visit is overdue this many days into the term (or at term end)

CHECKS_ZH = {
    "missing_fields": "必填项缺失",
    "overdue_visits": "本学期家访逾期",
    "key_without_mentor": "重点帮扶对象未配备育人导师",
    "hardship_without_reward": "困难学生无成长奖励",
    "file_without_visit": "成长档案无家访记录",
    "duplicate_visits": "疑似重复家访",
    "stale_conflicts": "超过 7 天未处理的冲突",
    "mentor_notes_overdue": "导师记录超期未写",
    "no_case_discussion": "本学期未开展常态化研讨",
}
# issue 15: shown when the caller passes the applications / the reviews (the officer's laptop and the
# server's `platform quality` do)
APPLICATION_CHECKS_ZH = {
    "application_without_visit": "已申请但本学期未实地家访",
    "visit_without_application": "已家访或认定但无申请记录（免申即享的除外）",
}
REVIEW_CHECKS_ZH = {"unreviewed_records": "已定稿记录未审核（谁审核谁负责）"}
COVERAGES_ZH = {
    "support_centre": "学生发展支持中心",
    "visits": "家访全覆盖",
    "rewards": "成长奖励全覆盖",
    "growth_files": "成长档案全覆盖",
    "mentors": "育人导师配备全覆盖",
    "case_discussions": "常态化研讨全覆盖",
}
# The caption every report carries with its home-visit numbers (the rule of 先家访后认定).
VISITS_RULE_ZH = "家访只计已定稿的实地走访；电话、视频家访另行列出，不计入。"
# The plan (§5 四): 学校记录家庭走访、学生特点、成长奖励等情况 — a growth file counts only with all three.
GROWTH_FILE_RULE_ZH = "成长档案须同时有已定稿的实地家访、学生特点（特长或兴趣）和成长奖励，才计为已建立。"
# 定期记录: a key-support student's mentor writes at least this often (days; a school setting)
MENTOR_NOTE_DAYS = 30
MENTOR_NOTE_DAYS_RANGE = (7, 180)  # what the setting, and the server's --mentor-note-days, accept
TRAIT_FIELDS = frozenset({"strengths", "interests"})
_STUDENT_FIELDS_ZH = {"name": "姓名", "class_name": "班级", "masked_id": "身份证号（脱敏）", "platform_ref": "平台编号"}


@dataclass(frozen=True)
class Issue:
    student_id: str
    name: str
    class_name: str
    detail: str


@dataclass(frozen=True)
class Check:
    code: str
    title: str
    items: tuple[Issue, ...]

    @property
    def count(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class ClassQuality:
    class_name: str
    checks: tuple[Check, ...]

    @property
    def total(self) -> int:
        return sum(c.count for c in self.checks)


@dataclass(frozen=True)
class DataQualityReport:
    term: str
    today: dt.date
    school: tuple[Check, ...]
    classes: tuple[ClassQuality, ...]

    def to_json(self) -> dict:
        def check(c: Check) -> dict:
            return {"code": c.code, "title": c.title, "count": c.count, "items": [i.__dict__ for i in c.items]}
        return {"term": self.term, "today": self.today.isoformat(), "school": [check(c) for c in self.school],
                "classes": [{"class_name": k.class_name, "checks": [check(c) for c in k.checks]} for k in self.classes]}


@dataclass(frozen=True)
class Coverage:
    code: str
    title: str
    covered: int
    total: int
    measured: bool = True  # False: our data cannot show it (the school reports it itself)
    missing: tuple[str, ...] = ()  # student ids not covered
    # why a missing student is missing, where there is more to say: for 家访全覆盖, a student
    # with phone or video visits only -> "电话家访 1 次，未实地走访"
    notes: tuple[tuple[str, str], ...] = ()

    @property
    def percent(self) -> float | None:
        if not self.measured or self.total == 0:
            return None
        return round(100.0 * self.covered / self.total, 1)


@dataclass(frozen=True)
class CoverageRow:
    class_name: str  # "全校" for the school row
    coverages: tuple[Coverage, ...]


@dataclass(frozen=True)
class CoverageReport:
    term: str
    school: CoverageRow
    classes: tuple[CoverageRow, ...]


_CN_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", 1)}
_GRADE_RE = re.compile(r"^(?:(?P<pre>[小中大])班?|(?P<cn>[一二三四五六七八九])年级|(?P<num>\d{1,2})年级|高(?P<hi>[一二三]))")
_SECTION_RE = re.compile(r"[(（](\d+)[)）]")


def class_sort_key(name: str) -> tuple:
    """大(1)班 < 一年级(2)班 < 一年级(10)班 < 九年级(1)班 < 高一(1)班; unknown names last, by name."""
    m = _GRADE_RE.match(name)
    grade = 99
    if m:
        if m.group("pre"):
            grade = {"小": -2, "中": -1, "大": 0}[m.group("pre")]
        elif m.group("cn"):
            grade = _CN_DIGITS[m.group("cn")]
        elif m.group("num"):
            grade = int(m.group("num"))
        else:
            grade = 9 + _CN_DIGITS[m.group("hi")]
    sec = _SECTION_RE.search(name)
    return (grade, int(sec.group(1)) if sec else 0, name)


def _school_year(term: str) -> tuple[dt.date, dt.date]:
    start_year = int(term.split("-")[0])
    return dt.date(start_year, 9, 1), dt.date(start_year + 1, 8, 31)


def _is_hardship(s: Student, level: Level | None) -> bool:
    return bool(s.hardship_categories) or (level is not None and level != Level.NONE) or s.auto_eligible


def _active_mentors(assignments: Iterable[Assignment], term: str) -> set[str]:
    return {a.student_id for a in assignments
            if a.role == AssignmentRole.MENTOR and a.active and (not a.term or a.term == term)}


def _levels(determinations: Iterable[Determination], term: str) -> dict[str, Level]:
    out: dict[str, Level] = {}
    for d in determinations:
        if d.term == term:
            out[d.student_id] = d.level
    return out


def _growth_file_gaps(students: Iterable[Student], visits: list[Visit], entries: list[GrowthEntry],
                      profile_fields: Iterable[GrowthProfileField]) -> dict[str, str]:
    """For each student whose growth file is not complete (GROWTH_FILE_RULE_ZH), what it lacks.
    Traits count when a strengths or interests field exists: the server sees that much (the
    value itself is tier C), so the laptop and the server count alike."""
    visited = {v.student_id for v in rules.on_site_visits(visits)}
    traits = {p.student_id for p in profile_fields if str(p.field) in TRAIT_FIELDS}
    rewarded = {e.student_id for e in entries if e.kind == GrowthKind.REWARD}
    gaps = {}
    for s in students:
        missing = [zh for zh, ok in (("实地家访", s.id in visited), ("学生特点", s.id in traits),
                                     ("成长奖励", s.id in rewarded)) if not ok]
        if missing:
            gaps[s.id] = "成长档案缺少：" + "、".join(missing)
    return gaps


def _mentor_problems(students: list[Student], notes: Iterable[MentorNote], mentored: set[str], term: str,
                     today: dt.date, every_days: int) -> tuple[dict[str, str], dict[str, str]]:
    """Key-support students whose mentor has not written for ``every_days`` (定期记录), and
    those with no case discussion this term once half of it has passed (常态化研讨)."""
    term_start, term_end = term_bounds(term)
    last: dict[str, dt.date] = {}
    discussed: set[str] = set()
    for n in notes:
        if n.conflict_of or n.note_date is None:
            continue
        if n.student_id not in last or n.note_date > last[n.student_id]:
            last[n.student_id] = n.note_date
        if n.kind == MentorNoteKind.CASE_DISCUSSION and term_start <= n.note_date <= term_end:
            discussed.add(n.student_id)
    overdue, undiscussed = {}, {}
    halfway = term_start + (term_end - term_start) / 2
    for s in students:
        if not s.key_support or s.id not in mentored:
            continue
        seen = last.get(s.id)
        if seen is None and (today - term_start).days > every_days:
            overdue[s.id] = f"本学期还没有导师记录（应每 {every_days} 天至少一次）"
        elif seen is not None and (today - seen).days > every_days:
            overdue[s.id] = f"最近一次导师记录在 {seen}，已 {(today - seen).days} 天"
        if today > halfway and s.id not in discussed:
            undiscussed[s.id] = "本学期已过半，尚无常态化研讨记录"
    return overdue, undiscussed


def data_quality(term: str, today: dt.date, students: Iterable[Student], visits: Iterable[Visit],
                 determinations: Iterable[Determination], entries: Iterable[GrowthEntry],
                 profile_fields: Iterable[GrowthProfileField], assignments: Iterable[Assignment],
                 conflicts: Iterable[Conflict], visit_window_days: int = VISIT_WINDOW_DAYS,
                 notes: Iterable[MentorNote] = (), mentor_note_days: int = MENTOR_NOTE_DAYS,
                 applications: Iterable[Application] | None = None,
                 reviews: Iterable[RecordReview] | None = None) -> DataQualityReport:
    """Nine checks, per class and for the school, each with the students behind its count;
    with ``applications`` the two checks of the chain 申请 → 家访 → 认定, with ``reviews`` the
    count of finalized records nobody has reviewed yet (issue 15)."""
    students = [s for s in students if s.on_roster]
    by_id = {s.id: s for s in students}
    visits = list(visits)
    final_visits = rules.current_version(visits)
    # 家访 is a finalized on-site visit, as for 先家访后认定; phone and video are named in the detail
    visited_term = rules.visited_on_site(term, visits)
    visited_ever = {v.student_id for v in rules.on_site_visits(visits)}
    remote = rules.remote_only(term, visits)
    determinations = list(determinations)
    levels = _levels(determinations, term)
    entries = list(entries)
    year_start, year_end = _school_year(term)
    rewarded = {e.student_id for e in entries if e.kind == GrowthKind.REWARD and e.entry_date
                and year_start <= e.entry_date <= year_end}
    with_file = {p.student_id for p in profile_fields} | {e.student_id for e in entries if e.source == "school"}
    mentored = _active_mentors(assignments, term)
    term_start, term_end = term_bounds(term)
    due = min(term_end, term_start + dt.timedelta(days=visit_window_days))

    titles = dict(CHECKS_ZH)
    if applications is not None:
        titles.update(APPLICATION_CHECKS_ZH)
    if reviews is not None:
        titles.update(REVIEW_CHECKS_ZH)
    found: dict[str, list[Issue]] = {code: [] for code in titles}

    def add(code: str, sid: str, detail: str) -> None:
        s = by_id.get(sid)
        if s is not None:
            found[code].append(Issue(sid, s.name, s.class_name, detail))

    for s in students:
        missing = [zh for f, zh in _STUDENT_FIELDS_ZH.items() if not str(getattr(s, f) or "").strip()]
        if missing:
            add("missing_fields", s.id, "学生缺少：" + "、".join(missing))
    for v in final_visits:
        missing = [zh for zh, bad in (("家访日期", v.visit_date is None), ("家访方式", v.mode is None),
                                      ("家访教师", not any(x.strip() for x in v.visitors))) if bad]
        if missing:
            add("missing_fields", v.student_id, "家访记录缺少：" + "、".join(missing))
    for e in entries:
        if e.kind == GrowthKind.REWARD and (e.entry_date is None or not e.title.strip() or e.reward_kind is None):
            add("missing_fields", e.student_id, "成长奖励缺少日期、名称或类型")
    for d in determinations:
        if d.term == term and d.review_date is None:
            add("missing_fields", d.student_id, "认定结果缺少评议日期")
    if today > due:
        for s in students:
            if s.id not in visited_term:
                add("overdue_visits", s.id, f"应于 {due} 前完成实地家访"
                    + (f"（{remote[s.id]}）" if s.id in remote else ""))
    for s in students:
        if s.key_support and s.id not in mentored:
            add("key_without_mentor", s.id, "重点帮扶对象尚未配备育人导师")
        if _is_hardship(s, levels.get(s.id)) and s.id not in rewarded:
            add("hardship_without_reward", s.id, "本学年尚无成长奖励")
        if s.id in with_file and s.id not in visited_ever:
            add("file_without_visit", s.id, "成长档案中没有已定稿的实地家访记录"
                + (f"（{remote[s.id]}）" if s.id in remote else ""))
    overdue_notes, undiscussed = _mentor_problems(students, notes, mentored, term, today, mentor_note_days)
    for sid, why in overdue_notes.items():
        add("mentor_notes_overdue", sid, why)
    for sid, why in undiscussed.items():
        add("no_case_discussion", sid, why)
    for c in conflicts:
        if c.status != ConflictStatus.OPEN:
            continue
        if c.field_name == "possible_duplicate":
            add("duplicate_visits", c.student_id, "同一天有两条实地家访记录，请核实")
        created = c.created_at
        if created is not None:
            if created.tzinfo is None:
                created = created.replace(tzinfo=dt.timezone.utc)
            age = (dt.datetime.combine(today, dt.time(23, 59), tzinfo=dt.timezone.utc) - created).days
            if age > STALE_CONFLICT_DAYS:
                add("stale_conflicts", c.student_id, f"冲突已 {age} 天未处理")

    _chain_checks(term, students, final_visits, determinations, entries, applications, reviews, add)
    school = tuple(Check(code, titles[code], tuple(items)) for code, items in found.items())
    per_class: dict[str, dict[str, list[Issue]]] = defaultdict(lambda: {code: [] for code in titles})
    for s in students:
        per_class[s.class_name]  # every class appears, even a clean one
    for code, items in found.items():
        for it in items:
            per_class[it.class_name][code].append(it)
    classes = tuple(ClassQuality(name, tuple(Check(code, titles[code], tuple(v)) for code, v in checks.items()))
                    for name, checks in sorted(per_class.items(), key=lambda kv: class_sort_key(kv[0])))
    return DataQualityReport(term, today, school, classes)


def _chain_checks(term: str, students: list[Student], final_visits: list[Visit], determinations: list[Determination],
                  entries: list[GrowthEntry], applications: Iterable[Application] | None,
                  reviews: Iterable[RecordReview] | None, add) -> None:  # noqa: ANN001
    """Issue 15: 申请 without a visit, a visit or determination without the application it
    needs (免申即享 students need none), and finalized records nobody reviewed."""
    if applications is not None:
        applied = {a.student_id for a in applications if a.term == term}
        visited = {v.student_id for v in final_visits if rules.counts_as_visit(v) and v.term == term}
        determined = {d.student_id for d in determinations if d.term == term}
        for s in students:
            if s.id in applied and s.id not in visited:
                add("application_without_visit", s.id, "本学期已登记申请，尚无已定稿的实地家访（先家访后认定）")
            if s.id not in applied and not s.auto_eligible and (s.id in visited or s.id in determined):
                what = "已有认定结果" if s.id in determined else "已实地家访"
                add("visit_without_application", s.id, f"{what}，但本学期没有申请记录")
    if reviews is not None:
        latest = latest_reviews(reviews)
        for v in final_visits:
            if v.term == term and v.status == VisitStatus.FINAL and not review_state(v, latest.get(v.id)).reviewed:
                add("unreviewed_records", v.student_id, f"家访记录（{v.visit_date or '无日期'}）"
                    f"{label_zh(review_state(v, latest.get(v.id)).status)}")
        start, end = term_bounds(term)
        for e in entries:
            if e.source == "school" and e.entry_date and start <= e.entry_date <= end \
                    and not review_state(e, latest.get(e.id)).reviewed:
                add("unreviewed_records", e.student_id, f"成长档案“{e.title}”{label_zh(review_state(e, latest.get(e.id)).status)}")


def coverage(term: str, students: Iterable[Student], visits: Iterable[Visit], determinations: Iterable[Determination],
             entries: Iterable[GrowthEntry], profile_fields: Iterable[GrowthProfileField],
             assignments: Iterable[Assignment], notes: Iterable[MentorNote],
             support_centre: bool | None = None) -> CoverageReport:
    """The six full coverages per class and for the school. The first (a student development
    support centre) is a fact about the school that the officer records per term (issue 15;
    ``visitapp.services.support``): pass whether it is recorded, or it is shown
    as not measured."""
    students = [s for s in students if s.on_roster]
    visits = list(visits)
    visited = rules.visited_on_site(term, visits)  # on site only: phone and video cover nobody
    remote = rules.remote_only(term, visits)
    levels = _levels(determinations, term)
    entries = list(entries)
    year_start, year_end = _school_year(term)
    rewarded = {e.student_id for e in entries if e.kind == GrowthKind.REWARD and e.entry_date
                and year_start <= e.entry_date <= year_end}
    file_gaps = _growth_file_gaps(students, visits, entries, profile_fields)
    complete_file = {s.id for s in students if s.id not in file_gaps}
    mentored = _active_mentors(assignments, term)
    term_start, term_end = term_bounds(term)
    discussed = {n.student_id for n in notes if n.kind == MentorNoteKind.CASE_DISCUSSION and n.note_date
                 and term_start <= n.note_date <= term_end}

    def row(name: str, group: list[Student]) -> CoverageRow:
        hardship = [s for s in group if _is_hardship(s, levels.get(s.id))]
        key = [s for s in group if s.key_support]

        def cov(code: str, pool: list[Student], covered: set[str], notes: dict[str, str] | None = None) -> Coverage:
            miss = tuple(s.id for s in pool if s.id not in covered)
            why = tuple((sid, notes[sid]) for sid in miss if notes and sid in notes)
            return Coverage(code, COVERAGES_ZH[code], len(pool) - len(miss), len(pool), True, miss, why)

        centre = Coverage("support_centre", COVERAGES_ZH["support_centre"], int(bool(support_centre)), 1,
                          measured=support_centre is not None)
        return CoverageRow(name, (centre, cov("visits", group, visited, remote), cov("rewards", hardship, rewarded),
                                  cov("growth_files", hardship, complete_file, file_gaps), cov("mentors", key, mentored),
                                  cov("case_discussions", key, discussed)))

    by_class: dict[str, list[Student]] = defaultdict(list)
    for s in students:
        by_class[s.class_name].append(s)
    return CoverageReport(term, row("全校", students), tuple(row(k, v) for k, v in sorted(by_class.items(), key=lambda kv: class_sort_key(kv[0]))))


def _color(pct: float | None) -> str:
    if pct is None:
        return "#e0e0e0"
    if pct >= 100:
        return "#2e7d32"
    if pct >= 90:
        return "#9ccc65"
    if pct >= 70:
        return "#ffca28"
    return "#ef5350"


def coverage_svg(report: CoverageReport, max_classes: int = 60) -> str:
    """A self-contained SVG: the school's coverages as bars, then a class × coverage heat map."""
    font = "font-family=\"'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif\""
    codes = [c.code for c in report.school.coverages]
    label_w, bar_w, row_h = 150, 420, 26
    classes = report.classes[:max_classes]
    cell_w = 92
    width = max(label_w + bar_w + 80, label_w + cell_w * len(codes) + 20)
    top = 40 + row_h * len(codes) + 50
    height = top + 30 + row_h * len(classes) + 20 + 24  # the last line: what 家访 counts
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" {font} font-size="13">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="24" font-size="16" font-weight="bold">六个全覆盖（{escape(report.term)}，全校）</text>']
    for i, c in enumerate(report.school.coverages):
        y = 40 + i * row_h
        pct = c.percent
        out.append(f'<text x="10" y="{y + 17}">{escape(c.title)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="{row_h - 8}" fill="#eeeeee"/>')
        if pct is not None:
            out.append(f'<rect x="{label_w}" y="{y + 4}" width="{bar_w * pct / 100:.1f}" height="{row_h - 8}" fill="{_color(pct)}"/>')
        text = f"{pct:g}%（{c.covered}/{c.total}）" if pct is not None else ("未统计" if not c.measured else "无对象")
        out.append(f'<text x="{label_w + bar_w + 6}" y="{y + 17}">{escape(text)}</text>')
    out.append(f'<text x="10" y="{top}" font-size="15" font-weight="bold">各班覆盖率</text>')
    for j, code in enumerate(codes):
        out.append(f'<text x="{label_w + j * cell_w + cell_w / 2}" y="{top + 22}" text-anchor="middle" font-size="11">'
                   f'{escape(report.school.coverages[j].title.replace("全覆盖", ""))}</text>')
    for i, r in enumerate(classes):
        y = top + 30 + i * row_h
        out.append(f'<text x="10" y="{y + 17}">{escape(r.class_name)}</text>')
        for j, c in enumerate(r.coverages):
            pct = c.percent
            out.append(f'<rect x="{label_w + j * cell_w + 2}" y="{y + 2}" width="{cell_w - 4}" height="{row_h - 4}" fill="{_color(pct)}"/>')
            ink = ' fill="white"' if pct is not None and pct >= 100 else ""  # readable on dark green
            out.append(f'<text x="{label_w + j * cell_w + cell_w / 2}" y="{y + 17}" text-anchor="middle"{ink}>'
                       f'{"—" if pct is None else f"{pct:g}%"}</text>')
    out.append(f'<text x="10" y="{height - 10}" font-size="12" fill="#444444">{escape(VISITS_RULE_ZH)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def quality_table_zh(report: DataQualityReport) -> str:
    """The data-quality report for the terminal: school totals, then classes with problems."""
    out = [f"数据质量报告（{term_label(report.term)}，{report.today}）", f"  注：{VISITS_RULE_ZH}"]
    out += [f"  {c.title}：{c.count}" for c in report.school]
    for k in report.classes:
        if k.total:
            out.append(f"\n{k.class_name}：" + "，".join(f"{c.title} {c.count}" for c in k.checks if c.count))
            for c in k.checks:
                for it in c.items[:20]:
                    out.append(f"    [{c.title}] {it.name}：{it.detail}")
    return "\n".join(out)
