"""An in-memory stand-in for ``visitapp.services`` with the same API, used only until the real
services land on main (and for the UI benchmarks' 5,000-student roster, where the point is
the widgets' speed, not the database's). It applies the real domain rules, so the screens see
the same ValidationError / VisitFirstError / ImmutableRecordError a real workspace raises.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from visitapp.domain import (
    Assignment, AssignmentRole, Conflict, ConflictStatus, Determination, GrowthEntry, GrowthKind,
    GrowthProfileField, HardshipCategory, Level, MentorNote, MentorNoteKind, ProfileField,
    ReviewMeeting, Role, Staff, Stage, Student, ValidationError, Visit, VisitStatus, rules,
    term_of, profile_field_id,
)

_PROFILES: dict[str, "FakeWorkspace"] = {}
_PASSPHRASES: dict[str, str] = {}


class WrongPassphrase(Exception):
    def __init__(self, failures: int, delay_seconds: float):
        self.failures, self.delay_seconds = failures, delay_seconds
        super().__init__("口令不正确，请再试一次。" if delay_seconds < 1 else
                         f"口令不正确（已连续错误 {failures} 次）。请再试一次；为防止猜测，下次尝试需等待 {delay_seconds:.0f} 秒。")


class ProfileLockedError(Exception):
    pass


class ProfileTooNewError(Exception):
    pass


@dataclass(frozen=True)
class Identity:
    staff_id: str
    staff_name: str
    role: str
    device_id: str
    school_name: str = ""
    server_url: str = ""


@dataclass(frozen=True)
class StudentRow:
    id: str
    name: str
    class_name: str
    stage: str
    hardship_categories: tuple
    key_support: bool
    auto_eligible: bool
    visit_status: str
    mentor_names: tuple
    has_reward: bool
    masked_id: str = ""


@dataclass(frozen=True)
class Coverage:
    visited: int
    total: int
    term: str


@dataclass(frozen=True)
class TimelineItem:
    kind: str
    date: dt.date | None
    title: str
    record_id: str
    detail: str = ""


@dataclass(frozen=True)
class SyncReport:
    pushed: int
    pulled: int
    conflicts: int
    errors: list
    finished_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now()


def _id() -> str:
    return str(uuid.uuid4())


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "子涵欣怡梓轩浩宇雨桐一诺诗琪宇轩梓涵紫萱思彤佳怡晨阳俊杰嘉怡可馨明轩晓明家豪文博雅琪天佑若曦芷若博文"


class _Students:
    def __init__(self, ws: "FakeWorkspace"):
        self.ws = ws

    def _status(self, sid: str, term: str) -> str:
        vs = [v for v in self.ws._visits.values() if v.student_id == sid]
        if any(v for v in rules.current_version(vs) if v.term == term):
            return "visited"
        if any(v.status == VisitStatus.DRAFT for v in vs):
            return "draft"
        return "not_visited"

    def list_mine(self, term=None):
        self.ws._check()
        term = term or term_of(dt.date.today())
        out = []
        for s in self.ws._students.values():
            mentors = tuple(self.ws._staff[a.staff_id].name for a in self.ws._assignments.values()
                            if a.student_id == s.id and a.role == AssignmentRole.MENTOR and a.active)
            has_reward = any(e.student_id == s.id and e.kind == GrowthKind.REWARD
                             for e in self.ws._entries.values())
            out.append(StudentRow(s.id, s.name, s.class_name, str(s.stage),
                                  tuple(str(c) for c in s.hardship_categories), s.key_support,
                                  s.auto_eligible, self._status(s.id, term), mentors, has_reward,
                                  s.masked_id))
        return out

    def coverage(self, term=None):
        term = term or term_of(dt.date.today())
        rows = self.list_mine(term)
        return Coverage(sum(r.visit_status == "visited" for r in rows), len(rows), term)

    def get(self, student_id):
        self.ws._check()
        return self.ws._students[student_id]

    def timeline(self, student_id):
        self.ws._check()
        items = []
        for v in self.ws._visits.values():
            if v.student_id == student_id:
                items.append(TimelineItem("visit", v.visit_date, "家访记录（" + str(v.status) + "）", v.id, v.narrative[:60]))
        for e in self.ws._entries.values():
            if e.student_id == student_id:
                items.append(TimelineItem(str(e.kind), e.entry_date, e.title, e.id, e.detail))
        for n in self.ws._notes.values():
            if n.student_id == student_id:
                items.append(TimelineItem("mentor_note", n.note_date, "导师记录", n.id, n.text[:60]))
        items.sort(key=lambda i: i.date or dt.date.min, reverse=True)
        return items


class _Visits:
    def __init__(self, ws):
        self.ws = ws

    def create_draft(self, student_id):
        self.ws._check()
        v = Visit(id=_id(), student_id=student_id, author_id=self.ws.identity.staff_id,
                  device_id=self.ws.identity.device_id, created_at=_now(), updated_at=_now(),
                  visitors=(self.ws.identity.staff_name,))
        self.ws._visits[v.id] = v
        self.ws._pending += 1
        return v

    def save_draft(self, visit_id, **changes):
        self.ws._check()
        v = rules.edit_visit(self.ws._visits[visit_id], _now(), **changes)
        self.ws._visits[visit_id] = v
        self.ws._pending += 1
        return v

    def finalize(self, visit_id):
        self.ws._check()
        v = rules.finalize_visit(self.ws._visits[visit_id], _now())
        self.ws._visits[visit_id] = v
        self.ws._pending += 1
        return v

    def amend(self, visit_id, reason):
        self.ws._check()
        v = rules.amend_visit(self.ws._visits[visit_id], reason, _id(), self.ws.identity.staff_id,
                              self.ws.identity.device_id, _now())
        self.ws._visits[v.id] = v
        return v

    def void(self, visit_id, reason):
        self.ws._visits[visit_id] = rules.void_visit(self.ws._visits[visit_id], reason, _now())

    def delete_draft(self, visit_id):
        rules.ensure_deletable(self.ws._visits[visit_id])
        del self.ws._visits[visit_id]

    def get(self, visit_id):
        self.ws._check()
        return self.ws._visits[visit_id]

    def for_student(self, student_id):
        self.ws._check()
        return sorted((v for v in self.ws._visits.values() if v.student_id == student_id),
                      key=lambda v: v.created_at or _now(), reverse=True)

    def effective_status(self, visit_id):
        return rules.effective_status(self.ws._visits[visit_id], self.ws._visits.values())


class _Growth:
    def __init__(self, ws):
        self.ws = ws

    def profile(self, student_id):
        self.ws._check()
        return {f: self.ws._profile.get((student_id, f)) or GrowthProfileField(
            id=profile_field_id(student_id, str(f)), student_id=student_id, field=f)
            for f in ProfileField}

    def set_profile_field(self, student_id, field, value):
        self.ws._check()
        f = ProfileField(field)
        self.ws._profile[(student_id, f)] = GrowthProfileField(
            id=profile_field_id(student_id, str(f)), student_id=student_id, field=f, value=value,
            updated_by=self.ws.identity.staff_id, updated_at=_now())
        self.ws._pending += 1

    def add_entry(self, student_id, kind, **fields):
        self.ws._check()
        e = GrowthEntry(id=_id(), student_id=student_id, kind=GrowthKind(kind),
                        author_id=self.ws.identity.staff_id, created_at=_now(), **fields)
        p = e.problems(dt.date.today())
        if p:
            raise ValidationError(p)
        self.ws._entries[e.id] = e
        self.ws._pending += 1
        return e

    def entries(self, student_id):
        return [e for e in self.ws._entries.values() if e.student_id == student_id]


class _Mentor:
    def __init__(self, ws):
        self.ws = ws

    def my_mentees(self):
        me = self.ws.identity.staff_id
        ids = {a.student_id for a in self.ws._assignments.values()
               if a.staff_id == me and a.role == AssignmentRole.MENTOR and a.active}
        return [r for r in self.ws.students.list_mine() if r.id in ids]

    def write_note(self, student_id, kind, note_date, text, participants=()):
        self.ws._check()
        n = MentorNote(id=_id(), student_id=student_id, author_id=self.ws.identity.staff_id,
                       kind=MentorNoteKind(kind), created_at=_now(), note_date=note_date,
                       text=text, participants=tuple(participants))
        p = n.problems(dt.date.today())
        if p:
            raise ValidationError(p)
        self.ws._notes[n.id] = n
        self.ws._pending += 1
        return n

    def edit_note(self, note_id, **changes):
        n = dataclasses.replace(self.ws._notes[note_id], **changes, updated_at=_now())
        p = n.problems(dt.date.today())
        if p:
            raise ValidationError(p)
        self.ws._notes[note_id] = n
        return n

    def notes(self, student_id):
        return sorted((n for n in self.ws._notes.values() if n.student_id == student_id),
                      key=lambda n: n.note_date or dt.date.min, reverse=True)


class _Review:
    def __init__(self, ws):
        self.ws = ws
        self._meetings: dict[str, ReviewMeeting] = {}
        self._dets: dict[str, Determination] = {}

    def record_meeting(self, term, meeting_date, reviewers, minutes):
        m = ReviewMeeting(id=_id(), term=term, meeting_date=meeting_date,
                          reviewers=tuple(reviewers), minutes=minutes, created_at=_now())
        p = m.problems(dt.date.today())
        if p:
            raise ValidationError(p)
        self._meetings[m.id] = m
        return m

    def determine(self, meeting_id, student_id, level):
        m = self._meetings[meeting_id]
        visit = rules.check_visit_first(student_id, m.term, self.ws._visits.values())
        d = Determination(id=_id(), student_id=student_id, meeting_id=meeting_id, term=m.term,
                          level=Level(level), visit_id=visit.id, review_date=m.meeting_date)
        self._dets[d.id] = d
        return d

    def meetings(self, term=None):
        return [m for m in self._meetings.values() if term is None or m.term == term]

    def determinations(self, meeting_id):
        return [d for d in self._dets.values() if d.meeting_id == meeting_id]


class _Assignments:
    def __init__(self, ws):
        self.ws = ws

    def assign(self, student_id, staff_id, role, term=None):
        a = Assignment(id=_id(), student_id=student_id, staff_id=staff_id,
                       role=AssignmentRole(role), term=term or term_of(dt.date.today()))
        self.ws._assignments[a.id] = a
        return a

    def end(self, assignment_id):
        self.ws._assignments[assignment_id] = dataclasses.replace(
            self.ws._assignments[assignment_id], active=False)

    def list(self, term=None):
        return [a for a in self.ws._assignments.values() if a.active]


class _Staff:
    def __init__(self, ws):
        self.ws = ws

    def list(self):
        return list(self.ws._staff.values())


class _Conflicts:
    def __init__(self, ws):
        self.ws = ws

    def list_open(self):
        return [c for c in self.ws._conflicts.values() if c.status == ConflictStatus.OPEN]

    def resolve(self, conflict_id, value, reason):
        rules.require_reason(reason, "解决冲突")
        c = self.ws._conflicts[conflict_id]
        self.ws._conflicts[conflict_id] = dataclasses.replace(
            c, status=ConflictStatus.RESOLVED, resolution_value=value, reason=reason)
        if c.record_kind == "growth_profile_field":
            self.ws.growth.set_profile_field(c.student_id, c.field_name, value)


class _Settings:
    def __init__(self):
        self._d: dict = {}

    def get(self, key, default=None):
        return self._d.get(key, default)

    def set(self, key, value):
        self._d[key] = value


class _Sync:
    def __init__(self, ws):
        self.ws = ws
        self._last = None
        self.records = 40
        self.delay = 0.0
        self.fail_with: Exception | None = None

    def enroll(self, code, device_label=""):
        from visitapp.sync.protocol import decode_enrollment_code

        url, _fp, _secret = decode_enrollment_code(code)
        self.ws.identity = dataclasses.replace(self.ws.identity, server_url=url,
                                               school_name="示范学校")

    def run(self, progress=None, cancel=None):
        if self.fail_with:
            raise self.fail_with
        total = self.records
        for i in range(total):
            if cancel is not None and cancel.is_set():
                break
            if self.delay:
                time.sleep(self.delay)
            if progress and (i % 50 == 0 or i == total - 1):
                progress(i + 1, total, "push" if i < total // 2 else "pull")
        pushed = self.ws._pending
        self.ws._pending = 0
        self._last = dt.datetime.now()
        return SyncReport(pushed, total - pushed if total > pushed else 0, 0, [], self._last)

    def last_sync_at(self):
        return self._last


class FakeWorkspace:
    def __init__(self, identity: Identity):
        self.identity = identity
        self._locked = False
        self._pending = 0
        self._students: dict[str, Student] = {}
        self._staff: dict[str, Staff] = {identity.staff_id: Staff(
            id=identity.staff_id, school_id="s1", role=Role(identity.role), name=identity.staff_name)}
        self._visits: dict[str, Visit] = {}
        self._entries: dict[str, GrowthEntry] = {}
        self._notes: dict[str, MentorNote] = {}
        self._profile: dict = {}
        self._assignments: dict[str, Assignment] = {}
        self._conflicts: dict[str, Conflict] = {}
        self.students = _Students(self)
        self.visits = _Visits(self)
        self.growth = _Growth(self)
        self.mentor = _Mentor(self)
        self.review = _Review(self)
        self.assignments = _Assignments(self)
        self.staff = _Staff(self)
        self.conflicts = _Conflicts(self)
        self.settings = _Settings()
        self.sync = _Sync(self)
        self.closed = False

    def _check(self):
        if self._locked:
            raise RuntimeError("workspace is locked")

    def pending_count(self):
        return self._pending

    def lock(self):
        self._locked = True

    def unlock(self, passphrase):
        if passphrase != _PASSPHRASES.get(self._dir):
            raise WrongPassphrase(1, 0.0)
        self._locked = False

    def close(self):
        self.closed = True

    # -- seeding for tests, screenshots and benchmarks --------------------------------------
    def seed(self, n_students: int = 52, *, mentees: int = 3, staff: int = 4) -> list[str]:
        cats = list(HardshipCategory)
        stages = [Stage.PRIMARY, Stage.JUNIOR, Stage.SENIOR]
        for k in range(staff):
            sid = f"staff-{k}"
            self._staff[sid] = Staff(id=sid, school_id="s1", role=Role.TEACHER,
                                     name=SURNAMES[k + 10] + "老师")
        ids = []
        for i in range(n_students):
            name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 2) % (len(GIVEN) - 1):(i * 2) % (len(GIVEN) - 1) + 2]
            stage = stages[i % 3]
            s = Student(id=f"stu-{i:05d}", school_id="s1",
                        class_name=f"{['三', '七', '高一'][i % 3]}（{i % 6 + 1}）班", stage=stage,
                        name=name, masked_id=f"3202**********{i % 10000:04d}",
                        hardship_categories=(cats[i % len(cats)],) + ((cats[(i + 3) % len(cats)],) if i % 4 == 0 else ()),
                        auto_eligible=i % 3 == 0, key_support=i % 5 == 0)
            self._students[s.id] = s
            ids.append(s.id)
        for i, sid in enumerate(ids[:mentees]):
            self.assignments.assign(sid, self.identity.staff_id, "mentor")
        return ids


def profile_exists(profile_dir: Path) -> bool:
    return str(profile_dir) in _PROFILES


def create_profile(profile_dir: Path, passphrase: str, *, staff_name="本机用户", role="teacher", kdf=None):
    if len(passphrase) < 8:
        raise ValidationError({"passphrase": "口令至少需要 8 个字符"})
    ws = FakeWorkspace(Identity(staff_id="me", staff_name=staff_name, role=role, device_id="dev-1"))
    ws._dir = str(profile_dir)
    _PROFILES[str(profile_dir)] = ws
    _PASSPHRASES[str(profile_dir)] = passphrase
    return ws, "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345-6789"


_failures: dict[str, int] = {}


def open_profile(profile_dir: Path, passphrase: str):
    ws = _PROFILES[str(profile_dir)]
    if passphrase != _PASSPHRASES[str(profile_dir)]:
        n = _failures.get(str(profile_dir), 0) + 1
        _failures[str(profile_dir)] = n
        raise WrongPassphrase(n, 0.0 if n < 3 else 2.0 ** (n - 2))
    _failures.pop(str(profile_dir), None)
    ws._locked = False
    return ws


def make_conflict(ws: FakeWorkspace, student_id: str, local: str, remote: str) -> Conflict:
    c = Conflict(id=_id(), record_kind="growth_profile_field",
                 record_id=profile_field_id(student_id, "strengths"), field_name="strengths",
                 student_id=student_id, local_author="me", remote_author="staff-1",
                 created_at=_now(), local_value=local, remote_value=remote)
    ws._conflicts[c.id] = c
    return c


class Backend:
    """The three profile functions, as the UI's composition root receives them."""

    create_profile = staticmethod(create_profile)
    open_profile = staticmethod(open_profile)
    profile_exists = staticmethod(profile_exists)
