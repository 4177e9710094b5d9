"""The one table of error sentences (visitapp.messages) and the errors built from it (issue 13)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from visitapp import messages
from visitapp.domain.errors import DomainError, Problem, UserError, ValidationError
from visitapp.messages import MESSAGES

CHINESE = re.compile(r"[\u4e00-\u9fff]")
PACKAGE = Path(messages.__file__).resolve().parent
MESSAGE_ID = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")


@pytest.mark.parametrize("message_id", sorted(MESSAGES))
def test_every_id_has_both_languages_with_the_same_placeholders(message_id):
    zh, en = MESSAGES[message_id]
    assert zh.strip() and en.strip()
    assert CHINESE.search(zh), f"{message_id}: the Chinese sentence has no Chinese"
    assert not CHINESE.search(en), f"{message_id}: the English sentence has Chinese in it"
    assert messages.placeholders(zh) == messages.placeholders(en), message_id
    assert MESSAGE_ID.match(message_id)


def test_the_chinese_sentences_are_distinct_so_none_hides_another():
    by_zh: dict[str, str] = {}
    for message_id, (zh, _en) in MESSAGES.items():
        assert zh not in by_zh, f"{message_id} repeats {by_zh.get(zh)}"
        by_zh[zh] = message_id


def test_an_error_with_an_id_is_the_tables_chinese_and_keeps_id_and_params():
    exc = DomainError("student.not_found_id", student_id="s-9")
    assert str(exc) == "没有这个学生：s-9" == messages.text("student.not_found_id", student_id="s-9")
    assert exc.message_id == "student.not_found_id" and exc.params == {"student_id": "s-9"}
    assert messages.text("student.not_found_id", "en", student_id="s-9") == "There is no such student: s-9"
    # a placeholder left unfilled stays visible rather than turning the refusal into a KeyError
    assert str(DomainError("student.not_found_id")) == "没有这个学生：{student_id}"


def test_a_class_may_name_its_id_and_be_raised_bare():
    class NotThere(UserError):
        message_id = "student.not_found"

    assert str(NotThere()) == "没有这个学生。" and NotThere().message_id == "student.not_found"


def test_errors_without_an_id_still_work_during_the_move():
    plain = UserError("一句还没有编号的话")
    assert str(plain) == "一句还没有编号的话" and plain.message_id == ""
    # the older form: a sentence with detail for the CLI, the id for the window
    detailed = UserError("这个档案已在另一个窗口打开：/tmp/p", "profile.locked")
    assert str(detailed).endswith("/tmp/p") and detailed.message_id == "profile.locked"


def test_validation_problems_take_ids_or_sentences():
    exc = ValidationError({"grade": "reviewer.grade_missing", "other": "自由文字",
                           "years": Problem("settings.retention_range", min=3, max=30)})
    assert exc.problems["grade"] == "请填写所负责的年级（如“七年级”）"
    assert exc.problems["grade"].message_id == "reviewer.grade_missing"
    assert exc.problems["other"] == "自由文字" and exc.problems["other"].message_id == ""
    assert exc.problems["years"] == "保存期应为 3–30 个学年" and exc.problems["years"].params == {"min": 3, "max": 30}
    assert "grade: 请填写所负责的年级" in str(exc)
    single = ValidationError("notice.objection_content_missing", "content")
    assert single.problems == {"content": "请填写异议内容。"}


def _ids_raised_in_the_sources() -> dict[str, str]:
    """Every dotted literal passed to an error, a Problem or a ``missing=`` reason, and every
    ``message_id = "..."`` of an error class, with where it is."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            literals = []
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name.endswith("Error") or name in ("Problem", "Offline", "NotEnrolled", "DeviceRevoked",
                                                      "CertificateMismatch", "require_reason"):
                    for arg in node.args:
                        literals += arg.values if isinstance(arg, ast.Dict) else [arg]
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "message_id" for t in node.targets):
                literals.append(node.value)
            for lit in literals:
                if isinstance(lit, ast.Constant) and isinstance(lit.value, str) and "." in lit.value \
                        and MESSAGE_ID.match(lit.value):
                    found.setdefault(lit.value, f"{path.name}:{lit.lineno}")
    return found


def test_every_id_the_code_raises_is_in_the_table():
    """A mistyped id would silently become the error's 'sentence'; this catches it."""
    raised = _ids_raised_in_the_sources()
    assert len(raised) > 80
    unknown = {i: where for i, where in raised.items() if i not in MESSAGES}
    assert not unknown, unknown


def test_a_reason_a_domain_function_gives_travels_with_its_id():
    """close_blockers and review_refusal answer with Problems (the server reads them as plain
    sentences); an error raised with them keeps their ids, so a window can say them too."""
    import datetime as dt

    from visitapp.domain.entities import PublicNotice
    from visitapp.domain.enums import NoticeStatus
    from visitapp.domain.errors import InvalidTransitionError
    from visitapp.domain.notice import close_notice

    notice = PublicNotice(id="n", meeting_id="m", term="2026-2027-1", status=NoticeStatus.OPEN, created_by="o",
                          created_at=dt.datetime(2026, 9, 1), title="公示", period_start=dt.date(2026, 9, 1),
                          period_end=dt.date(2026, 9, 8))
    with pytest.raises(InvalidTransitionError) as refused:
        close_notice(notice, [], [], dt.date(2026, 9, 3))
    assert str(refused.value) == "不能结束公示：公示期至 2026-09-08 结束，期满后才能结束公示。"
    assert refused.value.message_id == "notice.cannot_close"
    (blocker,) = refused.value.params["blockers"]
    assert blocker.message_id == "notice.period_not_over"
    assert messages.text(blocker.message_id, "en", **blocker.params) == (
        "The notice period runs until 2026-09-08; the notice can be closed only after it.")
    reason = Problem("record_review.own_record")
    assert DomainError(reason).message_id == "record_review.own_record" and str(DomainError(reason)) == reason


class _RefusingSession:
    """A requests-like session whose every call the school server refuses, as a key route does."""

    class _Refusal:
        status_code, text = 403, ""

        @staticmethod
        def json() -> dict:
            return {"detail": "officer only"}

    def request(self, method: str, url: str, **kw: object) -> _Refusal:
        return self._Refusal()


def test_key_directory_refusals_are_user_errors_with_an_english_sentence(tmp_path):
    """The key service's refusals (issue 13) carry keys.* ids: str() is the Chinese (the CLI),
    a window says the same id in English; UntrustedKey callers and ValueError callers still
    catch theirs."""
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.crypto.errors import UntrustedKey
    from visitapp.crypto.opening import OfficerKey
    from visitapp.services.keys import KeyDirectoryClient, KeyService, KeyServiceError, code_keys
    from visitapp.storage.profile import Profile

    def refusal(call, kind=UserError) -> UserError:
        with pytest.raises(kind) as refused:
            call()
        assert isinstance(refused.value, UserError) and refused.value.message_id.startswith(("keys.", "enroll."))
        assert str(refused.value) and CHINESE.search(str(refused.value))
        return refused.value

    def english(exc: UserError) -> str:
        return messages.text(exc.message_id, messages.EN, **exc.params)

    profile, _ = Profile.create(tmp_path / "p", "a passphrase", FAST_TEST_KDF)
    try:
        keys = KeyService(profile)  # a laptop not enrolled with any server
        no_key = refusal(keys.officer_key, KeyServiceError)
        assert english(no_key) == "This computer does not hold the officer key (only the aid officer's computer does)."
        assert str(no_key) == "本机没有资助专干密钥（只有资助专干的电脑持有）。"
        assert english(refusal(lambda: keys.pin_from_directory("AAAA"), KeyServiceError)) == (
            "This computer is not enrolled with a school server yet.")
        untrusted = refusal(keys.trusted_directory, UntrustedKey)  # nothing pinned: seals to nobody
        assert english(untrusted).startswith("This computer does not trust the school's officer key yet")
        keys.pin_officer_key(OfficerKey.generate().public, how="code")
        swapped = refusal(lambda: keys.pin_officer_key(OfficerKey.generate().public, how="code"), UntrustedKey)
        assert english(swapped).startswith("This computer already trusts another officer key")
        # a mistyped recovery sheet: the CLI keeps the crypto package's sentence of which slip
        slip = refusal(lambda: keys.restore_officer_keys("AAAA-BBBB"), KeyServiceError)
        assert slip.message_id == "keys.sheet_mistyped" and "长度不对" in str(slip)
        assert english(slip).startswith("The key typed from the recovery sheet has a mistake")

        # the school server said no: its status and its detail travel as parameters
        over = KeyService(profile, KeyDirectoryClient(_RefusingSession(), "http://school", "token"))
        refused = refusal(lambda: over.pin_from_directory("AAAA"), KeyServiceError)
        assert refused.params == {"status": 403, "detail": "officer only"}
        assert english(refused) == "The school server refused the key request (HTTP 403): officer only"
        assert str(refused) == "学校服务器拒绝了密钥请求（HTTP 403）：officer only"
    finally:
        profile.close()

    # enrollment codes: the same ids as the server-address half of the code, still ValueErrors
    assert english(refusal(lambda: code_keys("not a code"), ValueError)) == (
        "This is not a valid enrollment code (it should start with VA1.).")
    assert english(refusal(lambda: code_keys("VA1.!!!!"), ValueError)) == (
        "The enrollment code is damaged. Please copy the whole code again.")


def test_a_syncs_key_warnings_carry_ids_so_a_window_says_them_in_its_language(tmp_path, monkeypatch):
    """SyncReport.warnings are Problems: str() is the Chinese the CLI prints, and the sync
    screen says each in the window's language, the sentence inside it too (its {why})."""
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services.keys import KeyService
    from visitapp.services.tier_c import TierC
    from visitapp.storage.profile import Profile
    from visitapp.ui import errors as ui_errors
    from visitapp.ui import i18n

    profile, _ = Profile.create(tmp_path / "p", "a passphrase", FAST_TEST_KDF)
    try:
        tier_c = TierC(KeyService(profile))  # a laptop with no device keys: it cannot seal
        assert tier_c.directory() is None
        (warning,) = tier_c.warnings
        assert warning.message_id == "keys.cannot_seal" and warning.params["why"].message_id == "keys.why_no_device_keys"
        assert str(warning).startswith("本机尚不能加密第三级内容（家庭情况、走访记述等）：本机注册时还没有设备密钥。")
        monkeypatch.setattr(i18n, "_current", messages.EN)
        assert ui_errors.problem_text(warning).startswith(
            "This computer cannot seal tier C (family situation, visit narratives and the like) yet: this "
            "computer had no device keys when it enrolled.")
        monkeypatch.setattr(i18n, "_current", messages.ZH)
        assert ui_errors.problem_text(warning) == str(warning)
    finally:
        profile.close()
    # an error inside a warning keeps its id; any other error is its text
    nested = Problem("keys.share_failed", detail=Problem.of_error(UserError("keys.no_officer_key")))
    assert nested.params["detail"].message_id == "keys.no_officer_key"
    assert Problem.of_error(ValueError("坏了")) == "坏了"
