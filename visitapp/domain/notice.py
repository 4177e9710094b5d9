"""The public notice (公示) of a review meeting's determinations, and its objections.

Pure functions over domain entities. The notice lists masked names (``张*明``), class and
level: no reasons, no IDs. Objections are recorded while the notice is open and inside its
period, each handled with a date (the content and the handling are tier C: the officer's
desktop holds them; the school server only sees whether and when each was handled).
A notice closes, and its determinations become final, only after the period has ended and
every objection has been handled.

One implementation for both sides: the officer's laptop runs these rules in
``visitapp.services.notice`` and the school server's CLI through ``sync_server.platform.notice``
(a re-export). A PDF of the notice is the printing module's job (``visitapp.printing``, which
``sync_server`` may not import). Here: the data and a text table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from visitapp.domain.entities import (
    Determination, Objection, PublicNotice, ReviewMeeting, Student, mask_name,
)
from visitapp.domain.enums import Level, NoticeStatus, label_zh
from visitapp.domain.errors import InvalidTransitionError, Problem, ValidationError

_LEVEL_ORDER = {Level.ESPECIALLY: 0, Level.RELATIVELY: 1, Level.GENERALLY: 2, Level.NONE: 3}


@dataclass(frozen=True)
class NoticeLine:
    """One published line: masked name, class, level. Nothing else about the family."""

    masked_name: str
    class_name: str
    level: str
    level_zh: str


@dataclass(frozen=True)
class ObjectionLine:
    objection_id: str
    received_on: dt.date | None
    about: str  # masked name of the student the objection is about, or 整体
    handled: bool
    handled_on: dt.date | None
    content: str = ""  # present only where the caller holds tier C (the officer's desktop)
    handling: str = ""


@dataclass(frozen=True)
class NoticeView:
    notice_id: str
    title: str
    term: str
    period_start: dt.date | None
    period_end: dt.date | None
    status: str
    lines: tuple[NoticeLine, ...]
    objections: tuple[ObjectionLine, ...]
    can_close: bool
    blockers: tuple[str, ...]  # why it cannot close yet (sentences)


def open_notice(notice_id: str, meeting: ReviewMeeting, determinations: Sequence[Determination], start: dt.date,
                end: dt.date, created_by: str, now: dt.datetime, title: str = "") -> PublicNotice:
    """A new open notice for a meeting's determinations (at least one, none already final)."""
    mine = [d for d in determinations if d.meeting_id == meeting.id]
    if not mine:
        raise ValidationError("review.no_determinations", "meeting_id")
    if any(d.final for d in mine):
        raise InvalidTransitionError("review.determinations_final")
    notice = PublicNotice(id=notice_id, meeting_id=meeting.id, term=meeting.term, status=NoticeStatus.OPEN,
                          created_by=created_by, created_at=now,
                          title=title or f"家庭经济困难学生认定结果公示（{meeting.term}）",
                          period_start=start, period_end=end)
    problems = notice.problems()
    if problems:
        raise ValidationError(problems)
    return notice


def record_objection(notice: PublicNotice, objection_id: str, received_on: dt.date, content: str,
                     now: dt.datetime, student_id: str = "") -> Objection:
    """An objection received during the notice period."""
    if notice.status != NoticeStatus.OPEN:
        raise InvalidTransitionError("notice.closed_no_objections")
    if notice.period_start and notice.period_end and not (notice.period_start <= received_on <= notice.period_end):
        raise ValidationError(Problem("notice.objection_outside_period", start=notice.period_start,
                                      end=notice.period_end), "received_on")
    if not content.strip():
        raise ValidationError("notice.objection_content_missing", "content")
    return Objection(id=objection_id, notice_id=notice.id, student_id=student_id, handled=False, created_at=now,
                     received_on=received_on, content=content.strip())


def handle_objection(objection: Objection, handling: str, handled_on: dt.date) -> Objection:
    """Record how an objection was handled (a sentence is required)."""
    if objection.handled:
        raise InvalidTransitionError("notice.objection_handled")
    if not handling.strip():
        raise ValidationError("notice.handling_missing", "handling")
    if objection.received_on and handled_on < objection.received_on:
        raise ValidationError("notice.handled_before_received", "handled_on")
    return dataclasses.replace(objection, handled=True, handled_on=handled_on, handling=handling.strip())


def close_blockers(notice: PublicNotice, objections: Iterable[Objection], today: dt.date) -> list[str]:
    """Why the notice cannot close today (empty when it can): sentences with their message ids."""
    out = []
    if notice.status != NoticeStatus.OPEN:
        out.append(Problem("notice.already_closed"))
    if notice.period_end is None or today <= notice.period_end:
        out.append(Problem("notice.period_not_over", end=notice.period_end))
    open_ones = [o for o in objections if o.notice_id == notice.id and not o.handled]
    if open_ones:
        out.append(Problem("notice.objections_open", count=len(open_ones)))
    return out


def close_notice(notice: PublicNotice, determinations: Sequence[Determination], objections: Sequence[Objection],
                 today: dt.date) -> tuple[PublicNotice, list[Determination]]:
    """Close the notice and make its meeting's determinations final; refuse with the reasons."""
    blockers = close_blockers(notice, objections, today)
    if blockers:
        raise InvalidTransitionError("notice.cannot_close", blockers=tuple(blockers))
    closed = dataclasses.replace(notice, status=NoticeStatus.CLOSED, closed_on=today)
    finals = [dataclasses.replace(d, final=True) for d in determinations if d.meeting_id == notice.meeting_id]
    return closed, finals


def notice_view(notice: PublicNotice, determinations: Iterable[Determination], students: Iterable[Student],
                objections: Iterable[Objection], today: dt.date) -> NoticeView:
    """What the notice shows: masked list sorted by level and class, objections with handling."""
    by_id = {s.id: s for s in students}
    mine = [d for d in determinations if d.meeting_id == notice.meeting_id]
    lines = []
    for d in sorted(mine, key=lambda d: (_LEVEL_ORDER.get(d.level, 9), by_id.get(d.student_id).class_name
                                         if d.student_id in by_id else "", d.student_id)):
        s = by_id.get(d.student_id)
        lines.append(NoticeLine(mask_name(s.name) if s else "（未知）", s.class_name if s else "", d.level.value,
                                label_zh(d.level.value)))
    objs = sorted((o for o in objections if o.notice_id == notice.id),
                  key=lambda o: (o.received_on or dt.date.min, o.id))
    olines = tuple(ObjectionLine(o.id, o.received_on,
                                 mask_name(by_id[o.student_id].name) if o.student_id in by_id else "整体",
                                 o.handled, o.handled_on, o.content, o.handling) for o in objs)
    blockers = close_blockers(notice, objs, today)
    return NoticeView(notice.id, notice.title, notice.term, notice.period_start, notice.period_end,
                      notice.status.value, tuple(lines), olines, not blockers, tuple(blockers))


def table_zh(view: NoticeView) -> str:
    """The notice as text for the terminal (the same content the printed notice carries)."""
    out = [view.title, f"公示期：{view.period_start} 至 {view.period_end}（{'公示中' if view.status == 'open' else '已结束'}）",
           f"{'序号':<4}{'姓名':<8}{'班级':<14}认定等级"]
    for i, line in enumerate(view.lines, 1):
        out.append(f"{i:<6}{line.masked_name:<8}{line.class_name:<14}{line.level_zh}")
    out.append(f"异议：{len(view.objections)} 条")
    for o in view.objections:
        state = f"已处理（{o.handled_on}）" if o.handled else "未处理"
        out.append(f"  {o.received_on}  关于：{o.about}  {state}" + (f"  处理情况：{o.handling}" if o.handling else ""))
    if view.blockers:
        out.append("尚不能结束公示：" + "".join(view.blockers))
    return "\n".join(out)
