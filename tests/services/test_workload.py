"""The teacher's workload statement (工作量认定, plan §7) against a hand-built term where every
number is known: what counts, what does not (drafts, amendments, voided visits, phone visits
as on-site, conflict copies, platform rewards, other people's work, other terms), the xlsx,
the printed page and its verification, and who may make whose statement."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess

from tests import forkserver

import openpyxl
import pytest

from tests.conftest import PASSPHRASE, PYTHON, add_student, subprocess_env
from tests.services.test_documents import TODAY, finalized_visit, text_of
from tests.services.test_services import _staff
from visitapp.domain import (
    DomainError, GrowthEntry, GrowthKind, MentorNote, RecordReview, ReviewVerdict, RewardKind, VisitMode, term_of,
)
from visitapp.services.base import new_id
from visitapp.storage.records import upsert_entity

TERM = term_of(TODAY)
EXPECTED = {"on_site_visit": 2, "other_visit": 1, "mentor_note": 2, "case_discussion": 1, "reward": 1, "review": 0,
            "record_review": 0}


def _term_of_work(ws):
    a, b, c = (add_student(ws, n) for n in ("张晓明", "李小红", "王大力"))
    first = finalized_visit(ws, a)
    finalized_visit(ws, b)
    phone = ws.visits.create_draft(c.id)
    ws.visits.save_draft(phone.id, visit_date=TODAY, mode=VisitMode.PHONE, visitors=("王老师",),
                         guardian_consent=True, narrative="电话联系")
    ws.visits.finalize(phone.id)
    ws.visits.create_draft(c.id)                                 # a draft: not work done yet
    amendment = ws.visits.amend(first.id, "补充收入")               # a correction, not a second visit
    ws.visits.save_draft(amendment.id, narrative="补充了收入情况")
    ws.visits.finalize(amendment.id)
    voided = finalized_visit(ws, c)
    ws.visits.void(voided.id, "录错了学生")                          # voided: not counted
    with ws.profile.session() as s, s.begin():                   # last term's visit
        old = dataclasses.replace(ws.visits.get(first.id), id=new_id(), term="2025-2026-2",
                                  visit_date=dt.date(2026, 5, 20))
        upsert_entity(s, old)
    ws.mentor.write_note(a.id, "regular", TODAY, "第一次谈心")
    note = ws.mentor.write_note(b.id, "psych", TODAY, "心理疏导")
    ws.mentor.write_note(a.id, "case_discussion", TODAY, "研讨", participants=("王老师", "心理老师"))
    with ws.profile.session() as s, s.begin():                   # a conflict copy and a colleague's note
        upsert_entity(s, dataclasses.replace(ws.mentor.notes(b.id)[0], id=new_id(), conflict_of=note.id))
        upsert_entity(s, MentorNote(id=new_id(), student_id=a.id, author_id="colleague", note_date=TODAY, text="别人写的"))
    ws.growth.add_entry(a.id, GrowthKind.REWARD, entry_date=TODAY, title="三好学生", reward_kind=RewardKind.COMMENDATION)
    ws.growth.add_entry(a.id, GrowthKind.AID, entry_date=TODAY, title="助学金", aid_kind="grant", amount_yuan=1000)
    with ws.profile.session() as s, s.begin():                   # a reward that came from the platform
        upsert_entity(s, GrowthEntry(id=new_id(), student_id=b.id, kind=GrowthKind.REWARD, source="platform",
                                     author_id=ws.identity.staff_id, entry_date=TODAY, title="市三好学生",
                                     reward_kind=RewardKind.COMMENDATION))
    return a, b, c


def test_every_figure_counts_exactly_the_work_the_plan_means(workspace, tmp_path):
    _term_of_work(workspace)
    st = workspace.workload.statement()
    assert {code: n for code, _label, n in st.counts} == EXPECTED
    assert st.staff_name == workspace.identity.staff_name and st.term == TERM
    # students are masked: the statement may leave the school
    assert all("张晓明" not in it.about and "李小红" not in it.about for it in st.items)
    assert {it.about for it in st.items if it.kind == "on_site_visit"} == {"张*明（七(1)班）", "李*红（七(1)班）"}
    # last term's statement has last term's visit only
    last = workspace.workload.statement(term="2025-2026-2")
    assert {code: n for code, _label, n in last.counts if n} == {"on_site_visit": 1}


def test_the_xlsx_and_the_printed_statement_say_the_same_and_verify(workspace, tmp_path):
    a, _b, _c = _term_of_work(workspace)
    book = openpyxl.load_workbook(workspace.workload.export_xlsx(tmp_path / "w.xlsx"))
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=6, values_only=True)}
    assert summary == {"实地家访": 2, "电话/视频家访": 1, "导师记录": 2, "常态化研讨": 1, "成长奖励登记": 1, "参加集体评议": 0,
                       "记录审核": 0}
    assert book["明细"].max_row == 1 + sum(EXPECTED.values())
    report = workspace.workload.print(tmp_path / "w.pdf")
    text = text_of(tmp_path / "w.pdf")
    assert "学生资助工作量统计表" in text and "资助专干审核" in text and "张*明" in text and "张晓明" not in text
    assert report.records[0].kind == "workload"
    # 记录编号 with the term in words; the QR keeps ``<staff>:<term>`` for verify-sheet
    from visitapp.domain import term_label
    from visitapp.printing.verify import read_qr_payloads
    me, term = workspace.identity.staff_id, report.records[0].record_id.split(":", 1)[1]
    assert f"记录编号：{me}（{term_label(term)}）" in text and f"{me}:{term}" not in text
    assert any(f"|workload|{me}:{term}|" in p for p in read_qr_payloads(tmp_path / "w.pdf"))
    assert workspace.documents.verify_sheet(tmp_path / "w.pdf").status == "match"
    finalized_visit(workspace, a)  # more work recorded after printing
    assert workspace.documents.verify_sheet(tmp_path / "w.pdf").status == "outdated"


def test_a_teacher_makes_only_their_own_the_officer_anyones(workspace, officer_workspace):
    with pytest.raises(DomainError):
        workspace.workload.statement("someone-else")
    ws = officer_workspace
    student = add_student(ws, "张晓明", assign=False, hardship_categories=("min_living",))
    finalized_visit(ws, student)
    reviewers = [_staff(ws, n) for n in ("甲", "乙", "丙")]
    ws.review.record_meeting(TERM, TODAY, [r.id for r in reviewers], "纪要")
    st = ws.workload.statement(reviewers[0].id)
    assert st.staff_name == "甲" and {code: n for code, _l, n in st.counts if n} == {"review": 1}
    assert {name for _id, name in ws.workload.teachers()} >= {"甲", "乙", "丙", "赵专干"}


def test_reviews_of_records_count_for_the_reviewer(officer_workspace):
    ws = officer_workspace
    student = add_student(ws, "张晓明", assign=False)
    visit = finalized_visit(ws, student)  # the officer's own visit: reviewed by a grade leader, not by them
    leader = _staff(ws, "年级组长")
    with ws.profile.session() as s, s.begin():  # the leader's review, as it arrives from their laptop
        upsert_entity(s, RecordReview(id=new_id(), student_id=student.id, record_kind="visit", record_id=visit.id,
                                      reviewer_id=leader.id, verdict=ReviewVerdict.RETURNED, reviewed_on=TODAY,
                                      comment="请补充收入来源"))
        upsert_entity(s, RecordReview(id=new_id(), student_id=student.id, record_kind="visit", record_id=visit.id,
                                      reviewer_id=leader.id, verdict=ReviewVerdict.APPROVED,
                                      reviewed_on=dt.date(2025, 12, 1)))  # another term's: not this one's
    st = ws.workload.statement(leader.id)
    assert {code: n for code, _l, n in st.counts if n} == {"record_review": 1}
    assert [it.about for it in st.items] == ["张*明（七(1)班）"]
    assert ws.workload.statement().count("record_review") == 0  # the officer reviewed nothing here


def test_the_workload_command(tmp_path):
    profile, passfile = tmp_path / "p", tmp_path / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n", encoding="utf-8")
    run = lambda *a: forkserver.run([PYTHON, "-m", "visitapp", "--profile", str(profile), "--passphrase-file",  # noqa: E731
                                     str(passfile), *a], capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert run("init", "--insecure-fast-kdf").returncode == 0
    assert run("demo-data", "--students", "30").returncode == 0
    out = run("workload", "--json", "--xlsx", str(tmp_path / "w.xlsx"))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["counts"]["on_site_visit"] == sum(1 for it in doc["items"] if it["kind"] == "on_site_visit") > 0
    assert (tmp_path / "w.xlsx").stat().st_size > 0
    printed = run("print", "workload", "-o", str(tmp_path / "w.pdf"))
    assert printed.returncode == 0, printed.stderr
    verified = run("verify-sheet", str(tmp_path / "w.pdf"))
    assert verified.returncode == 0 and verified.stdout.startswith("match")
    assert run("workload", "--staff", "没有这个人").returncode == 1
