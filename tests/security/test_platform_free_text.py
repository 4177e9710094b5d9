"""Nothing free-text leaves the school for the city platform (DESIGN.md §5): every string a
teacher or the officer can type, in every record the upload is built from, is the sentence
below, and what the reference platform receives over the real HTTP path (the officer's
``/v1/platform/push`` on the school server) and what the manual-upload file holds carry only
closed values: enums, dates, counts, flags, ids and terms. A reward goes up as its kind."""

from __future__ import annotations

import dataclasses
import enum
import json

import pytest

from visitapp.domain import (
    Assignment, AssignmentRole, Determination, GrowthEntry, GrowthKind, Level, ReviewMeeting, RewardKind, Visit,
    VisitMode, VisitStatus,
)

from sync_server.platform.model import ALLOW_LIST, CLOSED_VALUES, closed_problem, derive_id
from tests.platform.conftest import SCHOOL_CODE, TERM, TODAY, reference  # noqa: F401 - fixture
from tests.platform.test_api import configure, post
from tests.server.conftest import backend, server, tls_files  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow

SENTENCE = "父亲服刑母亲离家由奶奶抚养励志奖"
PIECES = ("服刑", "离家", "奶奶", "抚养", "励志")
KEEP = {"id", "student_id", "meeting_id", "visit_id", "staff_id", "author_id", "source"}


def typed(entity, **closed):
    """``entity`` with every plain string field (ids aside) set to the sentence."""
    changes = {f.name: SENTENCE for f in dataclasses.fields(entity)
               if isinstance(getattr(entity, f.name), str) and not isinstance(getattr(entity, f.name), enum.Enum)
               and f.name not in KEEP}
    changes.update({f.name: (SENTENCE, SENTENCE) for f in dataclasses.fields(entity)  # names typed in a list
                    if isinstance(getattr(entity, f.name), tuple) and getattr(entity, f.name)
                    and all(isinstance(x, str) for x in getattr(entity, f.name))})
    changes.update(closed)
    return dataclasses.replace(entity, **changes)


def records_full_of_text(students) -> list:
    out: list = [ReviewMeeting(id="m1", term=TERM, meeting_date=TODAY, reviewers=("a", "b", "c"))]
    for s in students[:4]:
        vid = derive_id("free-visit", s.id)
        out.append(typed(Visit(id=vid, student_id=s.id, author_id="t", term=TERM, status=VisitStatus.FINAL,
                               visit_date=TODAY, mode=VisitMode.ON_SITE, visitors=("王老师",), guardian_consent=True),
                         term=TERM, void_reason=""))  # a void reason would void it: nothing to send
        out.append(typed(Determination(id=derive_id("free-det", s.id), student_id=s.id, meeting_id="m1", term=TERM,
                                       level=Level.RELATIVELY, final=True, review_date=TODAY, visit_id=vid), term=TERM))
        out.append(typed(GrowthEntry(id=derive_id("free-reward", s.id), student_id=s.id, kind=GrowthKind.REWARD,
                                     reward_kind=RewardKind.COMMENDATION, entry_date=TODAY, title="x",
                                     amount_yuan=100.0, author_id="t")))
        out.append(typed(Assignment(id=derive_id("free-mentor", s.id), student_id=s.id, staff_id="staff-1",
                                    role=AssignmentRole.MENTOR, term=TERM), term=TERM))
    # and records whose term itself is the sentence: they cannot be placed, so they stay
    s = students[5]
    out.append(typed(Visit(id=derive_id("free-visit-term", s.id), student_id=s.id, author_id="t", term="x",
                           status=VisitStatus.FINAL, visit_date=TODAY, mode=VisitMode.PHONE, visitors=("王老师",),
                           guardian_consent=True), void_reason=""))
    out.append(typed(Assignment(id=derive_id("free-mentor-term", s.id), student_id=s.id, staff_id="staff-1",
                                role=AssignmentRole.MENTOR, term="x")))
    return out


def assert_closed(items: list[dict]) -> None:
    for item in items:
        assert closed_problem(item["kind"], item) == "", item
        assert set(item) <= set(ALLOW_LIST[item["kind"]]), item
        for key, value in item.items():
            assert CLOSED_VALUES[key](value), (key, value)
            # independently of the validator: closed values are ASCII, a typed sentence is not
            assert not isinstance(value, str) or value.isascii(), (key, value)


def test_only_closed_values_leave_by_http_and_by_file(server, reference, tmp_path):
    from sync_server.platform.files import read_upload_file
    from sync_server.platform.server_port import ServerSchoolData
    configure(server, reference.url)
    officer = server.officer_device()
    preview = post(server, officer, "roster/preview", {"term": TERM})
    post(server, officer, "roster/apply", {"preview_id": preview["preview_id"], "term": TERM})
    data = ServerSchoolData(server.core)
    students = data.students()
    data.save_records(records_full_of_text(students), "officer")

    pushed = post(server, officer, "push", {"term": TERM})
    assert pushed["ok"], pushed
    by_kind = {k["kind"]: k["sent"] for k in pushed["by_kind"]}
    assert by_kind == {"visit": 4, "determination": 4, "reward": 4, "mentor": 4}, by_kind

    from sync_server.platform.connector import PlatformConnector
    conn = PlatformConnector(data, None, actor="赵专干")
    ours = {i.item_id for i in conn.items(TERM)}
    received = reference.received(SCHOOL_CODE)
    mine = [x for x in received["items"] if x["item_id"] in ours]
    assert len(mine) == len(ours) == 16
    assert_closed(mine)
    rewards = [x for x in mine if x["kind"] == "reward"]
    assert rewards and all(x["reward_kind"] == "commendation" and "title" not in x for x in rewards)
    everything = json.dumps({"items": mine, "statistics": received["statistics"]}, ensure_ascii=False)
    assert SENTENCE not in everything and not any(p in everything for p in PIECES)

    # the manual-upload file: the same items (all of them), the same closed values
    out = tmp_path / "upload.xlsx"
    assert conn.export_file(out, TERM, only_pending=False) >= 16
    text = json.dumps(read_upload_file(out), ensure_ascii=False)
    assert SENTENCE not in text and not any(p in text for p in PIECES)
    csv_out = tmp_path / "upload.csv"
    conn.export_file(csv_out, TERM, only_pending=False)
    for f in tmp_path.glob("upload*.csv"):
        body = f.read_text(encoding="utf-8-sig")
        assert SENTENCE not in body and not any(p in body for p in PIECES)


def test_the_reference_platform_refuses_free_text_under_an_allow_listed_key(reference):
    """Defence at the other end: an item whose allow-listed key carries a sentence (or that
    carries a title at all) is ``rejected``, so a connector that let one through is caught."""
    from sync_server.platform.http import HttpTransport
    from sync_server.platform.reference.store import demo_key
    transport = HttpTransport(reference.url, SCHOOL_CODE, demo_key(SCHOOL_CODE), backoff=0.05, attempts=2)
    platform_ref = transport.request("GET", "/roster", {"term": TERM})["students"][0]["platform_ref"]
    good = {"kind": "reward", "student_ref": platform_ref, "term": TERM, "reward_kind": "commendation",
            "entry_date": TODAY.isoformat(), "version": "0123456789abcdef"}
    items = [{**good, "item_id": derive_id("free-ok")}]
    for key in ("term", "reward_kind", "entry_date", "version", "title"):
        items.append({**good, key: SENTENCE, "item_id": derive_id("free", key)})
    receipt = transport.upload(derive_id("free-batch"), TERM, items)
    status = {item_id: st for item_id, (st, _why) in receipt.results.items()}
    assert status.pop(derive_id("free-ok")) == "accepted"
    assert set(status.values()) == {"rejected"} and len(status) == 5, receipt
