"""Property test (hypothesis, stateful; issue 12): laptops edit offline while the officer
assigns, ends and moves assignments, changes mentors, retires and revokes devices, in any
order with syncs between, against a real ``visitapp-server`` process.

Invariant, once everyone has synced: every visit narrative and mentor note anyone typed (and
not replaced themselves before it was sent) is on the server or in orphaned work, exactly
once; every growth-file value typed is current, in a Conflict, or in orphaned work; and no
laptop's sync stays failed (the second sync in a row is clean).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import tempfile
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from sqlalchemy import select
from uuid6 import uuid7

from sync_server.config import ServerPaths
from sync_server.core import ServerCore
from sync_server.models import OrphanedWork, Record
from sync_server.roster import student_parts
from tests.conftest import PASSPHRASE
from tests.e2e.server_process import ServerProcess
from visitapp.crypto import FAST_TEST_KDF
from visitapp.domain import MentorNoteKind, ProfileField, Stage, Student, VisitMode
from visitapp.services import create_profile
from visitapp.services.transport import DeviceRevoked
from visitapp.protocol.sync import unwrap_conflict_sealed
from visitapp.protocol.records import decode_tier_c

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
TEACHERS = ["甲", "乙"]
TODAY = dt.date.today()
_n = itertools.count()


class _School:
    """One server process for all examples (start-up costs seconds); each example makes its
    own teachers and students in it."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory()
        root = Path(self.tmp.name)
        self.proc = ServerProcess(root / "server")
        self.proc.cli("init", "--school", "无锡市测试学校", "--officer", "赵专干", "--url", self.proc.url)
        self.proc.start()
        self.core = ServerCore.open(ServerPaths(root / "server"))  # the officer's admin side
        self.root = root

    def close(self):
        self.core.close()
        self.proc.stop()
        self.tmp.cleanup()


@pytest.fixture(scope="module")
def school():
    s = _School()
    OrphanMachine.school = s
    yield s
    s.close()


def _token(kind: str) -> str:
    return f"⟦{kind}{next(_n)}⟧"


class OrphanMachine(RuleBasedStateMachine):
    school: _School = None

    @initialize()
    def setup(self):
        core = self.school.core
        self.ex = next(_n)
        self.students = []
        for i in range(3):
            sid = str(uuid7())
            stu = Student(id=sid, school_id=core.school()[0], class_name="七(1)班", stage=Stage.JUNIOR,
                          name=f"学生{self.ex}-{i}", student_no=f"{self.ex}{i:03d}", masked_id="3202**********1234")
            routing, facts, sealed = student_parts(stu)
            with core.db.write() as tx:
                core.put_record(tx, record_id=sid, kind="student", student_id=sid, visibility="student",
                                author_staff=None, author_device=None, routing=routing, facts=facts, sealed=sealed)
            self.students.append(sid)
        self.staff = {t: core.add_staff(f"{t}老师{self.ex}", "teacher").id for t in TEACHERS}
        # 甲 visits students 0 and 1 and mentors 0; 乙 visits 2
        self.visitor = {self.students[0]: "甲", self.students[1]: "甲", self.students[2]: "乙"}
        self.mentor = {self.students[0]: "甲"}
        for sid, t in self.visitor.items():
            core.assign("visitor", self.staff[t], sid)
        core.assign("mentor", self.staff["甲"], self.students[0])
        self.laptops = {}
        self.device_state = {}
        self.generation = {t: 0 for t in TEACHERS}
        for t in TEACHERS:
            self._new_laptop(t)
        self.narratives: set[str] = set()   # visits and notes: exactly once
        self.superseded: set[str] = set()
        self.values: set[str] = set()       # growth-file values: at least once
        self.failed: dict[str, bool] = {t: False for t in TEACHERS}

    def _new_laptop(self, t: str):
        self.generation[t] += 1
        ws, _ = create_profile(self.school.root / f"ex{self.ex}-{t}-{self.generation[t]}", PASSPHRASE,
                               kdf=FAST_TEST_KDF)
        ws.sync.enroll(self.school.core.make_enroll_code(self.staff[t])[1])
        assert ws.sync.run().ok
        self.laptops[t] = ws
        self.device_state[t] = "active"

    def teardown(self):
        for ws in getattr(self, "laptops", {}).values():
            ws.close()

    def _held(self, t: str) -> list[str]:
        return [r.id for r in self.laptops[t].students.list_mine()]

    # -- teachers, offline -----------------------------------------------------------------------
    @rule(t=st.sampled_from(TEACHERS), i=st.integers(0, 2), final=st.booleans())
    def write_visit(self, t, i, final):
        ws = self.laptops[t]
        held = self._held(t)
        if not held:
            return
        sid = held[i % len(held)]
        drafts = [v for v in ws.visits.for_student(sid) if str(v.status) == "draft"]
        text = _token("visit")
        if drafts:  # the teacher rewrites their draft: the old text is theirs to replace
            v = drafts[0]
            self.superseded.add(v.narrative)
        else:
            v = ws.visits.create_draft(sid)
        ws.visits.save_draft(v.id, visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=(f"{t}老师",),
                             guardian_consent=True, narrative=text)
        if final:
            ws.visits.finalize(v.id)
        self.narratives.add(text)

    @rule(t=st.sampled_from(TEACHERS))
    def write_note(self, t):
        ws = self.laptops[t]
        mentees = [m.id for m in ws.mentor.my_mentees()]
        if not mentees:
            return
        text = _token("note")
        ws.mentor.write_note(mentees[0], MentorNoteKind.REGULAR, TODAY, text)
        self.narratives.add(text)

    @rule(t=st.sampled_from(TEACHERS), i=st.integers(0, 2))
    def edit_profile(self, t, i):
        ws = self.laptops[t]
        held = self._held(t)
        if not held:
            return
        sid = held[i % len(held)]
        self.superseded.add(ws.growth.profile(sid)[ProfileField.STRENGTHS].value)
        text = _token("field")
        ws.growth.set_profile_field(sid, ProfileField.STRENGTHS, text)
        self.values.add(text)

    @rule(t=st.sampled_from(TEACHERS))
    def sync(self, t):
        self._sync(t)

    def _sync(self, t) -> bool:
        try:
            report = self.laptops[t].sync.run()
        except DeviceRevoked:
            # retired or revoked: the laptop uploaded what it had and wiped; a new one comes
            assert self.device_state[t] != "active"
            ws = self.laptops[t]
            assert ws.pending_count() == 0 and ws.students.list_mine() == []
            ws.close()
            self._new_laptop(t)
            return True
        self.failed[t] = not report.ok
        return report.ok

    # -- the officer ----------------------------------------------------------------------------------
    @rule(i=st.integers(0, 2), to=st.sampled_from(TEACHERS))
    def move_student(self, i, to):
        sid = self.students[i]
        core = self.school.core
        old = self.visitor.get(sid)
        if old == to:
            return
        if old is not None:
            core.assign("visitor", self.staff[old], sid, end=True)
        core.assign("visitor", self.staff[to], sid)
        self.visitor[sid] = to

    @rule(i=st.integers(0, 2))
    def end_assignment(self, i):
        sid = self.students[i]
        old = self.visitor.pop(sid, None)
        if old is not None:
            self.school.core.assign("visitor", self.staff[old], sid, end=True)

    @rule(i=st.integers(0, 2), to=st.sampled_from(TEACHERS))
    def change_mentor(self, i, to):
        sid = self.students[i]
        core = self.school.core
        old = self.mentor.get(sid)
        if old == to:
            return
        if old is not None:
            core.assign("mentor", self.staff[old], sid, end=True)
        core.assign("mentor", self.staff[to], sid)
        self.mentor[sid] = to

    @precondition(lambda self: any(s == "active" for s in self.device_state.values()))
    @rule(t=st.sampled_from(TEACHERS), lost=st.booleans())
    def retire_or_revoke(self, t, lost):
        if self.device_state[t] != "active":
            return
        device = self.laptops[t].identity.device_id
        if lost:
            self.school.core.revoke_device(device)
        else:
            self.school.core.retire_device(device)
        self.device_state[t] = "revoked" if lost else "retiring"

    # -- the invariant, after everyone synced ---------------------------------------------------------------
    def teardown_check(self):
        for t in TEACHERS:
            self._sync(t)
        for t in TEACHERS:  # the second sync in a row is clean: nothing stays failed or waiting
            assert self._sync(t), (t, self.laptops[t].sync.errors())
            assert self.laptops[t].pending_count() == 0
        records, conflicts, orphans = self._server_texts()
        for text in self.narratives - self.superseded:
            found = sum(text in doc for doc in records) + sum(text in doc for doc in orphans)
            assert found == 1, (text, found)
        for text in self.values - self.superseded:
            assert any(text in doc for doc in records + conflicts + orphans), text

    def _server_texts(self) -> tuple[list[str], list[str], list[str]]:
        core = self.school.core
        records, conflicts, orphans = [], [], []
        with core.db.read() as s:
            for rec in s.execute(select(Record).where(Record.kind.in_(
                    ["visit", "mentor_note", "growth_profile_field", "conflict"]), Record.deleted.is_(False))).scalars():
                blob = core.record_sealed(rec)
                if not blob:
                    continue
                if rec.kind == "conflict":
                    conflicts += [json.dumps(decode_tier_c(b), ensure_ascii=False) for b in unwrap_conflict_sealed(blob)
                                  if b]
                elif json.loads(rec.routing).get("conflict_of"):
                    conflicts.append(json.dumps(decode_tier_c(blob), ensure_ascii=False))
                else:
                    records.append(json.dumps(decode_tier_c(blob), ensure_ascii=False))
            for row in s.execute(select(OrphanedWork)).scalars():
                payload = core.vault.open_json("orphaned_work", row.id, "mutation", row.payload_enc)
                orphans.append(json.dumps(decode_tier_c(payload.get("sealed")), ensure_ascii=False))
        return records, conflicts, orphans


class _Checked(OrphanMachine):
    def teardown(self):
        try:
            if hasattr(self, "laptops"):
                self.teardown_check()
        finally:
            super().teardown()


def test_nothing_typed_is_lost_while_the_class_changes_hands(school):
    # modest: each step is real HTTP to a real server process on a shared, loaded machine
    case = _Checked.TestCase
    case.settings = settings(max_examples=6, stateful_step_count=14, deadline=None,
                             suppress_health_check=list(HealthCheck))
    case().runTest()
