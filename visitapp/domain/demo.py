"""A deterministic demo school: classes across stages, hardship categories in plausible
proportions, auto-eligible and key-support students, staff, assignments, visits, growth
entries, profile fields and mentor notes.

The same ``seed``, size and ``today`` give the same school, ids included, so a demo, a test
and a benchmark can each rebuild it. Names are zh_CN (Faker); stories are assembled from
templates, so nothing about a real family is ever in demo data.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field

from faker import Faker

from visitapp.domain.entities import (
    Assignment, FamilyMember, GrowthEntry, GrowthProfileField, MentorNote, School, Staff, Student,
    Visit, profile_field_id,
)
from visitapp.domain.enums import (
    AidKind, AssignmentRole, GrowthKind, HardshipCategory, HardshipIndicator, Level,
    MentorNoteKind, PolicyMaterial, ProfileField, RewardKind, Role, Stage, VisitMode, VisitStatus,
)
from visitapp.domain.terms import term_bounds, term_of

# Share of hardship students in each category (a student may have a second one).
CATEGORY_WEIGHTS = [
    (HardshipCategory.MIN_LIVING, 28), (HardshipCategory.NEAR_MIN_LIVING, 18),
    (HardshipCategory.RELAPSE_MONITORED, 10), (HardshipCategory.DISABILITY, 10),
    (HardshipCategory.ILLNESS_DISASTER, 12), (HardshipCategory.EXTREME_POVERTY, 3),
    (HardshipCategory.ORPHAN, 2), (HardshipCategory.NO_CARER, 3), (HardshipCategory.OTHER, 14),
]
AUTO_ELIGIBLE = {HardshipCategory.EXTREME_POVERTY, HardshipCategory.MIN_LIVING, HardshipCategory.ORPHAN,
                 HardshipCategory.NO_CARER, HardshipCategory.NEAR_MIN_LIVING}
GRADES = [  # (grade label, stage)
    ("大", Stage.PRESCHOOL), ("一年级", Stage.PRIMARY), ("二年级", Stage.PRIMARY),
    ("三年级", Stage.PRIMARY), ("四年级", Stage.PRIMARY), ("五年级", Stage.PRIMARY),
    ("六年级", Stage.PRIMARY), ("七年级", Stage.JUNIOR), ("八年级", Stage.JUNIOR),
    ("九年级", Stage.JUNIOR), ("高一", Stage.SENIOR), ("高二", Stage.SENIOR), ("高三", Stage.SENIOR),
]
HOUSING = ["租住城郊老旧平房，约 30 平方米", "与祖父母同住农村自建房，屋顶漏雨", "安置小区两居室，家具简陋",
           "借住亲戚家，一家四口住一间", "自有住房，但因病负债"]
INCOME = ["母亲在超市做理货员，父亲打零工", "靠低保金和祖母种菜维持", "父亲外出务工，收入不稳定",
          "母亲残疾无业，父亲做保洁", "家庭主要靠亲属接济"]
EXPENSES = ["父亲长期透析的医疗费", "两个孩子的学习生活费", "祖母慢性病用药", "房贷与欠款", "康复训练费用"]
NEEDS = ["希望有安静的地方写作业", "需要一台旧电脑上网课", "数学基础薄弱，希望有人辅导", "想参加学校的合唱团",
         "需要心理疏导，情绪低落"]
REQUESTS = ["希望减免午餐费", "希望了解助学金申请流程", "希望学校多关注孩子的情绪", "希望帮助申请临时救助"]
STORY = ["孩子懂事，放学后帮忙照顾弟弟妹妹。", "家中收拾得干净整齐，家长对学校工作很配合。",
         "家长情绪低落，谈到医疗费时几次哽咽。", "孩子的奖状贴满了墙，是家里最亮的地方。",
         "家长担心孩子升学后费用增加。", "我们向家长详细解释了资助政策和申请流程。",
         "孩子说长大想当医生，给奶奶治病。", "邻居反映家长很辛苦，经常早出晚归。"]
STRENGTHS = ["学习刻苦，作业认真", "擅长绘画，多次获奖", "乐于助人，担任班干部", "体育突出，长跑第一"]
INTERESTS = ["阅读、书法", "篮球", "编程兴趣小组", "合唱、古筝"]
CHALLENGES = ["英语基础薄弱", "性格内向，不善表达", "经常需要照顾家人，睡眠不足", "对未来升学感到焦虑"]
PLANS = ["安排学业结对辅导，每周两次", "推荐参加学校心理社团", "申请励志奖学金并跟踪使用", "每月一次导师谈心"]


@dataclass
class DemoSchool:
    school: School
    staff: list[Staff]
    students: list[Student]
    assignments: list[Assignment] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    growth_entries: list[GrowthEntry] = field(default_factory=list)
    profile_fields: list[GrowthProfileField] = field(default_factory=list)
    mentor_notes: list[MentorNote] = field(default_factory=list)

    @property
    def officer(self) -> Staff:
        return next(s for s in self.staff if s.role == Role.OFFICER)

    @property
    def teachers(self) -> list[Staff]:
        return [s for s in self.staff if s.role == Role.TEACHER]

    def records(self) -> list[object]:
        """Everything, in an order that satisfies references (students before their visits)."""
        return [*self.staff, *self.students, *self.assignments, *self.visits, *self.growth_entries,
                *self.profile_fields, *self.mentor_notes]


def _day_in(rng: random.Random, span: int) -> int:
    """A day offset below ``span`` drawn with one ``random()`` whatever the span:
    ``randrange(span)`` draws a varying number of times as the span grows with ``today``, which
    shifted every later draw, so the same seed gave another roster (and other mentors) from one
    day to the next."""
    return min(span - 1, int(rng.random() * span))


def generate_school(seed: int = 2024, students: int = 300, teachers: int | None = None,
                    today: dt.date | None = None, school_name: str = "无锡市梁溪区示范学校",
                    teacher_ids: dict[int, str] | None = None) -> DemoSchool:
    """Build a demo school. ``teacher_ids`` may pin teacher *n*'s id (e.g. to the profile's own)."""
    today = today or dt.date.today()
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    ns = uuid.UUID(int=rng.getrandbits(128))

    def make_id(*parts: object) -> str:
        return str(uuid.uuid5(ns, "|".join(map(str, parts))))

    term = term_of(today)
    term_start, _ = term_bounds(term)
    school = School(id=make_id("school"), name=school_name, district="梁溪区")
    n_teachers = teachers or max(2, students // 25)
    staff = [Staff(id=make_id("staff", 0), school_id=school.id, role=Role.OFFICER, name=fake.name())]
    for i in range(1, n_teachers + 1):
        sid = (teacher_ids or {}).get(i) or make_id("staff", i)
        staff.append(Staff(id=sid, school_id=school.id, role=Role.TEACHER, name=fake.name()))
    teacher_list = staff[1:]

    per_class = 12
    n_classes = max(1, (students + per_class - 1) // per_class)
    classes = []
    for c in range(n_classes):
        grade, stage = GRADES[c % len(GRADES)]
        classes.append((f"{grade}({c // len(GRADES) + 1})班", stage, teacher_list[c % len(teacher_list)]))

    cats = [c for c, _ in CATEGORY_WEIGHTS]
    weights = [w for _, w in CATEGORY_WEIGHTS]
    demo = DemoSchool(school, staff, [])
    visit_day_span = max(1, (today - term_start).days)
    for i in range(students):
        class_name, stage, class_teacher = classes[i // per_class]
        categories = {rng.choices(cats, weights)[0]}
        if rng.random() < 0.15:
            categories.add(rng.choices(cats, weights)[0])
        if stage == Stage.PRESCHOOL and rng.random() < 0.3:
            categories.add(HardshipCategory.SPECIAL_NEEDS_PRESCHOOL)
        key = bool(categories & {HardshipCategory.ORPHAN, HardshipCategory.NO_CARER,
                                 HardshipCategory.EXTREME_POVERTY}) or rng.random() < 0.12
        gender = rng.choice(["男", "女"])
        name = fake.name_male() if gender == "男" else fake.name_female()
        student = Student(
            id=make_id("student", i), school_id=school.id, class_name=class_name, stage=stage,
            name=name, masked_id=f"3202{'*' * 10}{rng.randint(0, 999):03d}{rng.choice('0123456789X')}",
            platform_ref=f"WX{seed % 1000:03d}{i:06d}", student_no=f"{i + 1:05d}", gender=gender,
            guardian_name=fake.name(), district="梁溪区",
            hardship_categories=tuple(sorted(categories)), auto_eligible=bool(categories & AUTO_ELIGIBLE),
            key_support=key, address=f"无锡市梁溪区{fake.street_name()}{rng.randint(1, 300)}号", phone=fake.phone_number(),
        )
        demo.students.append(student)
        demo.assignments.append(Assignment(id=make_id("assign", i, "v"), student_id=student.id,
                                           staff_id=class_teacher.id, role=AssignmentRole.VISITOR,
                                           term=term, assigned_by=staff[0].id))
        mentor = None
        if key:
            mentor = teacher_list[(teacher_list.index(class_teacher) + 1) % len(teacher_list)]
            if rng.random() < 0.9:  # a few key-support students still lack a mentor: the report shows them
                demo.assignments.append(Assignment(id=make_id("assign", i, "m"), student_id=student.id,
                                                   staff_id=mentor.id, role=AssignmentRole.MENTOR, term=term,
                                                   assigned_by=staff[0].id))
            else:
                mentor = None
        roll = rng.random()
        if roll < 0.45:
            status = VisitStatus.FINAL if roll < 0.40 else VisitStatus.DRAFT
            day = term_start + dt.timedelta(days=_day_in(rng, visit_day_span))
            demo.visits.append(_visit(make_id("visit", i), student, class_teacher, teacher_list, rng, fake,
                                      day, status))
        for k in range(rng.choice([1, 1, 2, 3])):
            aid_kind = rng.choice([AidKind.GRANT, AidKind.LUNCH_WAIVER, AidKind.FEE_WAIVER, AidKind.SOCIAL_PROGRAMME])
            title = {AidKind.GRANT: "国家助学金", AidKind.LUNCH_WAIVER: "在校午餐费减免",
                     AidKind.FEE_WAIVER: "学杂费减免", AidKind.SOCIAL_PROGRAMME: rng.choice(["筑梦书香", "暖芯护苗"])}[aid_kind]
            demo.growth_entries.append(GrowthEntry(
                id=make_id("aid", i, k), student_id=student.id, kind=GrowthKind.AID, source="platform",
                entry_date=term_start - dt.timedelta(days=rng.randrange(30, 400)), title=title, aid_kind=aid_kind,
                programme=title if aid_kind == AidKind.SOCIAL_PROGRAMME else "",
                amount_yuan=float(rng.choice([500, 750, 1000, 1500, 2000]))))
        if rng.random() < 0.55:
            reward = rng.choice(list(RewardKind))
            demo.growth_entries.append(GrowthEntry(
                id=make_id("reward", i), student_id=student.id, kind=GrowthKind.REWARD, author_id=class_teacher.id,
                entry_date=term_start + dt.timedelta(days=_day_in(rng, visit_day_span)), reward_kind=reward,
                title={RewardKind.SCHOLARSHIP: "中小学励志奖学金", RewardKind.COMMENDATION: "校级“自强之星”表彰",
                       RewardKind.JOB_PRACTICE: "图书馆志愿岗位锻炼", RewardKind.STUDY_TRIP: "暑期研学（南京）"}[reward],
                amount_yuan=1000.0 if reward == RewardKind.SCHOLARSHIP else None))
        if rng.random() < 0.35 or key:
            for f, pool in ((ProfileField.STRENGTHS, STRENGTHS), (ProfileField.INTERESTS, INTERESTS),
                            (ProfileField.CHALLENGES, CHALLENGES), (ProfileField.SUPPORT_PLAN, PLANS)):
                demo.profile_fields.append(GrowthProfileField(
                    id=profile_field_id(student.id, f), student_id=student.id, field=f, value=rng.choice(pool),
                    updated_by=class_teacher.id))
        if mentor is not None:
            for k in range(rng.randint(1, 3)):
                kind = MentorNoteKind.CASE_DISCUSSION if k == 2 else rng.choice(
                    [MentorNoteKind.REGULAR, MentorNoteKind.REGULAR, MentorNoteKind.PSYCH])
                demo.mentor_notes.append(MentorNote(
                    id=make_id("note", i, k), student_id=student.id, author_id=mentor.id, kind=kind,
                    note_date=term_start + dt.timedelta(days=_day_in(rng, visit_day_span)),
                    participants=(mentor.name, class_teacher.name) if kind == MentorNoteKind.CASE_DISCUSSION else (mentor.name,),
                    text=rng.choice(NEEDS) + "。" + rng.choice(PLANS) + "。"))
    return demo


def _visit(visit_id: str, student: Student, teacher: Staff, teachers: list[Staff], rng: random.Random,
           fake: Faker, day: dt.date, status: VisitStatus) -> Visit:
    partner = rng.choice(teachers)
    visitors = (teacher.name,) if partner.id == teacher.id else (teacher.name, partner.name)
    members = (FamilyMember("母亲", fake.name_female(), rng.randint(32, 50), rng.choice(["保洁员", "务农", "无业"]), rng.choice(["健康", "慢性病"])),
               FamilyMember("父亲", fake.name_male(), rng.randint(34, 55), rng.choice(["外出务工", "打零工", "无业"]), rng.choice(["健康", "残疾", "重病"])),
               FamilyMember("祖母", "", rng.randint(62, 85), "无", rng.choice(["高血压", "健康"])))
    at = dt.datetime.combine(day, dt.time(16, 30)).astimezone()
    return Visit(
        id=visit_id, student_id=student.id, author_id=teacher.id, term=term_of(day), status=status,
        device_id="demo", created_at=at, updated_at=at, finalized_at=at if status == VisitStatus.FINAL else None,
        visit_date=day, visit_time=dt.time(16, 30), mode=VisitMode.ON_SITE if rng.random() < 0.9 else VisitMode.PHONE,
        visitors=visitors, hardship_indicators=tuple(sorted(set(rng.sample(list(HardshipIndicator), rng.randint(1, 4))))),
        recommended_level=rng.choice([Level.ESPECIALLY, Level.RELATIVELY, Level.GENERALLY]),
        policy_materials=tuple(sorted(set(rng.sample(list(PolicyMaterial), rng.randint(1, 3))))), guardian_consent=True,
        people_present=f"{student.guardian_name}（监护人）、{student.name}", family_members=members,
        annual_income_yuan=rng.randrange(8000, 60000, 500), income_sources=rng.choice(INCOME),
        housing=rng.choice(HOUSING), major_expenses=rng.choice(EXPENSES), student_needs=rng.choice(NEEDS),
        family_requests=rng.choice(REQUESTS), narrative="".join(rng.sample(STORY, 4)),
        follow_ups="下月电话回访，跟进助学金申请进度。",
    )
