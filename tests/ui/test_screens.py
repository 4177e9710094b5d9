"""Click through the screens with qtbot, as a teacher and as an officer would."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from tests.ui.helpers import click, create_profile_via_ui, idle, type_text

PASS = "correct horse battery"


def _seeded(qtbot, make_window, backend, profile_dir, n=52, role="teacher"):
    from tests.ui import fakes

    ws, _ = fakes.create_profile(profile_dir, PASS, role=role)
    ws.seed(n)
    w = make_window(backend)
    assert w.pages.currentWidget() is w.unlock
    qtbot.keyClicks(w.unlock.passphrase, PASS)
    qtbot.keyClick(w.unlock.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell)
    idle(qtbot, w)
    return w, ws


def test_first_start_offers_enrollment_or_demo_then_passphrase_and_recovery_key(
        qtbot, make_window, fake_backend, profile_dir, tmp_path):
    w = make_window(fake_backend)
    assert w.pages.currentWidget() is w.start
    # a broken code is refused next to the field, nothing is created
    qtbot.keyClicks(w.start.welcome.pasted, "not-a-code")
    click(qtbot, w.start.welcome.enroll_button)
    assert w.start.welcome.error.isVisible() and "VA1." in w.start.welcome.error.text()
    w.start.welcome.pasted.clear()
    click(qtbot, w.start.welcome.demo_button)
    # strength hint while typing
    qtbot.keyClicks(w.start.passphrase.first, "abc")
    assert w.start.passphrase.strength.text()
    w.start.passphrase.first.clear()
    w.start.setCurrentWidget(w.start.welcome)
    key = create_profile_via_ui(qtbot, w)
    assert key.count("-") >= 3
    assert w.start.recovery.key.text() == ""      # shown once
    assert w.screens.currentWidget() is w.students
    assert fake_backend.profile_exists(profile_dir)


def test_recovery_key_can_be_saved_for_printing(qtbot, make_window, fake_backend, tmp_path):
    w = make_window(fake_backend)
    w.start.recovery.key.setText("ABCD-EFGH")
    w.start.recovery.save_to(tmp_path / "key.txt")
    assert "ABCD-EFGH" in (tmp_path / "key.txt").read_text(encoding="utf-8")


def test_enroll_with_address_and_code(qtbot, make_window, fake_backend, profile_dir):
    w = make_window(fake_backend)
    qtbot.keyClicks(w.start.welcome.address, "127.0.0.1:8443")
    qtbot.keyClicks(w.start.welcome.code, "SECRET123")
    click(qtbot, w.start.welcome.enroll_button)
    assert w.start.code.startswith("VA1.")
    w.start.setCurrentWidget(w.start.welcome)
    create_profile_via_ui(qtbot, w, code=w.start.code)
    assert w.ctx.ws.identity.server_url == "https://127.0.0.1:8443"


def test_unlock_wrong_passphrase_says_so_and_waits(qtbot, make_window, fake_backend, profile_dir):
    from tests.ui import fakes

    fakes.create_profile(profile_dir, PASS)
    w = make_window(fake_backend)
    for attempt in range(3):
        w.unlock.passphrase.clear()
        qtbot.keyClicks(w.unlock.passphrase, "wrong passphrase")
        qtbot.waitUntil(lambda: w.unlock.button.isEnabled())
        click(qtbot, w.unlock.button)
        qtbot.waitUntil(lambda: w.unlock.error.isVisible())
        idle(qtbot, w)
    assert "口令不正确" in w.unlock.error.text()
    assert not w.unlock.button.isEnabled()        # third failure: the service asked for a delay
    assert "2" in w.unlock.button.text()
    assert w.pages.currentWidget() is w.unlock
    qtbot.waitUntil(lambda: w.unlock.button.isEnabled(), timeout=5000)
    w.unlock.passphrase.clear()
    qtbot.keyClicks(w.unlock.passphrase, PASS)
    click(qtbot, w.unlock.button)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell)


def test_find_a_student_by_typing_and_filters(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    s = w.students
    assert s.model.rowCount() == 52
    assert s.coverage_label.text() == "Visited this term: 0/52"
    target = ws.students.list_mine()[7]
    qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert s.search.hasFocus()
    type_text(qtbot, s.search, target.name)
    assert 1 <= s.proxy.rowCount() < 52
    names = {s.proxy.data(s.proxy.index(r, 0)) for r in range(s.proxy.rowCount())}
    assert target.name in names
    s.search.clear()
    type_text(qtbot, s.search, "高一")
    assert s.proxy.rowCount() == sum("高一" in r.class_name for r in ws.students.list_mine())
    s.search.clear()
    s.f_key.setChecked(True)
    assert s.proxy.rowCount() == sum(r.key_support for r in ws.students.list_mine())
    s.f_no_mentor.setChecked(True)
    assert s.proxy.rowCount() == sum(r.key_support and not r.mentor_names for r in ws.students.list_mine())


def _open_editor_for_first(qtbot, w):
    w.students.table.selectRow(0)
    sid = w.students.selected_id()
    click(qtbot, w.students.visit_button)
    qtbot.waitUntil(lambda: w.editor.visit is not None and w.editor.visit.student_id == sid)
    idle(qtbot, w)
    return sid


def test_write_finalize_read_only_amend_and_coverage(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    sid = _open_editor_for_first(qtbot, w)
    e = w.editor
    assert w.screens.currentWidget() is e and not e.read_only
    # finalize with missing fields: messages next to the fields, nothing finalized
    click(qtbot, e.finalize_button)
    idle(qtbot, w)
    assert e.errors["mode"].isVisible() and "家访方式" in e.errors["mode"].text()
    assert e.errors["narrative"].isVisible()
    assert str(ws.visits.get(e.visit.id).status) == "draft"
    # fill in the form
    e.mode.setCurrentIndex(e.mode.findData("on_site"))
    click(qtbot, e.add_member)
    e.members.item(0, 0).setText("母亲")
    e.members.item(0, 2).setText("41")
    e.income.setValue(24000)
    e.indicators["low_income"].setChecked(True)
    e.materials["letter_to_parents"].setChecked(True)
    e.level.setCurrentIndex(e.level.findData("2"))
    type_text(qtbot, e.narrative, "母亲务农，父亲外出务工，学生学习认真。")
    e.consent.setCurrentIndex(e.consent.findData(True))
    assert e.dirty
    qtbot.keyClick(w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)   # Ctrl+S
    idle(qtbot, w)
    saved = ws.visits.get(e.visit.id)
    assert saved.narrative.startswith("母亲务农") and saved.family_members[0].age == 41
    assert saved.annual_income_yuan == 24000
    # finalize: summary confirmed, record becomes read-only
    summaries = []
    w.ctx.confirm = lambda title, text: summaries.append(text) or True
    click(qtbot, e.finalize_button)
    idle(qtbot, w)
    assert "只读" in summaries[0] or "read-only" in summaries[0]
    assert str(ws.visits.get(e.visit.id).status) == "final"
    assert e.read_only and e.narrative.isReadOnly() and not e.mode.isEnabled()
    assert e.amend_button.isVisible()
    # coverage changed
    click(qtbot, e.back_button)
    idle(qtbot, w)
    assert w.students.coverage_label.text() == "Visited this term: 1/52"
    # amend with a reason: a new draft pointing at the final one
    w.open_visit(sid)
    idle(qtbot, w)
    original = e.visit.id
    click(qtbot, e.amend_button)
    idle(qtbot, w)
    assert e.visit.amends_id == original and not e.read_only
    assert e.amendment_reason.text() == "家长补充了收入信息"
    assert str(ws.visits.get(original).status) == "final"


def test_autosave_saves_a_draft_without_asking(qtbot, make_window, fake_backend, profile_dir, monkeypatch):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    _open_editor_for_first(qtbot, w)
    w.editor.autosave.setInterval(100)
    type_text(qtbot, w.editor.follow_ups, "下月再次电话回访")
    qtbot.waitUntil(lambda: ws.visits.get(w.editor.visit.id).follow_ups == "下月再次电话回访", timeout=3000)
    assert not w.editor.dirty


def test_future_visit_date_is_refused_next_to_the_field(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    _open_editor_for_first(qtbot, w)
    e = w.editor
    click(qtbot, e.add_member)
    e.members.item(0, 2).setText("130")
    e.save()
    idle(qtbot, w)
    assert e.errors["family_members"].isVisible()
    assert "0–120" in e.errors["family_members"].text()
    assert e.dirty


def test_growth_file_timeline_and_reward(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    w.students.table.selectRow(2)
    sid = w.students.selected_id()
    click(qtbot, w.students.growth_button)
    idle(qtbot, w)
    g = w.growth
    assert w.screens.currentWidget() is g and g.student_id == sid
    g.save_reward({"reward_kind": "scholarship", "entry_date": dt.date.today() - dt.timedelta(days=3),
                   "title": "校级奖学金", "detail": ""})
    idle(qtbot, w)
    g.save_reward({"reward_kind": "commendation", "entry_date": dt.date.today(), "title": "公开表彰", "detail": ""})
    idle(qtbot, w)
    assert g.model.rowCount() == 2
    assert g.model.data(g.model.index(0, 2)) == "公开表彰"      # newest first
    g.fields[list(g.fields)[0]].setPlainText("乐于助人")
    click(qtbot, g.save_profile)
    idle(qtbot, w)
    assert ws.growth.profile(sid)[list(g.fields)[0]].value == "乐于助人"
    # a bad reward is refused with a sentence
    g.save_reward({"reward_kind": None, "entry_date": dt.date.today(), "title": "", "detail": ""})
    idle(qtbot, w)
    assert w.notice.isVisible() and "请填写名称" in w.notice.label.text()


def test_mentor_notes_and_case_discussion_rule(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    w.show_screen(w.mentor)
    idle(qtbot, w)
    m = w.mentor
    assert m.mentees.count() == 3
    type_text(qtbot, m.text, "本周谈心，情绪稳定。")
    click(qtbot, m.save_button)
    idle(qtbot, w)
    assert m.notes.count() == 1
    m.kind.setCurrentIndex(m.kind.findData("case_discussion"))
    type_text(qtbot, m.text, "研讨学习困难。")
    type_text(qtbot, m.participants, "王老师")
    click(qtbot, m.save_button)
    idle(qtbot, w)
    assert "两位" in m.error.text()
    assert m.notes.count() == 1


def test_sync_panel_progress_and_status_bar(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    ws.sync.records = 400
    ws.sync.delay = 0.001
    seen = []
    w.sync.progress_changed.connect(lambda d, t: seen.append((d, t)))
    qtbot.keyClick(w, Qt.Key.Key_F5)
    assert w.screens.currentWidget() is w.sync
    with qtbot.waitSignal(w.sync.finished, timeout=10000):
        pass
    idle(qtbot, w)
    assert seen and seen[-1] == (400, 400)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert "400 of 400" == w.sync.records.text()
    assert w.sync.last.text() != "never"
    assert "Online" in w.online_label.text()


def test_offline_is_a_calm_state_not_an_error(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    ws.sync.fail_with = ConnectionError("connection refused")
    with qtbot.waitSignal(w.sync.finished, timeout=5000):
        w.start_sync()
    idle(qtbot, w)
    assert "Offline" in w.sync.state.text()
    assert "Offline" in w.online_label.text()
    assert not w.notice.isVisible()


def test_resolve_a_conflict_with_a_reason(qtbot, make_window, fake_backend, profile_dir):
    from tests.ui import fakes

    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    sid = ws.students.list_mine()[0].id
    fakes.make_conflict(ws, sid, "擅长绘画", "擅长书法")
    w.show_screen(w.conflicts)
    idle(qtbot, w)
    c = w.conflicts
    assert c.list.count() == 1
    assert c.mine.toPlainText() == "擅长绘画" and c.theirs.toPlainText() == "擅长书法"
    click(qtbot, c.use_mine)
    c.merged.setPlainText("擅长绘画和书法")
    click(qtbot, c.resolve_button)
    assert c.error.isVisible()                    # a reason is required
    type_text(qtbot, c.reason, "与家长确认后合并")
    click(qtbot, c.resolve_button)
    idle(qtbot, w)
    assert c.list.count() == 0
    assert ws.growth.profile(sid)[list(ws.growth.profile(sid))[0]].value == "擅长绘画和书法"


def test_idle_lock_keeps_the_open_form_and_unlock_restores_it(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    _open_editor_for_first(qtbot, w)
    w.editor.autosave.setInterval(60_000)
    type_text(qtbot, w.editor.narrative, "尚未保存的文字")
    w.idle.timer.setInterval(150)
    w.idle.start()
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.unlock, timeout=3000)
    idle(qtbot, w)
    assert ws._locked and w.ctx.locked
    assert "Locked" in w.lock_label.text()
    assert not w.act_sync.isEnabled()
    # the draft was saved before the keys were dropped, and the text is still in the form
    assert ws._visits[w.editor.visit.id].narrative == "尚未保存的文字"
    qtbot.keyClicks(w.unlock.passphrase, PASS)
    qtbot.keyClick(w.unlock.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell)
    assert w.screens.currentWidget() is w.editor
    assert w.editor.narrative.toPlainText() == "尚未保存的文字"
    assert not ws._locked


def test_ctrl_l_locks(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    qtbot.keyClick(w, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.unlock)
    idle(qtbot, w)
    assert ws._locked


def test_officer_determination_refused_without_visit(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir, role="officer")
    assert not w._nav_items[w.review].isHidden()
    w.show_screen(w.review)
    idle(qtbot, w)
    r = w.review
    for i in range(r.reviewers.count()):
        r.reviewers.item(i).setCheckState(Qt.CheckState.Checked)
    type_text(qtbot, r.minutes, "评议会议记录")
    click(qtbot, r.record_button)
    idle(qtbot, w)
    assert r.meetings.count() == 1
    r.student.setCurrentIndex(0)
    click(qtbot, r.determine_button)
    idle(qtbot, w)
    assert "先家访后认定" in r.det_error.text()
    assert r.det_model.rowCount() == 0


def test_officer_assigns_a_mentor(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir, role="officer")
    w.show_screen(w.assignments)
    idle(qtbot, w)
    a = w.assignments
    before = a.model.rowCount()
    a.role.setCurrentIndex(a.role.findData("mentor"))
    click(qtbot, a.assign_button)
    idle(qtbot, w)
    assert a.model.rowCount() == before + 1
    a.table.selectRow(0)
    a.table.setCurrentIndex(a.model.index(0, 0))
    click(qtbot, a.end_button)
    idle(qtbot, w)
    assert a.model.rowCount() == before


def test_teacher_does_not_see_officer_screens(qtbot, make_window, fake_backend, profile_dir):
    w, _ = _seeded(qtbot, make_window, fake_backend, profile_dir)
    assert w._nav_items[w.review].isHidden() and w._nav_items[w.assignments].isHidden()


def test_settings_idle_minutes_apply(qtbot, make_window, fake_backend, profile_dir):
    w, ws = _seeded(qtbot, make_window, fake_backend, profile_dir)
    w.show_screen(w.settings)
    idle(qtbot, w)
    w.settings.idle.setValue(3)
    click(qtbot, w.settings.save_button)
    idle(qtbot, w)
    assert ws.settings.get("idle_lock_minutes") == 3
    assert w.idle.timer.interval() == 180_000


def test_inputs_have_accessible_names(qtbot, make_window, fake_backend, profile_dir):
    from PySide6.QtWidgets import QComboBox, QDateEdit, QLineEdit, QPlainTextEdit, QSpinBox

    w, _ = _seeded(qtbot, make_window, fake_backend, profile_dir)
    missing = [type(x).__name__ for x in w.findChildren(object)
               if isinstance(x, (QLineEdit, QPlainTextEdit, QComboBox, QDateEdit, QSpinBox))
               and x.parent() is not None and type(x.parent()).__name__ not in ("QComboBox", "QAbstractSpinBox", "QDateEdit", "QSpinBox", "QTimeEdit")
               and not x.accessibleName()]
    assert not missing, missing
