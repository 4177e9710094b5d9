"""Down: the platform's roster merged into the school's, and aid history into growth files.

Pure functions. A roster pull first becomes a :class:`RosterPreview` (new, changed, gone,
unchanged) that the officer reads; :func:`apply_preview` turns it into the students to write.
Students are matched, and new ones named, by one rule for every roster the server imports
(the platform's, and the school's own ``visitapp-server roster import``): :class:`RosterMatch`
and :func:`student_id_for`. A new student's id is derived from the platform reference, or from
the 学号 where a file has no platform reference, so two imports of the same roster never
create two students. A student missing from the roster is
marked ``on_roster=False``, never deleted (their records stay, and the reconciliation report
lists them), from the start of the term whose roster no longer has them (:func:`off_the_roster`,
again one rule for both imports); one who comes back is on it again (:func:`back_on_roster`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from visitapp.domain import AidKind, GrowthEntry, GrowthKind, School, Student, term_bounds

from sync_server.platform.model import AidRecord, FieldChange, RosterRow, StudentChange, derive_id

# Student fields the platform is authoritative for; everything else is the school's.
ROSTER_FIELDS = ("name", "masked_id", "class_name", "stage", "district", "hardship_categories",
                 "auto_eligible", "platform_level", "on_roster")
ROSTER_WIRE_FIELDS = ("platform_ref", "name", "masked_id", "school_code", "class_name", "stage", "district",
                      "hardship_categories", "auto_eligible", "level")
AID_WIRE_FIELDS = ("aid_id", "platform_ref", "aid_kind", "title", "date", "programme", "amount_yuan")


@dataclass(frozen=True)
class RosterPreview:
    """What applying a roster would do. ``students`` holds the resulting records to write."""

    term: str
    new: tuple[StudentChange, ...]
    changed: tuple[StudentChange, ...]
    gone: tuple[StudentChange, ...]
    unchanged: int
    students: tuple[Student, ...]  # new + changed + gone, as they will be written

    @property
    def is_noop(self) -> bool:
        return not (self.new or self.changed or self.gone)

    def summary_zh(self) -> str:
        return (f"名册预览：新增 {len(self.new)} 名，变更 {len(self.changed)} 名，"
                f"不在名册 {len(self.gone)} 名，无变化 {self.unchanged} 名。")


def student_id_for(school_id: str, platform_ref: str = "", student_no: str = "") -> str:
    """The id of a student new to the school: derived from the platform reference, else from
    the 学号 (a school's own roster may have no platform numbers yet). The two are derived in
    different namespaces, so one student's 学号 can never collide with another's reference."""
    if platform_ref:
        return derive_id("student", school_id, platform_ref)
    if student_no:
        return derive_id("student-no", school_id, student_no)
    raise ValueError("a student needs a platform reference or a 学号")


class RosterMatch:
    """Which current student a roster row is: the one with its platform reference, else the one
    with its 学号. Matching comes before deriving: a student written by an older rule (random
    ids, as the school's roster import once gave) keeps its id, so re-importing never duplicates."""

    def __init__(self, current: Iterable[Student]):
        self.by_ref: dict[str, Student] = {}
        self.by_no: dict[str, Student] = {}
        for s in current:
            if s.platform_ref:
                self.by_ref.setdefault(s.platform_ref, s)
            if s.student_no:
                self.by_no.setdefault(s.student_no, s)

    def find(self, platform_ref: str = "", student_no: str = "") -> Student | None:
        found = self.by_ref.get(platform_ref) if platform_ref else None
        if found is None and student_no:
            candidate = self.by_no.get(student_no)
            # a 学号 match that already carries another platform reference is another student
            if candidate is not None and not (platform_ref and candidate.platform_ref
                                              and candidate.platform_ref != platform_ref):
                found = candidate
        return found

    def id_for(self, school_id: str, platform_ref: str = "", student_no: str = "") -> tuple[str, Student | None]:
        """The row's student id and the current student it updates (``None`` for a new one)."""
        existing = self.find(platform_ref, student_no)
        if existing is not None:
            return existing.id, existing
        return student_id_for(school_id, platform_ref, student_no), None


def off_the_roster(student: Student, term: str) -> Student:
    """A student the roster of ``term`` no longer has, as both roster imports write them: kept,
    marked off the roster from the first day of that term. Retention (issue 15,
    ``visitapp.domain.retention``) counts from that day, so the date must not move with the day
    of the week the officer happens to import; a student already off keeps the day they left."""
    if not student.on_roster:
        return student
    return dataclasses.replace(student, on_roster=False, left_on=term_bounds(term)[0])


def back_on_roster(student: Student, **changes) -> Student:
    """A student a roster has (again): on it, with no leaving day, so retention stops counting."""
    return dataclasses.replace(student, **{**changes, "on_roster": True, "left_on": None})


# A roster that would take this many students off it, and more than half of it, is refused
# unless forced: nothing is deleted either way, but every teacher's list would empty at the next
# sync, and a truncated file or a platform glitch is likelier than half a school leaving.
MASS_LEAVING_MIN = 10


def is_mass_leaving(leaving: int, on_roster_before: int) -> bool:
    """Whether taking ``leaving`` of ``on_roster_before`` students off the roster needs ``--force``."""
    return leaving >= MASS_LEAVING_MIN and leaving * 2 > on_roster_before


def preview_roster(school: School, current: Iterable[Student], rows: Sequence[RosterRow], term: str) -> RosterPreview:
    """Compare the platform's roster with the school's; nothing is written here."""
    current = list(current)
    by_ref = {s.platform_ref: s for s in current if s.platform_ref}
    match = RosterMatch(current)
    seen: set[str] = set()
    new, changed, out = [], [], []
    unchanged = 0
    for row in rows:
        if row.platform_ref in seen:
            continue  # a duplicated row on the platform counts once
        seen.add(row.platform_ref)
        incoming = dict(name=row.name, masked_id=row.masked_id, class_name=row.class_name, stage=row.stage,
                        district=row.district or school.district,
                        hardship_categories=tuple(sorted(row.hardship_categories)),
                        auto_eligible=row.auto_eligible, platform_level=row.level, on_roster=True)
        # 重点帮扶 follows the platform only when its roster carries it; otherwise the officer's stands
        fields = ROSTER_FIELDS if row.key_support is None else ROSTER_FIELDS + ("key_support",)
        if row.key_support is not None:
            incoming["key_support"] = row.key_support
        sid, existing = match.id_for(school.id, row.platform_ref)
        if existing is None:
            # the platform reference doubles as the 学号 until the school sets its own, so the
            # officer can name the student in commands such as ``visitapp-server assign``
            student = Student(id=sid, school_id=school.id, platform_ref=row.platform_ref,
                              student_no=row.platform_ref, **incoming)
            new.append(StudentChange(sid, row.platform_ref, row.name, row.class_name))
            out.append(student)
            continue
        old = {f: getattr(existing, f) for f in fields}
        old["hardship_categories"] = tuple(sorted(old["hardship_categories"]))
        diffs = tuple(FieldChange(f, old[f], incoming[f]) for f in fields if old[f] != incoming[f])
        if diffs:
            changed.append(StudentChange(existing.id, row.platform_ref, row.name, row.class_name, diffs))
            out.append(back_on_roster(existing, **incoming))
        else:
            unchanged += 1
    gone = []
    for ref, s in by_ref.items():
        if ref not in seen and s.on_roster:
            gone.append(StudentChange(s.id, ref, s.name, s.class_name, (FieldChange("on_roster", True, False),)))
            out.append(off_the_roster(s, term))
    return RosterPreview(term, tuple(new), tuple(changed), tuple(gone), unchanged, tuple(out))


def aid_entry_id(aid_id: str) -> str:
    """The growth entry of a platform aid record: the same id however often it is pulled."""
    return derive_id("aid", aid_id)


def aid_entries(school: School, students: Iterable[Student], records: Sequence[AidRecord]) -> tuple[list[GrowthEntry], list[AidRecord]]:
    """Aid records -> ``GrowthEntry(kind=aid, source="platform")``; also the records whose
    student is not on the school's roster (reported, not stored)."""
    by_ref = {s.platform_ref: s.id for s in students if s.platform_ref}
    entries: list[GrowthEntry] = []
    orphans: list[AidRecord] = []
    valid = {k.value for k in AidKind}
    for r in records:
        sid = by_ref.get(r.platform_ref)
        if sid is None:
            orphans.append(r)
            continue
        kind = AidKind(r.aid_kind) if r.aid_kind in valid else AidKind.SOCIAL_PROGRAMME
        entries.append(GrowthEntry(
            id=aid_entry_id(r.aid_id), student_id=sid, kind=GrowthKind.AID, author_id="platform",
            source="platform", entry_date=r.date, title=r.title[:100], aid_kind=kind,
            programme=r.programme or (r.title if kind == AidKind.SOCIAL_PROGRAMME else ""),
            amount_yuan=r.amount_yuan))
    return entries, orphans
