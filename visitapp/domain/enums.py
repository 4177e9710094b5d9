"""Enumerations of the domain. Values are the stable codes used in storage, on the wire and
towards the city platform; ``LABELS_ZH`` gives the Chinese wording for screens and paper."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Role", "AssignmentRole", "Stage", "HardshipCategory", "VisitMode", "VisitStatus",
    "Level", "HardshipIndicator", "PolicyMaterial", "GrowthKind", "RewardKind", "AidKind",
    "MentorNoteKind", "ProfileField", "NoticeStatus", "ConflictStatus", "Kind", "LABELS_ZH",
    "label_zh", "ApplicationChannel", "ApplicationMaterial", "ReviewVerdict", "REVIEWABLE_KINDS",
]


class Role(StrEnum):
    TEACHER = "teacher"
    OFFICER = "officer"


class AssignmentRole(StrEnum):
    VISITOR = "visitor"
    MENTOR = "mentor"


class Stage(StrEnum):
    PRESCHOOL = "preschool"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    VOCATIONAL = "vocational"


class HardshipCategory(StrEnum):
    EXTREME_POVERTY = "extreme_poverty"      # 特困供养
    MIN_LIVING = "min_living"                # 低保
    NEAR_MIN_LIVING = "near_min_living"      # 低保边缘
    ORPHAN = "orphan"                        # 孤儿
    NO_CARER = "no_carer"                    # 事实无人抚养
    DISABILITY = "disability"                # 残疾
    RELAPSE_MONITORED = "relapse_monitored"  # 防返贫监测
    SPECIAL_NEEDS_PRESCHOOL = "special_needs_preschool"  # 特需幼儿
    ILLNESS_DISASTER = "illness_disaster"    # 因病因灾
    OTHER = "other"                          # 其他


class VisitMode(StrEnum):
    ON_SITE = "on_site"
    PHONE = "phone"
    VIDEO = "video"


class VisitStatus(StrEnum):
    """Stored status. ``amended`` is derived (a final visit that a later amendment supersedes)
    and never stored, so a finalized record is never rewritten to say so."""

    DRAFT = "draft"
    FINAL = "final"
    AMENDED = "amended"
    VOIDED = "voided"


class Level(StrEnum):
    ESPECIALLY = "1"   # 特别困难
    RELATIVELY = "2"   # 比较困难
    GENERALLY = "3"    # 一般困难
    NONE = "none"      # 不认定


class HardshipIndicator(StrEnum):
    """The checklist a visiting teacher ticks in the family's home."""

    LOW_INCOME = "low_income"
    UNEMPLOYMENT = "unemployment"
    SERIOUS_ILLNESS = "serious_illness"
    DISABILITY_IN_FAMILY = "disability_in_family"
    SINGLE_PARENT = "single_parent"
    RAISED_BY_GRANDPARENTS = "raised_by_grandparents"
    POOR_HOUSING = "poor_housing"
    HEAVY_DEBT = "heavy_debt"
    SEVERAL_CHILDREN_IN_SCHOOL = "several_children_in_school"
    DISASTER = "disaster"


class PolicyMaterial(StrEnum):
    LETTER_TO_PARENTS = "letter_to_parents"   # 告家长书
    POLICY_LEAFLET = "policy_leaflet"         # 资助政策宣传单
    ANTI_FRAUD_NOTICE = "anti_fraud_notice"   # 防诈骗提示


class GrowthKind(StrEnum):
    REWARD = "reward"
    AID = "aid"
    PSYCH_SUPPORT = "psych_support"
    ACTIVITY = "activity"


class RewardKind(StrEnum):
    SCHOLARSHIP = "scholarship"
    COMMENDATION = "commendation"
    JOB_PRACTICE = "job_practice"
    STUDY_TRIP = "study_trip"


class AidKind(StrEnum):
    GRANT = "grant"
    FEE_WAIVER = "fee_waiver"
    LUNCH_WAIVER = "lunch_waiver"
    SOCIAL_PROGRAMME = "social_programme"


class MentorNoteKind(StrEnum):
    REGULAR = "regular"
    CASE_DISCUSSION = "case_discussion"
    PSYCH = "psych"


class ProfileField(StrEnum):
    STRENGTHS = "strengths"
    INTERESTS = "interests"
    CHALLENGES = "challenges"
    SUPPORT_PLAN = "support_plan"


class NoticeStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ConflictStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Kind(StrEnum):
    """Record kinds as they travel in the sync protocol."""

    STUDENT = "student"
    STAFF = "staff"
    ASSIGNMENT = "assignment"
    VISIT = "visit"
    GROWTH_PROFILE_FIELD = "growth_profile_field"
    GROWTH_ENTRY = "growth_entry"
    MENTOR_NOTE = "mentor_note"
    REVIEW_MEETING = "review_meeting"
    DETERMINATION = "determination"
    PUBLIC_NOTICE = "public_notice"
    OBJECTION = "objection"
    CONFLICT = "conflict"
    AUDIT_EVENT = "audit_event"
    SUPPORT_CENTRE = "support_centre"
    # issue 15: applications (申请) and the review of records (谁审核谁负责)
    APPLICATION = "application"
    RECORD_REVIEW = "record_review"
    REVIEWER_APPOINTMENT = "reviewer_appointment"


# -- issue 15: applications and the review of records ---------------------------------------------
class ApplicationChannel(StrEnum):
    """How an application reached the school (plan §3: 资助申请; 免申即享 for the platform's own)."""

    FAMILY = "family"                 # 学生本人或家长申请
    CLASS_TEACHER = "class_teacher"   # 班主任推荐
    PLATFORM_AUTO = "platform_auto"   # 平台自动认定（免申即享）


class ApplicationMaterial(StrEnum):
    """The papers received with an application (tier B: what was handed in, not its content)."""

    APPLICATION_FORM = "application_form"          # 认定申请表
    HOUSEHOLD_REGISTER = "household_register"      # 户口簿
    HARDSHIP_CERTIFICATE = "hardship_certificate"  # 低保、特困等困难证明
    DISABILITY_CERTIFICATE = "disability_certificate"  # 残疾证
    MEDICAL_PROOF = "medical_proof"                # 医疗或大病证明
    INCOME_PROOF = "income_proof"                  # 收入或失业证明
    OTHER_MATERIAL = "other_material"              # 其他材料


class ReviewVerdict(StrEnum):
    APPROVED = "approved"   # 已审核
    RETURNED = "returned"   # 退回


# the kinds a reviewer reviews (谁审核谁负责): finalized visits and growth entries
REVIEWABLE_KINDS = ("visit", "growth_entry")


LABELS_ZH: dict[str, str] = {
    # stages
    "preschool": "学前", "primary": "小学", "junior": "初中", "senior": "高中", "vocational": "中职",
    # hardship categories
    "extreme_poverty": "特困供养", "min_living": "低保", "near_min_living": "低保边缘",
    "orphan": "孤儿", "no_carer": "事实无人抚养", "disability": "残疾",
    "relapse_monitored": "防返贫监测", "special_needs_preschool": "特需幼儿",
    "illness_disaster": "因病因灾", "other": "其他",
    # modes and statuses
    "on_site": "实地走访", "phone": "电话家访", "video": "视频家访",
    "draft": "草稿", "final": "已定稿", "amended": "已更正", "voided": "已作废",
    # levels
    "1": "特别困难", "2": "比较困难", "3": "一般困难", "none": "不认定",
    # indicators
    "low_income": "家庭收入低", "unemployment": "家庭成员失业", "serious_illness": "家庭成员重病",
    "disability_in_family": "家庭成员残疾", "single_parent": "单亲家庭",
    "raised_by_grandparents": "隔代抚养", "poor_housing": "住房条件差", "heavy_debt": "负债较重",
    "several_children_in_school": "多子女就学", "disaster": "遭受灾害或突发事件",
    # policy materials
    "letter_to_parents": "告家长书", "policy_leaflet": "资助政策宣传单",
    "anti_fraud_notice": "防诈骗提示",
    # growth
    "reward": "成长奖励", "aid": "资助", "psych_support": "心理帮扶", "activity": "活动",
    "scholarship": "奖学金", "commendation": "公开表彰", "job_practice": "岗位锻炼",
    "study_trip": "研学机会",
    "grant": "助学金", "fee_waiver": "学杂费减免", "lunch_waiver": "午餐费减免",
    "social_programme": "社会资助项目",
    # mentor notes
    "regular": "常规记录", "case_discussion": "常态化研讨", "psych": "心理帮扶记录",
    # profile fields
    "strengths": "优点特长", "interests": "兴趣爱好", "challenges": "困难与挑战",
    "support_plan": "帮扶计划",
    # roles
    "teacher": "教师", "officer": "资助专干", "visitor": "家访教师", "mentor": "育人导师",
    # applications and reviews (issue 15)
    "family": "学生本人或家长申请", "class_teacher": "班主任推荐", "platform_auto": "平台自动认定（免申即享）",
    "application_form": "认定申请表", "household_register": "户口簿", "hardship_certificate": "低保、特困等困难证明",
    "disability_certificate": "残疾证", "medical_proof": "医疗或大病证明", "income_proof": "收入或失业证明",
    "other_material": "其他材料",
    "approved": "已审核", "returned": "退回", "unreviewed": "待审核", "resubmitted": "已修改待复审",
}


def label_zh(code: str | None) -> str:
    """The Chinese label of a code; the code itself when it has none."""
    if code is None:
        return ""
    return LABELS_ZH.get(str(code), str(code))
