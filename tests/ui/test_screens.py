"""Click through the screens with qtbot on the real services and a real profile, as a teacher
and as an officer would."""

from __future__ import annotations

import dataclasses
import datetime as dt

from PySide6.QtCore import QPoint, Qt

from tests.ui.conftest import PASS
from tests.ui.helpers import click, create_profile_via_ui, idle, type_text, wait_for_start_page


def test_first_start_offers_enrollment_or_demo_then_passphrase_and_recovery_key(
        qtbot, make_window, real_backend, profile_dir):
    w = make_window(real_backend)
    wait_for_start_page(qtbot, w)
    # a broken code is refused next to the field, nothing is created
    qtbot.keyClicks(w.start.welcome.pasted, "not-a-code")
    click(qtbot, w.start.welcome.enroll_button)
    assert w.start.welcome.error.isVisible() and "VA1." in w.start.welcome.error.text()
    assert not real_backend.profile_exists(profile_dir)
    w.start.welcome.pasted.clear()
    click(qtbot, w.start.welcome.demo_button)
    # strength hint while typing; too short is refused
    qtbot.keyClicks(w.start.passphrase.first, "abc")
    assert w.start.passphrase.strength.text().startswith("Too short")
    click(qtbot, w.start.passphrase.button)
    assert w.start.passphrase.error.isVisible()
    w.start.passphrase.first.clear()
    w.start.setCurrentWidget(w.start.welcome)
    key = create_profile_via_ui(qtbot, w)
    assert len(key.replace("-", "")) >= 16
    assert w.start.recovery.key.text() == ""      # shown once
    assert w.screens.currentWidget() is w.students
    assert real_backend.profile_exists(profile_dir)
    # the offline demo seeded a demo school
    qtbot.waitUntil(lambda: w.students.model.rowCount() > 0)
    assert w.ctx.ws.identity.staff_name == "李老师"


def test_recovery_key_can_be_saved_for_printing(qtbot, make_window, real_backend, tmp_path):
    w = make_window(real_backend)
    w.start.recovery.key.setText("ABCD-EFGH")
    w.start.recovery.save_to(tmp_path / "key.txt")
    assert "ABCD-EFGH" in (tmp_path / "key.txt").read_text(encoding="utf-8")
    import os
    import sys
    assert sys.platform == "win32" or os.stat(tmp_path / "key.txt").st_mode & 0o077 == 0  # owner-only


def _at_recovery_page(qtbot, w):
    wait_for_start_page(qtbot, w)
    start = w.start
    click(qtbot, start.welcome.demo_button)
    type_text(qtbot, start.passphrase.name, "李老师")
    qtbot.keyClicks(start.passphrase.first, PASS)
    qtbot.keyClicks(start.passphrase.second, PASS)
    click(qtbot, start.passphrase.button)
    qtbot.waitUntil(lambda: start.currentWidget() is start.recovery, timeout=20000)
    return start.recovery


def test_recovery_key_prints_to_the_chosen_printer_and_leaves_no_file_in_the_profile(
        qtbot, make_window, real_backend, profile_dir, tmp_path):
    import pypdfium2 as pdfium
    import zxingcpp
    from PySide6.QtPrintSupport import QPrinter

    w = make_window(real_backend)
    recovery = _at_recovery_page(qtbot, w)
    key = recovery.key.text()
    # The print dialog would block offscreen: the test "chooses" a printer that writes a PDF.
    printed_to = tmp_path / "printer-output.pdf"
    chosen = []

    def choose_printer():
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(printed_to))
        chosen.append(printer)
        return printer

    recovery.choose_printer = choose_printer
    assert recovery.print_button.isVisible() and recovery.save_button.isVisible()
    with qtbot.waitSignal(recovery.printed, timeout=20000):
        click(qtbot, recovery.print_button)
    # printed to a file, not to paper: the message says a copy now exists and what to do with it
    message = recovery.message.text()
    assert "no copy" not in message and "Sent to the printer" not in message
    assert str(printed_to) in message and "delete the file" in message and recovery.print_button.isEnabled()
    # what reached the printer is the sheet: one page whose QR code reads back as the key shown
    pdf = pdfium.PdfDocument(str(printed_to))
    assert len(pdf) == 1
    image = pdf[0].render(scale=150 / 72).to_pil().convert("RGB")
    pdf.close()
    assert [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)] == [key]
    # and no copy of the key rests anywhere in the profile
    assert not list(profile_dir.rglob("*.pdf")) and not (profile_dir / "prints").exists()

    # a cancelled dialog prints nothing and says so
    recovery.choose_printer = lambda: None
    printed_to.unlink()
    click(qtbot, recovery.print_button)
    idle(qtbot, w)
    assert recovery.message.text() == "Not printed." and not printed_to.exists()
    assert recovery.print_button.isEnabled()
    click(qtbot, recovery.continue_button)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell)


def test_enrollment_that_cannot_reach_the_server_still_creates_the_profile(
        qtbot, make_window, real_backend, profile_dir):
    w = make_window(real_backend)
    wait_for_start_page(qtbot, w)
    qtbot.keyClicks(w.start.welcome.address, "http://127.0.0.1:9")
    qtbot.keyClicks(w.start.welcome.code, "SECRET123")
    click(qtbot, w.start.welcome.enroll_button)
    assert w.start.code.startswith("VA1.")
    code = w.start.code
    w.start.setCurrentWidget(w.start.welcome)
    w.start.welcome.address.clear()
    w.start.welcome.code.clear()
    start = w.start
    create_started = []
    start.recovery.done.connect(lambda: create_started.append(start.recovery.message.text()))
    create_profile_via_ui(qtbot, w, code=code)
    assert "enrollment did not succeed" in create_started[0]
    assert "Traceback" not in create_started[0]
    assert real_backend.profile_exists(profile_dir)


def test_unlock_wrong_passphrase_says_so_and_waits(qtbot, make_window, real_backend, profile_dir,
                                                   teacher_template):
    import shutil

    shutil.copytree(teacher_template, profile_dir)
    w = make_window(real_backend)
    for attempt in range(3):
        w.unlock.passphrase.clear()
        qtbot.keyClicks(w.unlock.passphrase, "wrong passphrase")
        qtbot.waitUntil(lambda: w.unlock.button.isEnabled(), timeout=5000)
        click(qtbot, w.unlock.button)
        idle(qtbot, w)
        assert w.unlock.error.isVisible()
    assert "Wrong passphrase" in w.unlock.error.text()
    assert not w.unlock.button.isEnabled()        # third failure: the service asked for a delay
    assert "2" in w.unlock.button.text()
    assert w.pages.currentWidget() is w.unlock
    qtbot.waitUntil(lambda: w.unlock.button.isEnabled(), timeout=5000)
    w.unlock.passphrase.clear()
    qtbot.keyClicks(w.unlock.passphrase, PASS)
    click(qtbot, w.unlock.button)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=5000)


def test_find_a_student_by_typing_and_filters(qtbot, unlocked):
    w, ws = unlocked()
    s = w.students
    rows = ws.students.list_mine()
    cov = ws.students.coverage()
    assert s.model.rowCount() == len(rows) > 10
    # on-site visits count; the demo's phone visits are shown beside the count, not in it
    assert cov.remote > 0
    assert s.coverage_label.text() == (f"Visited this term: {cov.visited}/{cov.total} "
                                       f"({cov.remote} by phone or video only, not visited on site)")
    target = rows[7]
    qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert s.search.hasFocus()
    type_text(qtbot, s.search, target.name)
    shown = {s.proxy.data(s.proxy.index(r, 0)) for r in range(s.proxy.rowCount())}
    assert target.name in shown and s.proxy.rowCount() == sum(target.name in r.name for r in rows)
    s.search.clear()
    type_text(qtbot, s.search, target.class_name)
    assert s.proxy.rowCount() == sum(target.class_name in r.class_name for r in rows)
    s.search.clear()
    s.f_not_visited.setChecked(True)
    assert s.proxy.rowCount() == sum(r.visit_status != "visited" for r in rows)
    s.f_not_visited.setChecked(False)
    s.f_key.setChecked(True)
    assert s.proxy.rowCount() == sum(r.key_support for r in rows)
    s.f_no_mentor.setChecked(True)
    assert s.proxy.rowCount() == sum(r.key_support and not r.mentor_names for r in rows)
    s.f_key.setChecked(False)
    s.f_no_mentor.setChecked(False)
    s.f_no_reward.setChecked(True)
    assert s.proxy.rowCount() == sum(not r.has_reward for r in rows)


def test_search_narrows_and_widens_keeps_the_sort_and_the_selection(qtbot, unlocked):
    """Typing narrows the previous result (only its rows are tested again); deleting a
    character or unticking a box widens it again from all students."""
    w, ws = unlocked()
    s = w.students
    rows = ws.students.list_mine()

    def expected(text, key=False):
        return sum(text.lower() in f"{r.name}\t{r.class_name}".lower() and (r.key_support or not key)
                   for r in rows)

    target = rows[3]
    text = target.class_name
    s.search.setFocus()
    for i in range(1, len(text) + 1):          # typing, one character at a time
        s.search.insert(text[i - 1])
        assert s.proxy.rowCount() == expected(text[:i]), text[:i]
    s.f_key.setChecked(True)                  # a box ticked narrows further
    assert s.proxy.rowCount() == expected(text, key=True)
    for i in range(len(text) - 1, -1, -1):    # backspace widens again
        s.search.backspace()
        assert s.proxy.rowCount() == expected(text[:i], key=True), text[:i]
    s.f_key.setChecked(False)
    assert s.proxy.rowCount() == len(rows) == s.model.total

    # sorted by a header: filtering keeps that order
    s.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    type_text(qtbot, s.search, target.class_name)
    names = [s.proxy.data(s.proxy.index(r, 0)) for r in range(s.proxy.rowCount())]
    assert len(names) == expected(target.class_name) and names == sorted(names, reverse=True)
    # the selected student stays selected while still shown, and is dropped once filtered out
    s.select_id(target.id)
    assert s.selected_id() == target.id
    s.search.clear()
    type_text(qtbot, s.search, target.name)
    assert s.proxy.rowCount() == expected(target.name) < len(rows) and s.selected_id() == target.id
    s.search.setText("没有这个名字的学生")
    assert s.proxy.rowCount() == 0 and s.selected_id() is None
    assert s.count_label.text() == f"0 of {len(rows)} students"


def test_the_table_paints_the_text_of_the_row_shown_at_each_place(qtbot, unlocked):
    """The cell delegate reads the model's text directly; sorted and filtered, every painted
    cell still shows what the proxy says is there."""
    from PySide6.QtWidgets import QStyleOptionViewItem

    w, ws = unlocked()
    s = w.students
    s.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    s.f_not_visited.setChecked(True)
    delegate = s.table.itemDelegate()
    assert s.proxy.rowCount() > 3
    for r in range(s.proxy.rowCount()):
        for c in range(s.proxy.columnCount()):
            index = s.proxy.index(r, c)
            option = QStyleOptionViewItem()
            delegate.initStyleOption(option, index)
            assert option.text == s.proxy.data(index)
            has_text = bool(option.features & QStyleOptionViewItem.ViewItemFeature.HasDisplay)
            assert has_text == bool(option.text)
    s.table.viewport().repaint()  # and it paints without complaint


def _open_editor_for(qtbot, w, pick):
    s = w.students
    for r in range(s.proxy.rowCount()):
        row = s.proxy.data(s.proxy.index(r, 0), Qt.ItemDataRole.UserRole)
        if pick(row):
            s.table.selectRow(r)
            break
    sid = s.selected_id()
    click(qtbot, s.visit_button)
    qtbot.waitUntil(lambda: w.editor.visit is not None and w.editor.visit.student_id == sid)
    idle(qtbot, w)
    return sid


def test_write_finalize_read_only_amend_and_coverage(qtbot, unlocked):
    w, ws = unlocked()
    before = ws.students.coverage()
    sid = _open_editor_for(qtbot, w, lambda r: r.visit_status == "not_visited")
    e = w.editor
    assert w.screens.currentWidget() is e and not e.read_only
    # finalize with missing fields: messages next to the fields, nothing finalized
    e.narrative.clear()
    e.mode.setCurrentIndex(0)
    click(qtbot, e.finalize_button)
    idle(qtbot, w)
    assert e.errors["mode"].isVisible() and "how the visit was made" in e.errors["mode"].text()  # the English window says it in English
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
    assert saved.annual_income_yuan == 24000 and not e.dirty
    # finalize: the summary says the record becomes read-only
    summaries = []
    w.ctx.confirm = lambda title, text: summaries.append(text) or True
    qtbot.keyClick(w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Enter
    idle(qtbot, w)
    assert "read-only" in summaries[0]
    assert str(ws.visits.get(e.visit.id).status) == "final"
    assert e.read_only and e.narrative.isReadOnly() and not e.mode.isEnabled()
    assert not e.save_button.isEnabled() and e.amend_button.isVisible()
    # coverage changed
    click(qtbot, e.back_button)
    idle(qtbot, w)
    assert w.students.coverage_label.text().startswith(f"Visited this term: {before.visited + 1}/{before.total}")
    # amend with a reason: a new draft pointing at the final one, which stays final
    w.open_visit(sid)
    idle(qtbot, w)
    original = e.visit.id
    assert e.read_only
    click(qtbot, e.amend_button)
    idle(qtbot, w)
    assert e.visit.amends_id == original and not e.read_only
    assert e.amendment_reason.text() == "家长补充了收入信息"
    assert str(ws.visits.get(original).status) == "final"


def test_autosave_saves_a_draft_without_asking(qtbot, unlocked):
    w, ws = unlocked()
    _open_editor_for(qtbot, w, lambda r: r.visit_status == "not_visited")
    w.editor.autosave.setInterval(100)
    type_text(qtbot, w.editor.follow_ups, "下月再次电话回访")
    qtbot.waitUntil(lambda: not w.editor.dirty and w.ctx.tasks.pending() == 0, timeout=3000)
    assert ws.visits.get(w.editor.visit.id).follow_ups == "下月再次电话回访"


def test_bad_values_are_shown_next_to_the_field(qtbot, unlocked):
    w, ws = unlocked()
    _open_editor_for(qtbot, w, lambda r: r.visit_status == "not_visited")
    e = w.editor
    click(qtbot, e.add_member)
    e.members.item(0, 0).setText("父亲")
    e.members.item(0, 2).setText("130")
    e.save()
    idle(qtbot, w)
    assert e.errors["family_members"].isVisible()
    assert "0–120" in e.errors["family_members"].text()
    assert e.dirty and "Not saved" == e.save_state.text()


def test_growth_file_timeline_and_reward(qtbot, unlocked):
    w, ws = unlocked()
    w.students.table.selectRow(2)
    sid = w.students.selected_id()
    click(qtbot, w.students.growth_button)
    idle(qtbot, w)
    g = w.growth
    assert w.screens.currentWidget() is g and g.student_id == sid
    before = g.model.rowCount()
    assert before == len(ws.students.timeline(sid))
    g.save_reward({"reward_kind": "scholarship", "entry_date": dt.date.today(),
                   "title": "校级奖学金（测试）", "detail": ""})
    idle(qtbot, w)
    assert g.model.rowCount() == before + 1
    dates = [g.model.row_at(r).date for r in range(g.model.rowCount())]
    assert dates == sorted(dates, key=lambda d: d or dt.date.min, reverse=True)    # newest first
    assert any(g.model.row_at(r).title == "校级奖学金（测试）" for r in range(g.model.rowCount()))
    field = list(g.fields)[0]
    g.fields[field].setPlainText("乐于助人")
    click(qtbot, g.save_profile)
    idle(qtbot, w)
    assert ws.growth.profile(sid)[field].value == "乐于助人"
    # a bad reward is refused with a sentence
    g.save_reward({"reward_kind": None, "entry_date": dt.date.today(), "title": "", "detail": ""})
    idle(qtbot, w)
    assert w.notice.isVisible() and "Please enter the name" in w.notice.label.text()


def test_mentor_notes_and_case_discussion_rule(qtbot, unlocked):
    w, ws = unlocked()
    w.show_screen(w.mentor)
    idle(qtbot, w)
    m = w.mentor
    assert m.mentees.count() == len(ws.mentor.my_mentees()) > 0
    sid = m.current_student()
    before = len(ws.mentor.notes(sid))
    assert m.notes.count() == before
    type_text(qtbot, m.text, "本周谈心，情绪稳定。")
    click(qtbot, m.save_button)
    idle(qtbot, w)
    assert m.notes.count() == before + 1
    m.kind.setCurrentIndex(m.kind.findData("case_discussion"))
    type_text(qtbot, m.text, "研讨学习困难。")
    type_text(qtbot, m.participants, "王老师")
    click(qtbot, m.save_button)
    idle(qtbot, w)
    assert "at least two participants" in m.error.text()
    assert m.notes.count() == before + 1


def test_resolve_a_conflict_with_a_reason(qtbot, unlocked):
    from visitapp.domain import Conflict, profile_field_id
    from visitapp.services.base import new_id

    w, ws = unlocked()
    sid = ws.students.list_mine()[0].id
    # a conflict as the sync engine stores one after a stale profile-field push
    with ws.profile.session() as s, s.begin():
        ws.ctx.write(s, Conflict(id=new_id(), record_kind="growth_profile_field",
                                 record_id=profile_field_id(sid, "strengths"), field_name="strengths",
                                 student_id=sid, local_author=ws.identity.staff_id, remote_author="x",
                                 created_at=dt.datetime.now(dt.timezone.utc),
                                 local_value="擅长绘画", remote_value="擅长书法"), "test", sync=False)
    w.open_growth(sid)
    idle(qtbot, w)
    assert not w.growth.marks[list(w.growth.marks)[0]].isHidden()   # marked in the growth file
    w.show_screen(w.conflicts)
    idle(qtbot, w)
    c = w.conflicts
    assert c.list.count() == 1
    assert c.mine.toPlainText() == "擅长绘画" and c.theirs.toPlainText() == "擅长书法"
    click(qtbot, c.use_mine)
    assert c.merged.toPlainText() == "擅长绘画"
    c.merged.setPlainText("擅长绘画和书法")
    click(qtbot, c.resolve_button)
    assert c.error.isVisible()                    # a reason is required
    type_text(qtbot, c.reason, "与家长确认后合并")
    click(qtbot, c.resolve_button)
    idle(qtbot, w)
    assert c.list.count() == 0 and not ws.conflicts.list_open()
    assert ws.growth.profile(sid)["strengths"].value == "擅长绘画和书法"


def test_idle_lock_keeps_the_open_form_and_unlock_restores_it(qtbot, unlocked):
    w, ws = unlocked()
    _open_editor_for(qtbot, w, lambda r: r.visit_status == "not_visited")
    w.editor.autosave.setInterval(60_000)
    type_text(qtbot, w.editor.narrative, "尚未保存的文字")
    visit_id = w.editor.visit.id
    w.idle.timer.setInterval(150)
    w.idle.start()
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.unlock, timeout=3000)
    idle(qtbot, w)
    assert ws.locked and w.ctx.locked
    assert "Locked" in w.lock_label.text()
    assert not w.act_sync.isEnabled() and not w.act_save.isEnabled()
    assert "kept" in w.unlock.hint.text()
    qtbot.keyClicks(w.unlock.passphrase, PASS)
    qtbot.keyClick(w.unlock.passphrase, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=5000)
    idle(qtbot, w)
    assert w.screens.currentWidget() is w.editor
    assert w.editor.narrative.toPlainText().endswith("尚未保存的文字")
    assert not ws.locked
    # the draft had been saved before the keys were dropped
    assert ws.visits.get(visit_id).narrative.endswith("尚未保存的文字")


def test_ctrl_l_locks(qtbot, unlocked):
    w, ws = unlocked()
    qtbot.keyClick(w, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.unlock)
    idle(qtbot, w)
    assert ws.locked


def test_officer_determination_refused_without_visit(qtbot, unlocked, officer_template):
    w, ws = unlocked(officer_template)
    assert not w._nav_items[w.review].isHidden()
    w.show_screen(w.review)
    idle(qtbot, w)
    r = w.review
    for i in range(r.reviewers.count()):
        r.reviewers.item(i).setCheckState(Qt.CheckState.Checked)
    type_text(qtbot, r.minutes, "评议会议记录")
    meetings = len(ws.review.meetings())
    click(qtbot, r.record_button)
    idle(qtbot, w)
    assert len(ws.review.meetings()) == meetings + 1
    assert r.current_meeting() is not None
    rows = ws.students.list_mine()
    unvisited = next(x for x in rows if x.visit_status != "visited")
    r.student.setCurrentIndex(r.student.findData(unvisited.id))
    before = r.det_model.rowCount()
    click(qtbot, r.determine_button)
    idle(qtbot, w)
    assert "Visit first, then determine" in r.det_error.text()
    assert r.det_model.rowCount() == before
    # with a finalized on-site visit it goes through
    term = ws.students.coverage().term
    visited = [x for x in rows if x.visit_status == "visited"
               and any(str(v.mode) == "on_site" and str(v.status) == "final" and v.term == term
                       for v in ws.visits.for_student(x.id))]
    if visited:
        r.student.setCurrentIndex(r.student.findData(visited[0].id))
        click(qtbot, r.determine_button)
        idle(qtbot, w)
        assert r.det_error.text() == "" or r.det_error.isHidden()
        assert r.det_model.rowCount() == before + 1


def test_officer_assigns_a_mentor(qtbot, unlocked, officer_template):
    w, ws = unlocked(officer_template)
    w.show_screen(w.assignments)
    idle(qtbot, w)
    a = w.assignments
    before = a.model.rowCount()
    assert before == len(ws.assignments.list())
    a.role.setCurrentIndex(a.role.findData("mentor"))
    click(qtbot, a.assign_button)
    idle(qtbot, w)
    assert a.model.rowCount() == before + 1
    a.table.selectRow(0)
    click(qtbot, a.end_button)
    idle(qtbot, w)
    assert a.model.rowCount() == before


def test_teacher_does_not_see_officer_screens(qtbot, unlocked):
    w, _ = unlocked()
    assert w._nav_items[w.review].isHidden() and w._nav_items[w.assignments].isHidden()


def test_settings_idle_minutes_apply(qtbot, unlocked):
    w, ws = unlocked()
    w.show_screen(w.settings)
    idle(qtbot, w)
    w.settings.idle.setValue(3)
    click(qtbot, w.settings.save_button)
    idle(qtbot, w)
    assert ws.settings.get("idle_lock_minutes") == 3
    assert w.idle.timer.interval() == 180_000


def test_every_screen_is_reachable_by_keyboard(qtbot, unlocked, officer_template):
    w, _ = unlocked(officer_template)
    go_menu = w.menuBar().actions()[1].menu().actions()
    for i, action in enumerate(w.screen_actions):
        # Alt+1 … Alt+9 for the first nine screens, Ctrl+, for the settings, all in the Go menu
        expected = f"Alt+{i + 1}" if i < 9 else ("Ctrl+," if w.screens.widget(i) is w.settings else "")
        assert action.shortcut().toString() == expected and action in go_menu and action.isVisible()
        action.trigger()
        idle(qtbot, w)
        assert w.screens.currentIndex() == i
    for a in (w.act_save, w.act_finalize, w.act_sync, w.act_lock, w.act_find):
        assert not a.shortcut().isEmpty()


def test_inputs_have_accessible_names(qtbot, unlocked):
    from PySide6.QtWidgets import QComboBox, QDateEdit, QLineEdit, QPlainTextEdit, QSpinBox

    w, _ = unlocked()
    missing = [type(x).__name__ for x in w.findChildren(object)
               if isinstance(x, (QLineEdit, QPlainTextEdit, QComboBox, QDateEdit, QSpinBox))
               and type(x.parent()).__name__ not in ("QComboBox", "QDateEdit", "QSpinBox", "QTimeEdit")
               and not x.accessibleName()]
    assert not missing, missing


def test_a_student_the_platform_dropped_stays_listed_and_marked(qtbot, unlocked):
    import dataclasses

    w, ws = unlocked()
    s = w.students
    rows = ws.students.list_mine()
    dropped = dataclasses.replace(rows[0], on_roster=False, visit_status="not_visited")
    s.model.set_rows([dropped, *rows[1:]])
    position = s.model.position_of(dropped.id)
    assert s.model.cell(s.model.index(position, 1)) == f"{dropped.class_name}（no longer on the roster）"
    assert s.model.cell(s.model.index(s.model.position_of(rows[1].id), 1)) == rows[1].class_name
    type_text(qtbot, s.search, dropped.name)        # still found by name
    assert dropped.id in {s.proxy.data(s.proxy.index(r, 0), Qt.ItemDataRole.UserRole).id
                          for r in range(s.proxy.rowCount())}


def test_clicking_the_class_header_sorts_classes_in_school_order(qtbot, unlocked):
    """By code point and by pinyin alike 七年级 comes before 三年级: a click on 班级 must sort
    by grade (the services' order, ``class_sort_key``), both ways."""
    from visitapp.domain.reports import class_sort_key

    w, ws = unlocked()
    s = w.students
    qtbot.waitUntil(lambda: s.model.rowCount() > 0)
    header = s.table.horizontalHeader()

    def click_class_header() -> list[str]:
        x = header.sectionViewportPosition(1) + header.sectionSize(1) // 2
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
        return [s.proxy.data(s.proxy.index(r, 1)) for r in range(s.proxy.rowCount())]

    ascending = click_class_header()
    assert header.sortIndicatorSection() == 1
    classes = list(dict.fromkeys(ascending))
    assert classes.index("三年级(1)班") < classes.index("七年级(1)班")
    assert ascending == sorted(ascending, key=class_sort_key)
    descending = click_class_header()
    assert descending == sorted(descending, key=class_sort_key, reverse=True)
    assert list(dict.fromkeys(descending)) == classes[::-1]
