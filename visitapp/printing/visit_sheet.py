"""The visit record sheet (家庭经济困难学生家访记录表), laid out as a ruled school form."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph

from visitapp.domain.entities import Visit
from visitapp.domain.enums import (
    HardshipIndicator, Level, PolicyMaterial, VisitMode, VisitStatus, label_zh,
)
from visitapp.domain.rules import effective_status
from visitapp.printing.documents import VisitSheetJob
from visitapp.printing.layout import (
    STYLES, TextSink, Title, appendix, boxed, checks, flowing_section, fmt_date, fmt_dt, grid,
    section_bar, spacer, subtitle,
)

__all__ = ["visit_sheet_story", "WATERMARKS"]

WATERMARKS = {
    VisitStatus.DRAFT: "草稿 不作存档",
    VisitStatus.VOIDED: "已作废",
    VisitStatus.AMENDED: "已被更正",
}
_LEVELS = (Level.ESPECIALLY, Level.RELATIVELY, Level.GENERALLY, Level.NONE)


def _yes_no(value: bool | None) -> str:
    if value is None:
        return checks([("是", False), ("否", False)])
    return checks([("是", value), ("否", not value)])


def _student_block(job: VisitSheetJob, t: TextSink) -> list:
    s = job.student
    L = lambda text: Paragraph(text, STYLES["label"])  # noqa: E731 (labels are our own text)
    V = t.cell
    cats = "、".join(label_zh(c) for c in s.hardship_categories) or "—"
    rows = [
        [L("学生姓名"), V(s.name, "学生姓名"), L("性别"), V(s.gender, "性别"), L("班级"), V(s.class_name, "班级"), L("学段"),
         V(label_zh(s.stage), "学段")],
        [L("学籍号"), V(s.student_no, "学籍号"), L("身份证号"), V(s.masked_id or "—", "身份证号"), "", "", L("监护人"),
         V(s.guardian_name, "监护人")],
        [L("家庭住址"), V(s.address, "家庭住址"), "", "", "", "", L("联系电话"), V(s.phone, "联系电话")],
        [L("困难类别"), V(cats, "困难类别"), "", "", L("重点帮扶"), Paragraph(_yes_no(s.key_support), STYLES["value"]),
         L("免申即享"), Paragraph(_yes_no(s.auto_eligible), STYLES["value"])],
    ]
    labels = [(0, 0), (2, 0), (4, 0), (6, 0), (0, 1), (2, 1), (6, 1), (0, 2), (6, 2), (0, 3),
              (4, 3), (6, 3)]
    return [
        section_bar("一、学生基本信息"),
        grid(rows, [17, 25, 15, 27, 15, 22, 17, 24], label_cells=labels,
             spans=[((3, 1), (5, 1)), ((1, 2), (5, 2)), ((1, 3), (3, 3))]),
    ]


def _visit_block(v: Visit, status: VisitStatus, t: TextSink) -> list:
    L = lambda text: Paragraph(text, STYLES["label"])  # noqa: E731
    modes = checks([(label_zh(m), v.mode == m) for m in VisitMode])
    time = v.visit_time.strftime("%H:%M") if v.visit_time else ""
    visitors = "、".join(x for x in v.visitors if x.strip())
    finalized = f"（定稿于 {fmt_dt(v.finalized_at)}）" if v.finalized_at else ""
    rows = [
        [L("家访日期"), t.p(fmt_date(v.visit_date)), L("家访时间"), t.p(time), L("家访方式"),
         Paragraph(modes, STYLES["value"])],
        [L("家访教师"), t.cell(visitors, "家访教师"), "", "", L("在场人员"), t.cell(v.people_present, "在场人员")],
        [L("监护人同意"), Paragraph(_yes_no(v.guardian_consent), STYLES["value"]), "", "",
         L("记录状态"), t.p(label_zh(status) + finalized)],
    ]
    return [
        section_bar("二、家访基本情况"),
        grid(rows, [22, 38, 18, 14, 18, 70],
             label_cells=[(0, 0), (2, 0), (4, 0), (0, 1), (4, 1), (0, 2), (4, 2)],
             spans=[((1, 1), (3, 1)), ((1, 2), (3, 2))]),
    ]


def _family_block(v: Visit, t: TextSink) -> list:
    L = lambda text: Paragraph(text, STYLES["label"])  # noqa: E731
    members = [[L("与学生关系"), L("姓名"), L("年龄"), L("职业（工作单位）"), L("健康状况")]]
    for m in v.family_members:
        members.append([t.cell(m.relation, "家庭成员关系", "value_c", 40), t.cell(m.name, "家庭成员姓名", "value_c", 40),
                        t.p("" if m.age is None else m.age, "value_c"), t.cell(m.occupation, f"{m.relation}的职业"),
                        t.cell(m.health, f"{m.relation}的健康状况")])
    while len(members) < 4:  # blank ruled rows, as on the paper form, to write in by hand
        members.append(["", "", "", "", ""])
    income = "" if v.annual_income_yuan is None else f"{v.annual_income_yuan:,} 元"
    rows = [
        [L("家庭年收入"), t.p(income), L("主要收入来源"), t.cell(v.income_sources, "主要收入来源")],
        [L("住房情况"), t.cell(v.housing, "住房情况", limit=400), "", ""],
        [L("主要支出"), t.cell(v.major_expenses, "主要支出", limit=400), "", ""],
    ]
    return [
        section_bar("三、家庭情况"),
        grid(members, [20, 22, 12, 40, 36], header_row=True, repeat_header=True),
        grid(rows, [20, 34, 22, 54], label_cells=[(0, 0), (2, 0), (0, 1), (0, 2)],
             spans=[((1, 1), (3, 1)), ((1, 2), (3, 2))]),
    ]


def _hardship_block(v: Visit) -> list:
    ticked = set(v.hardship_indicators)
    items = [Paragraph(checks([(label_zh(i), i in ticked)]), STYLES["value"]) for i in HardshipIndicator]
    rows = [items[i:i + 4] for i in range(0, len(items), 4)]
    while len(rows[-1]) < 4:
        rows[-1].append("")
    table = grid(rows, [1] * 4, spans=[((2, len(rows) - 1), (3, len(rows) - 1))]
                 if len(items) % 4 == 2 else [])
    return [section_bar("四、家庭经济困难情况（家访核实，符合的打“☑”）"), table]


def _needs_block(v: Visit, t: TextSink) -> list:
    L = lambda text: Paragraph(text, STYLES["label"])  # noqa: E731
    handed = set(v.policy_materials)
    materials = checks([(label_zh(m), m in handed) for m in PolicyMaterial])
    levels = checks([(label_zh(lv), v.recommended_level == lv) for lv in _LEVELS])
    rows = [
        [L("学生需求"), t.cell(v.student_needs or "—", "学生需求", limit=400)],
        [L("家庭诉求"), t.cell(v.family_requests or "—", "家庭诉求", limit=400)],
        [L("发放政策宣传材料"), Paragraph(materials, STYLES["value"])],
        [L("建议认定等级"), Paragraph(levels, STYLES["value"])],
    ]
    return [section_bar("五、需求与资助政策宣传"),
            grid(rows, [22, 108], label_cells=[(0, r) for r in range(4)])]


def _amendment_block(job: VisitSheetJob, t: TextSink) -> list:
    v = job.visit
    out: list = []
    lines = []
    if v.amends_id:
        lines.append(f"本记录是对记录 {v.amends_id} 的更正。更正原因：{v.amendment_reason or '—'}")
    if v.status == VisitStatus.VOIDED:
        lines.append(f"本记录已作废。作废原因：{v.void_reason or '—'}")
    if not lines and not job.amendments:
        return out
    out.append(section_bar("八、更正与作废记录"))
    if lines:
        out.append(grid([[t.cell(line, "更正或作废说明", limit=600)] for line in lines], [1]))
    if job.amendments:
        L = lambda text: Paragraph(text, STYLES["label"])  # noqa: E731
        rows = [[L("更正记录编号"), L("状态"), L("更正原因"), L("定稿时间")]]
        for a in sorted(job.amendments, key=_by_time):
            rows.append([t.p(a.id, "small"), t.p(label_zh(a.status), "value_c"),
                         t.cell(a.amendment_reason, "更正原因"), t.p(fmt_dt(a.finalized_at), "value_c")])
        out.append(grid(rows, [50, 14, 45, 24], header_row=True, repeat_header=True))
    return out


def _by_time(v: Visit) -> tuple:
    moment = v.created_at or v.updated_at
    return (moment.isoformat() if moment else "", v.id)


def _signature_block(job: VisitSheetJob, t: TextSink, number: str) -> list:
    L = lambda text: Paragraph(text, STYLES["label"])  # noqa: E731
    # a plain cell string keeps its ideographic spaces (a paragraph would collapse them)
    date_line = "　　　　年　　月　　日"
    rows = [[L("签署人"), L("姓名"), L("签名"), L("日期")]]
    visitors = [x for x in job.visit.visitors if x.strip()] or [""]
    for name in visitors:
        rows.append([L("家访教师"), t.cell(name, "家访教师", "value_c", 40), "", date_line])
    rows.append([L("监护人<br/>（确认以上情况属实）"), t.cell(job.student.guardian_name, "监护人", "value_c", 40), "", date_line])
    rows.append([L("审核人"), t.cell(job.reviewer, "审核人", "value_c", 40), "",
                 t.p(job.reviewed_on, "value_c") if job.reviewed_on else date_line])
    # a handwritten signature needs room: 12 mm per row
    table = grid(rows, [30, 26, 44, 30], header_row=True,
                 label_cells=[(0, r) for r in range(1, len(rows))],
                 row_heights=[None] + [12 * mm] * (len(rows) - 1),
                 extra=[("ALIGN", (3, 1), (3, -1), "CENTER")])
    return [KeepTogether([section_bar(f"{number}、签字确认"), table])]


def visit_sheet_story(job: VisitSheetJob, t: TextSink) -> tuple[list, str]:
    """The flowables of one visit record sheet and its watermark ("" for a final record)."""
    v = job.visit
    status = effective_status(v, job.amendments)
    story: list = [
        Title("家庭经济困难学生家访记录表"),
        subtitle(t, f"学校：{job.header.school}", f"学期：{job.header.term_label}"),
        spacer(3),
    ]
    story += _student_block(job, t)
    story += [spacer(2.5)] + _visit_block(v, status, t)
    story += [spacer(2.5)] + _family_block(v, t)
    story += [spacer(2.5)] + _hardship_block(v)
    story += [spacer(2.5)] + _needs_block(v, t)
    story += [spacer(2.5), *flowing_section("六、家访情况记录（家庭经济状况、学生在家表现、家长意见等）"),
              boxed(t, v.narrative, min_lines=4)]
    story += [spacer(2.5), *flowing_section("七、后续跟进"),
              boxed(t, v.follow_ups, style="value", min_lines=2)]
    amend = _amendment_block(job, t)
    if amend:
        story += [spacer(2.5)] + amend
    signatures = _signature_block(job, t, "九" if amend else "八")
    # long values print in full before the signatures, so the guardian signs for them too
    story += appendix(t) + [spacer(2.5)] + signatures
    return story, WATERMARKS.get(status, "")
