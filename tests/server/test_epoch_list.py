"""The signed epoch list (issue 14, docs/decisions/signed-epoch-list.md) through the server's
API: the officer's laptop publishes every key name's current epoch, signed with the officer
key, whenever it makes or rotates keys; a laptop that holds only an older epoch of a student
knows the server withheld the newer one and stops sealing under the old; a server that serves
an older list, none, or a list of its own making is caught. The server is made to misbehave by
changing its tables behind its API, as a malicious administrator could."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from sync_server.core import utcnow
from sync_server.key_models import ContentKeyWrapRow, EpochListRow
from sync_server.models import DeviceRow
from tests.server.test_key_directory import LAPTOP_CHECKS_ON_SQLITE, STORY, _assign, school  # noqa: F401 - the fixture

from visitapp.crypto.errors import CryptoError, NotAReader
from visitapp.crypto.opening import OfficerKey
from visitapp.crypto import FAST_TEST_KDF
from visitapp.crypto.sealing import b64e, epoch_list_signed_bytes, sealed_to, value_epoch
from visitapp.messages import ZH, text
from visitapp.protocol.keys import EpochList
from visitapp.protocol.sync import decode_enrollment_code
from visitapp.services.keys import KeyDirectoryClient, KeyService, KeyServiceError
from visitapp.storage.profile import Profile



def _revocation(school) -> tuple:  # noqa: ANN001
    """An officer, a teacher and a second teacher's laptop, both visiting one student, with its
    key of epoch 1; then the second laptop is revoked and the officer's laptop rotates the
    student to epoch 2. Answers (server, officer, teacher, revoked, student, revoked's old key)."""
    server, officer, teacher = school
    o = officer()
    t, gone = teacher("王老师", o), teacher("李老师", o)
    student = server.student()
    for laptop in (t, gone):
        o.keys.certify(laptop.device.id)
        _assign(o, student, laptop.device.staff_id)
    o.keys.share_student_key(student)
    for laptop in (t, gone):
        assert laptop.keys.fetch_content_keys() == []
    old_key = gone.keys.content_key(student, 1)
    assert old_key is not None and t.keys.sealing_key(student).epoch == 1
    server.core.revoke_device(gone.device.id)
    assert o.keys.rotate_after_revocation(gone.device.id) == [student]
    return server, o, t, gone, student, old_key


def _served(server) -> EpochList:  # noqa: ANN001
    with server.core.db.read() as s:
        return EpochList.model_validate_json(s.execute(select(EpochListRow.body)).scalar_one())


def _serve_instead(server, listed: EpochList | None) -> None:  # noqa: ANN001
    """The administrator puts another list (or none) where the officer's newest was."""
    with server.core.db.write() as tx:
        tx.session.execute(delete(EpochListRow))
        if listed is not None:
            tx.session.add(EpochListRow(version=listed.version, body=listed.model_dump_json(), published_at=utcnow(),
                                        published_by="admin"))


_WRAP_COLUMNS = ("student_id", "epoch", "device_id", "wrap", "signature", "created_at", "created_by")


def withhold_epoch(server, device_id: str, epoch: int) -> list[dict]:  # noqa: ANN001
    """The administrator takes a device's wraps of an epoch out of what the server serves."""
    where = (ContentKeyWrapRow.device_id == device_id, ContentKeyWrapRow.epoch == epoch)
    with server.core.db.write() as tx:
        taken = [{c: getattr(row, c) for c in _WRAP_COLUMNS}
                 for row in tx.session.execute(select(ContentKeyWrapRow).where(*where)).scalars()]
        tx.session.execute(delete(ContentKeyWrapRow).where(*where))
    assert taken
    return taken


def deliver_wraps(server, taken: list[dict]) -> None:  # noqa: ANN001
    """... and puts them back (after the device's cursor, so that it fetches them)."""
    with server.core.db.write() as tx:
        tx.session.add_all(ContentKeyWrapRow(**row) for row in taken)


def _one_teacher(school) -> tuple:  # noqa: ANN001
    """An officer and a teacher reading one student, its key of epoch 1 shared: (server, officer, teacher, student)."""
    server, officer, teacher = school
    o = officer()
    t = teacher("王老师", o)
    o.keys.certify(t.device.id)
    student = server.student()
    _assign(o, student, t.device.staff_id)
    o.keys.share_student_key(student)
    return server, o, t, student


def _said(message_id: str, **params) -> str:  # noqa: ANN003
    return text(message_id, ZH, **params)


@LAPTOP_CHECKS_ON_SQLITE
def test_normal_flow_the_new_epoch_arrives_no_warning_and_the_revoked_key_opens_nothing_new(school):
    server, o, t, gone, student, old_key = _revocation(school)
    listed = _served(server)
    assert listed.epochs == {student: 2} and gone.device.id in listed.revoked and listed.version >= 2
    assert t.keys.fetch_content_keys() == []
    sealed = t.keys.seal(student, STORY, "visit", "v1", "sealed")
    assert value_epoch(sealed) == 2
    with pytest.raises(CryptoError):
        old_key.open(sealed, "visit", "v1", "sealed")
    assert o.keys.open(student, sealed, "visit", "v1", "sealed") == STORY
    # nothing changed: nothing published, the version stays
    assert o.keys.share_student_key(student) == 0 and _served(server).version == listed.version


@LAPTOP_CHECKS_ON_SQLITE
def test_a_server_that_withholds_the_new_epoch_is_detected_and_the_old_key_is_no_longer_used(school):
    server, o, t, gone, student, old_key = _revocation(school)
    taken = withhold_epoch(server, t.device.id, 2)  # the new epoch's wrap to the teacher is not delivered
    warnings = t.keys.fetch_content_keys()
    assert warnings == [_said("keys.epoch_withheld", student=student, epoch=2, held=1)]
    assert t.keys.content_key(student).epoch == 1 and t.keys.sealing_key(student) is None
    # what the teacher writes next: sealed to the officers and itself, not under epoch 1
    sealed = t.keys.seal(student, STORY, "visit", "v1", "sealed")
    assert value_epoch(sealed) == 0
    with pytest.raises(CryptoError):
        old_key.open(sealed, "visit", "v1", "sealed")
    with pytest.raises(NotAReader):  # nor with the revoked laptop's own device key
        gone.keys.device_keys().open_from_devices(sealed, gone.device.id, "visit", "v1", "sealed")
    assert t.keys.open(student, sealed, "visit", "v1", "sealed") == STORY
    assert o.keys.open(student, sealed, "visit", "v1", "sealed") == STORY
    # once the server delivers the wrap, the warning goes and the new epoch seals
    deliver_wraps(server, taken)
    assert t.keys.fetch_content_keys() == [] and value_epoch(t.keys.seal(student, STORY, "visit", "v2", "sealed")) == 2


@LAPTOP_CHECKS_ON_SQLITE
def test_a_server_that_serves_an_older_list_or_none_is_warned_and_the_old_list_not_taken(school):
    server, o, t, gone, student, old_key = _revocation(school)
    newest = _served(server)
    withhold_epoch(server, t.device.id, 2)
    assert t.keys.fetch_content_keys() == [_said("keys.epoch_withheld", student=student, epoch=2, held=1)]
    older = EpochList(school_id=newest.school_id, version=newest.version - 1, issued_at=newest.issued_at,
                      epochs={student: 1}, revoked=[],
                      signature=b64e(o.keys.officer_key().sign(epoch_list_signed_bytes(
                          newest.school_id, newest.version - 1, newest.issued_at, {student: 1}, []))))
    _serve_instead(server, older)  # an old list the officer really signed, replayed
    warnings = t.keys.fetch_content_keys()
    assert _said("keys.epoch_list_rollback", version=newest.version - 1, seen=newest.version) in warnings
    assert _said("keys.epoch_withheld", student=student, epoch=2, held=1) in warnings
    assert value_epoch(t.keys.seal(student, STORY, "visit", "v1", "sealed")) == 0  # still not under epoch 1
    _serve_instead(server, None)  # no list at all, though this laptop saw one
    warnings = t.keys.fetch_content_keys()
    assert _said("keys.epoch_list_missing", seen=newest.version) in warnings
    assert value_epoch(t.keys.seal(student, STORY, "visit", "v2", "sealed")) == 0


@LAPTOP_CHECKS_ON_SQLITE
def test_a_list_signed_by_another_key_is_refused_by_the_server_and_by_the_laptop(school):
    server, o, t, student = _one_teacher(school)
    assert t.keys.fetch_content_keys() == []
    listed = _served(server)
    forger = OfficerKey.generate()
    forged = EpochList(school_id=listed.school_id, version=listed.version + 5, issued_at=listed.issued_at,
                       epochs={student: 9}, revoked=[t.device.id], signature=b64e(forger.sign(epoch_list_signed_bytes(
                           listed.school_id, listed.version + 5, listed.issued_at, {student: 9}, [t.device.id]))))
    r = server.client.put("/v1/keys/epochs", headers=o.device.auth, json=forged.model_dump())
    assert r.status_code == 422 and r.json()["error"] == "bad_epoch_list"
    _serve_instead(server, forged)  # the administrator puts it there anyway
    assert t.keys.fetch_content_keys() == [_said("keys.epoch_list_forged")]
    # not taken: the teacher still seals under the key it holds, and the version seen stays
    assert value_epoch(t.keys.seal(student, STORY, "visit", "v1", "sealed")) == 1
    _serve_instead(server, listed)
    assert t.keys.fetch_content_keys() == []


def test_the_server_keeps_only_a_newer_list_from_an_officer(school):
    """On SQLite and PostgreSQL: the list is stored, served as sent, and only a newer one replaces it."""
    server, o, t, student = _one_teacher(school)
    listed = _served(server)
    assert listed.epochs == {student: 1}
    r = server.client.put("/v1/keys/epochs", headers=o.device.auth, json=listed.model_dump())
    assert r.status_code == 409 and r.json()["error"] == "epoch_list_stale"
    r = server.client.put("/v1/keys/epochs", headers=t.device.auth, json=listed.model_dump())
    assert r.status_code == 403
    other = dict(listed.model_dump(), school_id="another-school", version=listed.version + 1)
    other["signature"] = b64e(o.keys.officer_key().sign(epoch_list_signed_bytes(
        other["school_id"], other["version"], other["issued_at"], other["epochs"], other["revoked"])))
    r = server.client.put("/v1/keys/epochs", headers=o.device.auth, json=other)
    assert r.status_code == 422 and r.json()["error"] == "bad_epoch_list"
    assert server.client.get("/v1/keys/epochs", headers=t.device.auth).json()["list"] == listed.model_dump()


@LAPTOP_CHECKS_ON_SQLITE
def test_a_school_with_no_list_yet_behaves_as_before(school):
    server, o, t, student = _one_teacher(school)
    _serve_instead(server, None)  # as on a server whose officer's laptop published none yet
    assert t.keys.fetch_content_keys() == []
    assert value_epoch(t.keys.seal(student, STORY, "visit", "v1", "sealed")) == 1


def _second_officer_device(server, o, tmp_path) -> str:  # noqa: ANN001
    """Another officer's laptop, enrolled with a code the officer's laptop made and certified."""
    staff = server.core.add_staff("钱专干", "officer")
    code = o.keys.officer_code(server.core.make_enroll_code(staff.id)[1])
    body = server.client.post("/v1/enroll", json={"code": decode_enrollment_code(code)[2],
                                                  "device_label": "spare"}).json()
    profile, _ = Profile.create(tmp_path / "spare", "a passphrase", FAST_TEST_KDF)
    try:
        KeyService(profile, KeyDirectoryClient(server.client, "http://testserver", body["token"])).publish_device_keys(
            device_id=body["device_id"], staff_id=body["staff_id"], role="officer", school_id=body["school_id"],
            code=code)
    finally:
        profile.close()
    o.keys.certify(body["device_id"])
    return body["device_id"]


@LAPTOP_CHECKS_ON_SQLITE
def test_a_device_the_list_names_as_revoked_gets_nothing_new_though_the_server_lists_it_active(school, tmp_path):
    server, o, t, student = _one_teacher(school)
    spare = _second_officer_device(server, o, tmp_path)
    o.keys.share_student_key(student)  # an officer device gets every student's key
    server.core.revoke_device(spare)
    assert o.keys.rotate_after_revocation(spare) == [student]
    assert spare in _served(server).revoked
    assert t.keys.fetch_content_keys() == []
    with server.core.db.write() as tx:  # the administrator undoes the revocation behind the officer's back
        tx.session.get(DeviceRow, spare).revoked_at = None
    other = server.student()  # a student whose key the teacher does not hold: sealed to the officers
    sealed = t.keys.seal(other, STORY, "visit", "v1", "sealed")
    assert sealed_to(sealed) == sorted({o.device.id, t.device.id})
    assert o.keys.share_students([other]) == 1  # the officer's own device only
    with server.core.db.read() as s:
        assert not s.execute(select(ContentKeyWrapRow).where(ContentKeyWrapRow.device_id == spare,
                                                             ContentKeyWrapRow.student_id == other)).first()


@LAPTOP_CHECKS_ON_SQLITE
def test_a_device_rotated_away_from_is_listed_though_the_publish_failed_and_the_app_restarted(school, tmp_path,
                                                                                               monkeypatch):
    server, o, t, student = _one_teacher(school)
    spare = _second_officer_device(server, o, tmp_path)
    o.keys.share_student_key(student)
    server.core.revoke_device(spare)

    def unreachable(self, signed):  # noqa: ANN001 - the network drops as the list goes up
        raise KeyServiceError("keys.server_refused", status=503, detail="connection reset")

    monkeypatch.setattr(KeyDirectoryClient, "publish_epoch_list", unreachable)
    with pytest.raises(KeyServiceError):
        o.keys.rotate_after_revocation(spare)
    monkeypatch.undo()
    assert spare not in _served(server).revoked
    # the app restarts before its next sync: a new key service over the same profile
    restarted = KeyService(o.profile, o.keys.server)
    assert restarted.publish_epoch_list() is not None
    assert spare in _served(server).revoked
    assert restarted.publish_epoch_list() is None  # listed: nothing left to publish
