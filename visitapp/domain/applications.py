"""Applications (申请) and the chain 申请 → 家访 → 审核 → 集体评议 → 公示 → 认定 (plan §3), as
pure rules over domain entities.

Who needs an application: every student the school determines or visits in a term, except
those the platform recognises on its own (``auto_eligible``: 免申即享, plan §3 "对特殊困难学生
全面实行免申即享"). Their chain starts at the visit; an application recorded for them anyway
(channel 平台自动认定) is shown, never required.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from visitapp.domain import rules
from visitapp.domain.entities import (
    Application, Determination, PublicNotice, RecordReview, ReviewMeeting, Student, Visit,
)
from visitapp.domain.enums import NoticeStatus, label_zh
from visitapp.domain.record_review import latest_reviews, review_state

__all__ = ["needs_application", "ChainStep", "Chain", "application_chain", "CHAIN_STEPS_ZH",
           "APPLICATION_RULE_ZH"]

CHAIN_STEPS_ZH = ("申请", "家访", "审核", "集体评议", "公示", "认定")
APPLICATION_RULE_ZH = ("申请学生须先家访后认定；市平台认定的特殊困难学生“免申即享”，无需申请，"
                       "其家访和认定不计为缺少申请。")


def needs_application(student: Student) -> bool:
    return not student.auto_eligible


@dataclass(frozen=True)
class ChainStep:
    step: str          # one of CHAIN_STEPS_ZH
    done: bool
    day: dt.date | None
    who: str           # staff id(s) or names, as the caller resolves them
    detail: str
    record_id: str = ""


@dataclass(frozen=True)
class Chain:
    student: Student
    term: str
    steps: tuple[ChainStep, ...]

    @property
    def complete(self) -> bool:
        return all(s.done for s in self.steps)


def application_chain(student: Student, term: str, applications: Iterable[Application], visits: Iterable[Visit],
                      reviews: Iterable[RecordReview], meetings: Iterable[ReviewMeeting],
                      determinations: Iterable[Determination], notices: Iterable[PublicNotice],
                      names: dict[str, str] | None = None) -> Chain:
    """The six steps of one student's term, each done or not, with its date, who and what."""
    names = names or {}
    # a person this laptop has no name for is never shown as a bare id on paper
    name = lambda sid: names.get(sid) or ("（姓名未同步）" if sid else "")  # noqa: E731
    steps: list[ChainStep] = []
    apps = sorted((a for a in applications if a.student_id == student.id and a.term == term),
                  key=lambda a: (a.applied_on or dt.date.min, a.id))
    if apps:
        a = apps[0]
        materials = "、".join(label_zh(m) for m in a.materials) or "未登记材料"
        steps.append(ChainStep("申请", True, a.applied_on, name(a.author_id),
                               f"{label_zh(a.channel)}；材料：{materials}", a.id))
    elif not needs_application(student):
        steps.append(ChainStep("申请", True, None, "", "免申即享（市平台认定的特殊困难学生，无需申请）"))
    else:
        steps.append(ChainStep("申请", False, None, "", "尚未登记申请"))
    on_site = [v for v in rules.on_site_visits(visits) if v.student_id == student.id and v.term == term]
    on_site.sort(key=lambda v: (v.visit_date or dt.date.min, v.id))
    visit = on_site[-1] if on_site else None
    if visit is not None:
        steps.append(ChainStep("家访", True, visit.visit_date, "、".join(x for x in visit.visitors if x.strip())
                               or name(visit.author_id), label_zh(visit.mode), visit.id))
    else:
        steps.append(ChainStep("家访", False, None, "", "本学期尚无已定稿的实地家访"))
    latest = latest_reviews(reviews)
    state = review_state(visit, latest.get(visit.id)) if visit is not None else None
    if state is not None and state.review is not None:
        r = state.review
        steps.append(ChainStep("审核", state.reviewed, r.reviewed_on, name(r.reviewer_id), label_zh(state.status), r.id))
    else:
        steps.append(ChainStep("审核", False, None, "", "家访记录待审核" if visit is not None else "—"))
    mine = [d for d in determinations if d.student_id == student.id and d.term == term]
    determination = max(mine, key=lambda d: (d.final, d.review_date or dt.date.min, d.id)) if mine else None
    meeting = next((m for m in meetings if determination is not None and m.id == determination.meeting_id), None)
    if meeting is not None:
        steps.append(ChainStep("集体评议", True, meeting.meeting_date, "、".join(name(r) for r in meeting.reviewers),
                               f"评议人 {len(set(meeting.reviewers))} 位", meeting.id))
    else:
        steps.append(ChainStep("集体评议", False, None, "", "尚未评议"))
    notice = next((n for n in notices if meeting is not None and n.meeting_id == meeting.id), None)
    if notice is not None:
        period = f"{notice.period_start} 至 {notice.period_end}"
        closed = notice.status == NoticeStatus.CLOSED
        steps.append(ChainStep("公示", closed, notice.closed_on or notice.period_start, name(notice.created_by),
                               f"公示期 {period}（{'已结束' if closed else '公示中'}）", notice.id))
    else:
        steps.append(ChainStep("公示", False, None, "", "尚未公示"))
    if determination is not None:
        steps.append(ChainStep("认定", determination.final, determination.review_date, name(determination.created_by),
                               f"{label_zh(determination.level)}（{'已生效' if determination.final else '待公示结束后生效'}）",
                               determination.id))
    else:
        steps.append(ChainStep("认定", False, None, "", "尚无认定结果"))
    return Chain(student, term, tuple(steps))
