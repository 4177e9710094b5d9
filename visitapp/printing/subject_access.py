"""The subject access export (个人信息查阅副本): everything the school holds about one student,
as a printable document for the guardian (PIPL arts. 44–45: a person may see and copy the
personal information held about them; for a minor, the guardian asks).

It prints every record about the student that the officer's laptop holds — the roster entry,
assignments, every visit (drafts of others excepted: they are not yet records), the growth
file, mentor notes, determinations, objections, conflicts — field by field under Chinese
labels, plus who entered or changed what and when (the audit trail about these records, actor
and action only). It prints nothing about any other student. Staff are named (the guardian may
know who recorded what); the full ID number is never on a laptop, so never here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from reportlab.platypus import Paragraph

from visitapp.domain.entities import FamilyMember
from visitapp.domain.enums import label_zh
from visitapp.domain.terms import term_label
from visitapp.printing.documents import SubjectAccessJob
from visitapp.printing.layout import (
    STYLES, TextSink, Title, appendix, flowing_section, fmt_date, fmt_dt, grid, spacer, subtitle,
)

__all__ = ["subject_access_story", "FIELD_LABELS"]

# every field a guardian may read, by record kind, in print order; ids and sync machinery
# (seq, hlc, device ids) are left out: they say nothing about the child
FIELD_LABELS: Mapping[str, Mapping[str, str]] = {
    "student": {"name": "姓名", "gender": "性别", "class_name": "班级", "stage": "学段", "student_no": "学号",
                "masked_id": "身份证号（脱敏）", "guardian_name": "监护人", "district": "区", "address": "家庭住址",
                "phone": "联系电话", "hardship_categories": "困难类别", "auto_eligible": "免申即享",
                "key_support": "重点帮扶对象", "key_support_reason": "重点帮扶理由", "platform_level": "平台认定等级",
                "on_roster": "在本校名册", "left_on": "离开名册日期"},
    "assignment": {"role": "分工", "staff_id": "教师", "term": "学期", "active": "有效", "created_at": "分配时间"},
    "visit": {"status": "状态", "term": "学期", "visit_date": "家访日期", "visit_time": "家访时间", "mode": "家访方式",
              "visitors": "家访教师", "author_id": "填写人", "people_present": "在场人员",
              "family_members": "家庭成员", "annual_income_yuan": "家庭年收入（元）", "income_sources": "收入来源",
              "housing": "住房情况", "major_expenses": "主要支出", "hardship_indicators": "困难情况",
              "recommended_level": "建议认定等级", "policy_materials": "政策宣传材料",
              "guardian_consent": "监护人知情同意", "student_needs": "学生需求", "family_requests": "家庭诉求",
              "narrative": "家访情况记录", "follow_ups": "后续帮扶措施", "amendment_reason": "更正原因",
              "void_reason": "作废原因", "finalized_at": "定稿时间"},
    "growth_profile_field": {"field": "项目", "value": "内容", "updated_by": "填写人", "updated_at": "更新时间"},
    "growth_entry": {"kind": "类别", "entry_date": "日期", "title": "名称", "reward_kind": "奖励形式",
                     "aid_kind": "资助类别", "programme": "项目", "amount_yuan": "金额（元）", "detail": "说明",
                     "source": "来源", "author_id": "登记人"},
    "mentor_note": {"kind": "类别", "note_date": "日期", "author_id": "导师", "participants": "参与人", "text": "内容"},
    "determination": {"term": "学期", "level": "认定等级", "review_date": "评议日期", "final": "已终定"},
    "objection": {"received_on": "收到日期", "content": "异议内容", "handling": "处理情况", "handled_on": "处理日期"},
    "application": {"term": "学期", "applied_on": "申请日期", "channel": "申请方式", "materials": "已收材料",
                    "details": "申请说明", "author_id": "登记人"},
    "record_review": {"record_kind": "所审记录", "verdict": "审核结论", "reviewed_on": "审核日期",
                      "reviewer_id": "审核人", "comment": "审核意见"},
    "conflict": {"record_kind": "记录类别", "field_name": "字段", "status": "状态", "local_value": "一方的值",
                 "remote_value": "另一方的值", "resolution_value": "处理结果", "reason": "说明"},
}
SECTION_TITLES = {"student": "学生基本信息", "assignment": "家访教师与育人导师", "visit": "家访记录",
                  "growth_profile_field": "资助成长档案：学生特点与帮扶计划", "growth_entry": "资助成长档案：奖励与资助",
                  "mentor_note": "育人导师记录", "determination": "家庭经济困难认定", "objection": "公示异议",
                  "conflict": "待处理或已处理的记录冲突", "application": "资助申请",
                  "record_review": "记录审核"}
ACTION_LABELS = {
    "assignment.create": "分配", "assignment.end": "结束分配", "conflict.apply": "同步冲突记录",
    "conflict.resolve": "处理冲突", "determination.final": "认定终定", "determination.record": "记录认定",
    "growth_entry.add": "登记奖励或资助", "growth_profile.edit": "修改成长档案", "mentor_note.edit": "修改导师记录",
    "mentor_note.write": "填写导师记录", "objection.handle": "处理异议", "objection.record": "登记异议",
    "public_notice.close": "结束公示", "public_notice.publish": "发布公示", "review_meeting.record": "记录集体评议",
    "review_meeting.redact": "集体评议记录中删去已删除学生的姓名",
    "subject_access.export": "出具查阅副本", "visit.amend": "更正家访记录", "visit.create": "新建家访记录",
    "visit.delete_draft": "删除家访草稿", "visit.edit": "修改家访记录", "visit.finalize": "家访记录定稿",
    "visit.void": "作废家访记录", "demo.seed": "写入演示数据",
    "application.record": "登记资助申请", "application.edit": "修改资助申请",
    "record_review.approved": "审核通过", "record_review.returned": "审核退回",
    "growth_entry.edit_returned": "按审核意见修改成长档案", "student.key_support": "认定为重点帮扶对象",
    "student.key_support_withdrawn": "取消重点帮扶", "retention.archive": "保存期满归档",
}
_DIGITS = "一二三四五六七八九"


def _numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (section numbers)."""
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens - 1] + "十")) + (_DIGITS[ones - 1] if ones else "")


_STAFF_FIELDS = {"staff_id", "author_id", "updated_by", "reviewer_id"}
_VALUE_LABELS = {"school": "学校登记", "platform": "市平台", "visit": "家访记录", "growth_entry": "成长档案条目"}


def _value(key: str, value: object, staff: Mapping[str, str]) -> str:
    if value is None or value == "" or value == ():
        return ""
    if key in _STAFF_FIELDS:
        return staff.get(str(value), "") or "（教职工）"
    if key == "term":
        return term_label(str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return fmt_dt(value)
    if isinstance(value, dt.date):
        return fmt_date(value)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, tuple):
        if value and isinstance(value[0], FamilyMember):
            return "；".join("，".join(x for x in (m.relation, m.name, f"{m.age}岁" if m.age is not None else "",
                                                  m.occupation, m.health) if x) for m in value)
        return "、".join(label_zh(str(v)) for v in value)
    if isinstance(value, (int, float)):
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = str(value)
    return _VALUE_LABELS.get(text, label_zh(text))


def _record_table(kind: str, record: object, staff: Mapping[str, str], t: TextSink, caption: str) -> list:
    labels = FIELD_LABELS[kind]
    rows = []
    for key, label in labels.items():
        shown = _value(key, getattr(record, key, None), staff)
        if shown:
            rows.append([t.p(label, "label"), t.cell(shown, f"{caption} {label}", "value", 400)])
    if not rows:
        return []
    return [grid(rows, [26, 74], label_cells=[(0, r) for r in range(len(rows))]), spacer(2)]


def subject_access_story(job: SubjectAccessJob, t: TextSink, head: bool = True) -> list:
    """The flowables of one subject access export; ``head=False``: the sections only (the
    retention archive puts its own title and text above them)."""
    st = job.student
    story = [] if not head else [
        spacer(4),
        Title(t.raw("学生个人信息查阅副本"), size=19),
        subtitle(t, f"学校：{job.header.school}", f"学生：{st.name}（{st.class_name}）",
                 f"出具日期：{fmt_date(job.header.printed_at.date())}"),
        spacer(3),
        Paragraph(t("应监护人申请，本副本列出学校在家访记录系统中保存的关于该学生的全部个人信息（含各项记录的填写人、"
                    "修改人和时间）。如认为信息有误，可向学校学生资助工作办公室提出更正。本副本涉及学生及家庭隐私，"
                    "请妥善保管。"), STYLES["body"]),
    ]
    sections: list[tuple[str, list]] = [("student", [st]), ("assignment", list(job.assignments)),
                                        ("visit", list(job.visits)), ("growth_profile_field", list(job.profile)),
                                        ("growth_entry", list(job.entries)), ("mentor_note", list(job.notes)),
                                        ("determination", list(job.determinations)),
                                        ("objection", list(job.objections)), ("application", list(job.applications)),
                                        ("record_review", list(job.reviews)), ("conflict", list(job.conflicts))]
    number = 0
    for kind, records in sections:
        number += 1
        title = f"{_numeral(number)}、{SECTION_TITLES[kind]}（{len(records)} 项）"
        story += flowing_section(title)
        if not records:
            story += [t.p("无", "value"), spacer(2)]
        for i, record in enumerate(records, 1):
            if len(records) > 1:
                story.append(t.p(f"第 {i} 项", "label_left"))
            story += _record_table(kind, record, job.staff_names, t, SECTION_TITLES[kind])
    story += flowing_section(f"{_numeral(number + 1)}、记录的填写与修改（{len(job.audit)} 条）")
    rows = [[t.p(x, "label") for x in ("时间", "操作人", "操作", "记录类别")]]
    for event in job.audit:
        rows.append([t.p(fmt_dt(event.at), "value_c"), t.p(job.staff_names.get(event.actor_id, "") or "（教职工）", "value_c"),
                     t.p(ACTION_LABELS.get(event.action, event.action), "value_c"), t.p(SECTION_TITLES.get(event.record_kind, event.record_kind), "value_c")])
    if not job.audit:
        rows.append([t.p("无", "value"), "", "", ""])
    story += [grid(rows, [26, 18, 28, 28], header_row=True, repeat_header=True,
                   spans=[((0, 1), (-1, 1))] if not job.audit else [])]
    story += appendix(t)
    return story

