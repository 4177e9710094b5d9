"""The aid growth file (学生资助成长档案): profile, then visits, rewards, aid and mentor notes."""

from __future__ import annotations

import datetime as dt

from reportlab.platypus import KeepTogether, Paragraph

from visitapp.domain.enums import GrowthKind, ProfileField, label_zh
from visitapp.domain.entities import GrowthProfileField
from visitapp.domain.rules import effective_status
from visitapp.printing.documents import GrowthFileJob
from visitapp.printing.layout import (
    STYLES, TextSink, Title, appendix, boxed, flowing_section, fmt_date, grid, section_bar, spacer,
    subtitle,
)

__all__ = ["growth_file_story"]

_NONE_YET = "（暂无记录）"


def _L(text: str) -> Paragraph:
    return Paragraph(text, STYLES["label"])


def _day(d: dt.date | None) -> str:
    return d.isoformat() if d else ""


def _amount(yuan: float | None) -> str:
    if yuan is None:
        return ""
    return f"{yuan:,.2f}".rstrip("0").rstrip(".") + " 元"


def _profile_text(value: GrowthProfileField | str | None) -> str:
    if isinstance(value, GrowthProfileField):
        return value.value
    return value or ""


def _empty_row(cols: int, t: TextSink) -> list:
    return [t.p(_NONE_YET, "value_c")] + [""] * (cols - 1)


def growth_file_story(job: GrowthFileJob, t: TextSink) -> list:
    """The flowables of one student's growth file."""
    s = job.student
    yes_no = lambda b: "是" if b else "否"  # noqa: E731
    cats = "、".join(label_zh(c) for c in s.hardship_categories) or "—"
    info = [
        [_L("学生姓名"), t.cell(s.name, "学生姓名"), _L("性别"), t.cell(s.gender, "性别"), _L("班级"), t.cell(s.class_name, "班级"),
         _L("学段"), t.p(label_zh(s.stage))],
        [_L("身份证号"), t.p(s.masked_id or "—"), "", "", _L("监护人"), t.cell(s.guardian_name, "监护人"),
         _L("认定等级"), t.p(label_zh(s.platform_level) or "—")],
        [_L("困难类别"), t.cell(cats, "困难类别"), "", "", _L("重点帮扶"), t.p(yes_no(s.key_support)),
         _L("免申即享"), t.p(yes_no(s.auto_eligible))],
    ]
    story: list = [
        Title("学生资助成长档案"),
        subtitle(t, f"学校：{job.header.school}", f"学期：{job.header.term_label}"),
        spacer(3),
        section_bar("一、基本信息"),
        grid(info, [17, 25, 15, 27, 15, 22, 17, 24],
             label_cells=[(c, r) for r in range(3) for c in (0, 2, 4, 6) if (c, r) not in ((2, 1), (2, 2))],
             spans=[((1, 1), (3, 1)), ((1, 2), (3, 2))]),
        spacer(2.5),
        section_bar("二、学生特点与帮扶计划"),
    ]
    prof = {str(k): v for k, v in job.profile.items()}
    rows = [[_L(label_zh(f)), t.cell(_profile_text(prof.get(str(f))) or "—", label_zh(f), limit=400)] for f in ProfileField]
    story.append(grid(rows, [22, 108], label_cells=[(0, r) for r in range(len(rows))]))

    # visits
    head = [_L("家访日期"), _L("方式"), _L("家访教师"), _L("建议等级"), _L("状态"), _L("学生需求")]
    rows = [head]
    for v in sorted(job.visits, key=lambda v: (v.visit_date or dt.date.min, v.id)):
        rows.append([t.p(_day(v.visit_date), "value_c"), t.p(label_zh(v.mode), "value_c"),
                     t.cell("、".join(v.visitors), f"{_day(v.visit_date)} 家访教师"), t.p(label_zh(v.recommended_level) or "—", "value_c"),
                     t.p(label_zh(effective_status(v, job.visits)), "value_c"), t.cell(v.student_needs, f"{_day(v.visit_date)} 家访所记学生需求")])
    if len(rows) == 1:
        rows.append(_empty_row(6, t))
    story += [spacer(2.5), section_bar("三、家访记录"),
              grid(rows, [19, 15, 22, 15, 13, 46], header_row=True, repeat_header=True,
                   spans=[((0, 1), (-1, 1))] if not job.visits else [])]

    def entry_table(kinds: tuple[GrowthKind, ...], title: str, with_amount: bool) -> list:
        chosen = sorted((e for e in job.entries if e.kind in kinds),
                        key=lambda e: (e.entry_date or dt.date.min, e.id))
        if with_amount:
            rows = [[_L("日期"), _L("类型"), _L("名称 / 项目"), _L("金额"), _L("来源")]]
            widths = [19, 20, 57, 17, 17]
        else:
            rows = [[_L("日期"), _L("类型"), _L("名称"), _L("情况说明")]]
            widths = [19, 20, 40, 51]
        for e in chosen:
            kind = label_zh(e.reward_kind or e.aid_kind or e.kind)
            name = e.title + (f"（{e.programme}）" if e.programme else "")
            if with_amount and e.detail:
                name += f"\n{e.detail}"
            if with_amount:
                rows.append([t.p(_day(e.entry_date), "value_c"), t.p(kind, "value_c"), t.cell(name, f"{_day(e.entry_date)} {e.title}"),
                             t.p(_amount(e.amount_yuan), "value_c"),
                             t.p("市平台" if e.source == "platform" else "学校", "value_c")])
            else:
                rows.append([t.p(_day(e.entry_date), "value_c"), t.p(kind, "value_c"), t.cell(name, f"{_day(e.entry_date)} 名称"),
                             t.cell(e.detail, f"{_day(e.entry_date)} {e.title}")])
        if not chosen:
            rows.append(_empty_row(len(widths), t))
        return [spacer(2.5), section_bar(title),
                grid(rows, widths, header_row=True, repeat_header=True,
                     spans=[((0, 1), (-1, 1))] if not chosen else [])]

    story += entry_table((GrowthKind.REWARD,), "四、成长奖励（奖学金、公开表彰、岗位锻炼、研学机会）", False)
    story += entry_table((GrowthKind.AID,), "五、资助历史", True)
    story += entry_table((GrowthKind.PSYCH_SUPPORT, GrowthKind.ACTIVITY), "六、心理帮扶与活动", False)

    story += [spacer(2.5), *flowing_section("七、育人导师记录")]
    notes = sorted(job.notes, key=lambda n: (n.note_date or dt.date.min, n.id))
    if not notes:
        story.append(grid([[t.p(_NONE_YET, "value_c")]], [1]))
    for n in notes:
        who = "、".join(n.participants) or job.staff_names.get(n.author_id, "")
        line = f"{fmt_date(n.note_date)}　{label_zh(n.kind)}　参与人：{who or '—'}"
        # the note's heading never stays behind at the foot of a page without its text
        story.append(KeepTogether([grid([[Paragraph(t(line), STYLES["label_left"])]], [1],
                                        label_cells=[(0, 0)]),
                                   boxed(t, n.text, style="body", min_lines=1)]))
    story += appendix(t)
    return story
