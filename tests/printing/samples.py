"""Realistic sample records for the printing tests, the screenshots and the benchmark."""

from __future__ import annotations

import datetime as dt

from visitapp.domain.entities import (
    Determination, FamilyMember, GrowthEntry, GrowthProfileField, MentorNote, PublicNotice,
    Student, Visit, profile_field_id,
)
from visitapp.domain.enums import (
    AidKind, GrowthKind, HardshipCategory, HardshipIndicator, Level, MentorNoteKind,
    PolicyMaterial, ProfileField, RewardKind, Stage, VisitMode, VisitStatus,
)
from visitapp.printing.documents import SheetHeader

FULL_ID = "320211201003151234"   # what must never be printed
MASKED_ID = "3202**********1234"

HEADER = SheetHeader(school="无锡市梁溪区实验中学", term_label="2026-2027学年第一学期",
                     printed_at=dt.datetime(2026, 11, 26, 10, 15), printed_by="王丽华")

NARRATIVE = (
    "本次家访由班主任与数学老师共同前往。学生家住城郊安置小区，房屋为租住的两室一厅，面积约五十平方米，"
    "家具陈旧但收拾得干净整齐。父亲去年在建筑工地受伤，右腿骨折后至今不能从事重体力劳动，目前在小区"
    "做临时保洁，月收入约一千八百元；母亲患有慢性肾病，需要定期透析，每月医疗支出约两千元，医保报销后"
    "仍有较大缺口。家中还有一个弟弟在读小学三年级。\n"
    "学生在家主动承担家务，每天放学后先照顾弟弟写作业，再完成自己的功课。家长表示孩子懂事，但性格"
    "偏内向，遇到困难不愿向老师开口。家长对学校的资助政策了解不多，本次已当面讲解了国家助学金、"
    "学杂费减免和午餐费减免的申请流程，并发放告家长书和防诈骗提示，提醒家长不要相信任何以资助为名"
    "索要银行卡信息的电话。\n"
    "综合家庭收入、医疗支出和住房情况，建议认定为比较困难，并建议学校为学生安排育人导师，关注其心理状况。"
)


def student(**kw) -> Student:
    base = dict(
        id="0192f3c4-7a1b-7c2d-8e3f-000000000001", school_id="school-1", class_name="初二（3）班",
        stage=Stage.JUNIOR, name="张晓明", masked_id=MASKED_ID, student_no="G2026080315",
        gender="男", guardian_name="张建国", district="梁溪区",
        hardship_categories=(HardshipCategory.MIN_LIVING, HardshipCategory.ILLNESS_DISASTER),
        auto_eligible=True, key_support=True, platform_level=Level.RELATIVELY,
        address="无锡市梁溪区清扬路幸福家园 12 幢 305 室", phone="139****6688",
    )
    base.update(kw)
    return Student(**base)


def visit(**kw) -> Visit:
    base = dict(
        id="0192f3c4-7a1b-7c2d-8e3f-0000000000a1", student_id="0192f3c4-7a1b-7c2d-8e3f-000000000001",
        author_id="staff-1", term="2026-2027-1", status=VisitStatus.FINAL, device_id="dev-1",
        created_at=dt.datetime(2026, 10, 12, 18, 30), updated_at=dt.datetime(2026, 10, 12, 21, 5),
        finalized_at=dt.datetime(2026, 10, 12, 21, 5),
        visit_date=dt.date(2026, 10, 12), visit_time=dt.time(16, 30), mode=VisitMode.ON_SITE,
        visitors=("李红梅", "陈志刚"),
        hardship_indicators=(HardshipIndicator.LOW_INCOME, HardshipIndicator.SERIOUS_ILLNESS,
                             HardshipIndicator.SEVERAL_CHILDREN_IN_SCHOOL),
        recommended_level=Level.RELATIVELY,
        policy_materials=(PolicyMaterial.LETTER_TO_PARENTS, PolicyMaterial.ANTI_FRAUD_NOTICE),
        guardian_consent=True,
        people_present="父亲张建国、母亲刘芳、学生本人",
        family_members=(
            FamilyMember("父亲", "张建国", 45, "小区临时保洁", "右腿骨折后遗症"),
            FamilyMember("母亲", "刘芳", 42, "无业", "慢性肾病，定期透析"),
            FamilyMember("弟弟", "张晓亮", 9, "小学三年级学生", "健康"),
        ),
        annual_income_yuan=21600, income_sources="父亲临时保洁工资；低保金",
        housing="租住安置小区两室一厅，约 50 平方米，月租 900 元",
        major_expenses="母亲透析医疗费每月约 2000 元；房租；两个孩子的学习费用",
        student_needs="希望获得助学金，减轻家庭负担；希望参加学校的数学兴趣小组。",
        family_requests="希望学校帮助了解医疗救助政策；孩子性格内向，希望老师多关心。",
        narrative=NARRATIVE,
        follow_ups="一、协助家长申请国家助学金（11 月底前）；二、安排育人导师，每月谈心一次；三、联系社区了解医疗救助。",
    )
    base.update(kw)
    return Visit(**base)


def amendment(**kw) -> Visit:
    base = dict(
        id="0192f3c4-7a1b-7c2d-8e3f-0000000000a2", amends_id="0192f3c4-7a1b-7c2d-8e3f-0000000000a1",
        created_at=dt.datetime(2026, 10, 20, 9, 0), updated_at=dt.datetime(2026, 10, 20, 9, 30),
        finalized_at=dt.datetime(2026, 10, 20, 9, 30), amendment_reason="家庭年收入录入有误，应为 19200 元",
        annual_income_yuan=19200,
    )
    base.update(kw)
    return visit(**base)


def growth_records():
    """(profile, visits, entries, notes) for the sample student."""
    sid = student().id
    profile = {
        ProfileField.STRENGTHS: GrowthProfileField(profile_field_id(sid, "strengths"), sid, ProfileField.STRENGTHS,
                                                   "数学成绩优秀，做事认真细致；在家照顾弟弟，责任心强。",
                                                   "staff-1", dt.datetime(2026, 10, 15, 8, 0)),
        ProfileField.INTERESTS: "数学竞赛、围棋、阅读科普读物",
        ProfileField.CHALLENGES: "性格内向，遇到困难不愿求助；母亲患病带来一定心理压力。",
        ProfileField.SUPPORT_PLAN: "育人导师每月谈心一次；推荐参加数学兴趣小组；寒假研学优先安排。",
    }
    visits = [visit()]
    entries = [
        GrowthEntry("e-1", sid, GrowthKind.AID, source="platform", created_at=dt.datetime(2026, 9, 20),
                    entry_date=dt.date(2026, 9, 20), title="国家助学金（秋季学期）", aid_kind=AidKind.GRANT,
                    programme="义务教育家庭经济困难学生生活补助", amount_yuan=625.0),
        GrowthEntry("e-2", sid, GrowthKind.AID, source="platform", created_at=dt.datetime(2026, 9, 1),
                    entry_date=dt.date(2026, 9, 1), title="午餐费减免", aid_kind=AidKind.LUNCH_WAIVER,
                    programme="市午餐补助", amount_yuan=800.0),
        GrowthEntry("e-3", sid, GrowthKind.REWARD, author_id="staff-1", created_at=dt.datetime(2026, 11, 2),
                    entry_date=dt.date(2026, 11, 2), title="区数学竞赛二等奖，校级表彰",
                    reward_kind=RewardKind.COMMENDATION, detail="在升旗仪式上公开表彰"),
        GrowthEntry("e-4", sid, GrowthKind.PSYCH_SUPPORT, author_id="staff-2", created_at=dt.datetime(2026, 10, 25),
                    entry_date=dt.date(2026, 10, 25), title="心理老师个别辅导一次", detail="情绪稳定，建议持续关注"),
    ]
    notes = [
        MentorNote("n-1", sid, "staff-2", MentorNoteKind.REGULAR, created_at=dt.datetime(2026, 10, 18),
                   note_date=dt.date(2026, 10, 18), participants=("陈志刚",),
                   text="第一次谈心。学生谈到母亲的病情时情绪低落，表示想早点工作帮家里。鼓励他安心学习，"
                        "介绍了高中阶段的资助政策，约定每月谈心一次。"),
        MentorNote("n-2", sid, "staff-2", MentorNoteKind.CASE_DISCUSSION, created_at=dt.datetime(2026, 11, 10),
                   note_date=dt.date(2026, 11, 10), participants=("陈志刚", "李红梅", "周敏"),
                   text="常态化研讨：班主任反映学生近期作业完成良好，课堂发言增多；心理老师建议继续个别辅导。"
                        "决定推荐其参加寒假研学活动。"),
    ]
    return profile, visits, entries, notes


def notice_and_rows():
    notice = PublicNotice("0192f3c4-7a1b-7c2d-8e3f-0000000000c1", "meeting-1", "2026-2027-1",
                          created_by="staff-9", created_at=dt.datetime(2026, 11, 20, 9, 0),
                          title="2026-2027学年第一学期家庭经济困难学生认定结果公示",
                          period_start=dt.date(2026, 11, 21), period_end=dt.date(2026, 11, 27))
    people = [("张晓明", "初二（3）班", Level.RELATIVELY), ("欧阳娜娜", "初一（1）班", Level.ESPECIALLY),
              ("李明", "初三（2）班", Level.GENERALLY), ("王芳", "初二（3）班", Level.ESPECIALLY),
              ("赵子涵", "初一（4）班", Level.NONE), ("陈一鸣", "初三（1）班", Level.RELATIVELY)]
    rows = []
    for i, (name, cls, level) in enumerate(people):
        s = student(id=f"stu-{i}", name=name, class_name=cls)
        d = Determination(f"det-{i}", s.id, "meeting-1", "2026-2027-1", level=level, final=True,
                          review_date=dt.date(2026, 11, 18))
        rows.append((s, d))
    return notice, rows
