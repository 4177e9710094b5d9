"""Screenshots of the main screens for the README and docs/desktop-screens.md (a dev tool, not
part of the suite)::

    python -m tests.ui.make_screenshots                      # all, framed, on a 1366×768 screen
    python -m tests.ui.make_screenshots --screen 1024x768    # a few, as ui-*-1024.png
    python -m tests.ui.make_screenshots platform | officer-reports   # only those
    python -m tests.ui.make_screenshots --offscreen          # frameless grabs, no X server

By default each picture is the whole screen of a virtual X server (Xvfb) with a window
manager (openbox): the window opens as it does on a school laptop (it sizes itself to the
screen; on 1366×768 and 1024×768 it opens maximized) and the capture shows its frame, menu
and status bar. Needs Debian's ``xvfb openbox imagemagick optipng`` (``import`` grabs the
screen, ``optipng`` shrinks the PNG). Chinese, with the bundled font; a real sync server
process feeds the sync screen. Writes ``resources/screenshots/ui-*.png``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "resources" / "screenshots"
PASS = "correct horse battery"
_ARGS = sys.argv[1:]
OFFSCREEN = "--offscreen" in _ARGS
SCREEN = _ARGS[_ARGS.index("--screen") + 1] if "--screen" in _ARGS else "1366x768"
SMALL = SCREEN != "1366x768"
# the pictures taken on a smaller screen too (named ui-NAME-1024.png)
SMALL_SET = {"students", "visit-editor", "visit-final", "growth", "officer-review", "officer-platform"}
_X: list[subprocess.Popen] = []


def _start_x(screen: str) -> str:
    """A virtual screen of ``screen`` pixels with openbox on it; returns the DISPLAY."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{screen}x24", "-dpi", "96",
                             "-nolisten", "tcp", "-br"], pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    number = b""
    while not number.endswith(b"\n"):
        chunk = os.read(read, 16)
        if not chunk:
            raise RuntimeError("Xvfb did not start")
        number += chunk
    os.close(read)
    display = f":{number.decode().strip()}"
    _X.append(xvfb)
    _X.append(subprocess.Popen(["openbox"], env=dict(os.environ, DISPLAY=display),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return display


if OFFSCREEN:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
else:
    os.environ["DISPLAY"] = _start_x(SCREEN)
    os.environ["QT_QPA_PLATFORM"] = "xcb"

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402


def _wait(w, cond=lambda: True, ms=15000):
    waited = 0
    while (w.ctx.tasks.pending() or not cond()) and waited < ms:
        QTest.qWait(20)
        waited += 20
    QTest.qWait(80)


def _show(w) -> None:
    """Show the window as the app does (its own size for the screen) and let the window
    manager frame it."""
    w.show()
    QTest.qWaitForWindowExposed(w)
    QTest.qWait(300 if not OFFSCREEN else 0)


def _shot(w, name, keep_notice=False):
    if SMALL and name not in SMALL_SET:
        return
    OUT.mkdir(parents=True, exist_ok=True)
    if not keep_notice:
        w.notice.hide()
    path = OUT / (f"ui-{name}-{SCREEN.split('x')[0]}.png" if SMALL else f"ui-{name}.png")
    if OFFSCREEN:
        w.grab().save(str(path))
    else:
        w.raise_()
        w.activateWindow()
        QTest.qWait(250)  # the window manager and the last paint
        subprocess.run(["import", "-window", "root", str(path)], check=True)
        if shutil.which("optipng"):
            subprocess.run(["optipng", "-quiet", "-o2", str(path)], check=False)
    print("wrote", path)


def unlock_recovery_shot(w) -> None:
    """The unlock screen with the "forgot the passphrase" panel open, filled in; closed again."""
    u = w.unlock
    u.forgot_button.click()
    u.recovery.key.setText("k7qm-2xwp-9hdr-bn4t-yc8f-3gzs-mv6e-pa5j")  # a made-up key
    u.recovery.first.setText("我家门前有条河2024")
    u.recovery.second.setText("我家门前有条河2024")
    _wait(w)
    _shot(w, "unlock-recovery")
    u.hide_recovery()


def main() -> None:
    from visitapp.app import build_window
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.domain import Conflict, profile_field_id
    from visitapp.services import create_profile
    from visitapp.services.base import new_id
    from visitapp.services.demo import seed_demo

    tmp = Path(tempfile.mkdtemp(prefix="shots-"))
    # 1. welcome
    w = build_window(tmp / "new", language="zh_CN", kdf=FAST_TEST_KDF)
    _show(w)
    _wait(w)
    _shot(w, "welcome")
    w.close()

    # 2. a teacher's profile with a demo school
    ws, _ = create_profile(tmp / "teacher", PASS, kdf=FAST_TEST_KDF, staff_name="李老师")
    seed_demo(ws, 120)
    ws.close()
    w = build_window(tmp / "teacher", language="zh_CN", kdf=FAST_TEST_KDF)
    _show(w)
    _wait(w)
    _shot(w, "unlock")
    unlock_recovery_shot(w)
    w.unlock.passphrase.setText(PASS)
    w.unlock.submit()
    _wait(w, lambda: w.students.model.rowCount() > 0)
    _shot(w, "students")
    ws = w.ctx.ws

    # 3. visit editor, filled in
    s = w.students
    for r in range(s.proxy.rowCount()):
        if s.proxy.data(s.proxy.index(r, 0), Qt.ItemDataRole.UserRole).visit_status == "not_visited":
            s.table.selectRow(r)
            break
    w.open_visit(s.selected_id())
    _wait(w, lambda: w.editor.visit is not None)
    e = w.editor
    e.mode.setCurrentIndex(e.mode.findData("on_site"))
    e.visitors.setText("李老师，王老师")
    e.people_present.setText("母亲、祖母、学生本人")
    e._add_member_row()
    for c, v in enumerate(["母亲", "陈秀英", "41", "务农", "腰椎间盘突出"]):
        e.members.item(0, c).setText(v)
    e._add_member_row()
    for c, v in enumerate(["祖母", "王桂兰", "72", "无", "高血压"]):
        e.members.item(1, c).setText(v)
    e.visitors.setFocus()  # the last member cell's editor closes
    e.income.setValue(26000)
    e.income_sources.setText("务农收入、低保金")
    e.housing.setPlainText("两间平房，屋顶漏雨。")
    e.indicators["low_income"].setChecked(True)
    e.indicators["serious_illness"].setChecked(True)
    _wait(w)
    _shot(w, "visit-editor")
    e.scroll.verticalScrollBar().setValue(e.scroll.verticalScrollBar().maximum())
    e.narrative.setPlainText("学生父亲外出务工，母亲在家务农并照顾祖母，家庭收入较低。学生学习认真，性格内向。")
    e.level.setCurrentIndex(e.level.findData("2"))
    e.consent.setCurrentIndex(e.consent.findData(True))
    e.materials["letter_to_parents"].setChecked(True)
    e.materials["anti_fraud_notice"].setChecked(True)
    e.save()
    _wait(w)
    _shot(w, "visit-editor-2")
    w.ctx.confirm = lambda *a: True
    e.finalize()
    _wait(w, lambda: e.read_only)
    e.scroll.verticalScrollBar().setValue(0)
    _wait(w)
    _shot(w, "visit-final", keep_notice=True)

    # 4. growth file
    rows = ws.students.list_mine()
    target = max(rows, key=lambda r: len(ws.students.timeline(r.id)))
    w.open_growth(target.id)
    _wait(w, lambda: w.growth.model.rowCount() > 0)
    _shot(w, "growth")

    # 5. mentor notes
    w.show_screen(w.mentor)
    _wait(w, lambda: w.mentor.notes.count() > 0)
    w.mentor.notes.setCurrentRow(0)
    _wait(w)
    _shot(w, "mentor")

    # 6. conflicts
    sid = rows[0].id
    with ws.profile.session() as sess, sess.begin():
        ws.ctx.write(sess, Conflict(id=new_id(), record_kind="growth_profile_field",
                                    record_id=profile_field_id(sid, "strengths"), field_name="strengths",
                                    student_id=sid, local_author=ws.identity.staff_id, remote_author="x",
                                    created_at=dt.datetime.now(dt.timezone.utc),
                                    local_value="擅长绘画，多次获得校级比赛奖项。",
                                    remote_value="擅长书法，担任班级宣传委员。"), "demo", sync=False)
    w.show_screen(w.conflicts)
    _wait(w, lambda: w.conflicts.list.count() > 0)
    w.conflicts.reason.setText("与班主任核实后合并两项特长")
    w.conflicts.merged.setPlainText("擅长绘画和书法，多次获得校级比赛奖项，担任班级宣传委员。")
    _shot(w, "conflicts")
    w.close()

    # 7. sync against a real server, enrolled as a teacher
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.ui.server import server_available, start_server

    if server_available():
        srv = start_server(tmp / "server", students=200, teachers=4)
        try:
            w = build_window(tmp / "enrolled", language="zh_CN", kdf=FAST_TEST_KDF)
            _show(w)
            st = w.start
            st.welcome.pasted.setText(srv.code("teacher"))
            st.welcome._enroll()
            st.passphrase.name.setText("李老师")
            st.passphrase.first.setText(PASS)
            st.passphrase.second.setText(PASS)
            st.passphrase._submit()
            _wait(w, lambda: st.currentWidget() is st.recovery)
            _shot(w, "recovery-key")
            st.recovery._continue()
            _wait(w, lambda: not w.sync.running, 60000)  # the first sync follows the enrollment
            _shot(w, "sync")
            w.close()
        finally:
            srv.stop()

    # 8. officer: collective review, refused without a visit
    ws, _ = create_profile(tmp / "officer", PASS, kdf=FAST_TEST_KDF, role="officer", staff_name="王主任")
    seed_demo(ws, 60)
    ws.close()
    w = build_window(tmp / "officer", language="zh_CN", kdf=FAST_TEST_KDF)
    _show(w)
    w.unlock.passphrase.setText(PASS)
    w.unlock.submit()
    _wait(w, lambda: w.students.model.rowCount() > 0)
    w.show_screen(w.review)
    _wait(w)
    r = w.review
    for i in range(min(4, r.reviewers.count())):
        r.reviewers.item(i).setCheckState(Qt.CheckState.Checked)
    r.minutes.setPlainText("对本学期申请学生逐一评议。")
    r.record_meeting()
    _wait(w, lambda: r.meetings.count() > 0)
    unvisited = next(x for x in w.ctx.ws.students.list_mine() if x.visit_status != "visited")
    r.student.setCurrentIndex(r.student.findData(unvisited.id))
    r.determine()
    _wait(w)
    _shot(w, "officer-review")
    w.show_screen(w.assignments)
    _wait(w)
    _shot(w, "officer-assignments")
    w.close()
    officer_reports(tmp)
    shutil.rmtree(tmp, ignore_errors=True)


def platform_shots() -> None:
    """The officer's platform screen on ``visitapp --demo --officer``'s processes: the demo's
    school server and the reference platform it starts (``python -m tests.ui.make_screenshots
    platform`` makes only these)."""
    from visitapp.app import DemoServer, build_window
    from visitapp.crypto import FAST_TEST_KDF

    tmp = Path(tempfile.mkdtemp(prefix="shots-platform-"))
    demo = DemoServer(tmp / "demo")
    try:
        w = build_window(tmp / "officer", language="zh_CN", kdf=FAST_TEST_KDF)
        _show(w)
        st = w.start
        _wait(w, lambda: w.pages.currentWidget() is st)
        st.welcome.pasted.setText(demo.codes["officer"])
        st.welcome._enroll()
        st.passphrase.name.setText("王主任")
        st.passphrase.first.setText(PASS)
        st.passphrase.second.setText(PASS)
        st.passphrase._submit()
        _wait(w, lambda: st.currentWidget() is st.recovery)
        st.recovery._continue()
        _wait(w, lambda: not w.sync.running, 60000)
        p = w.platform
        w.show_screen(p)
        _wait(w)
        p.pull_button.click()
        _wait(w, lambda: not p._busy, 60000)
        _shot(w, "officer-platform")
        p.apply_button.click()
        _wait(w, lambda: not p._busy, 60000)
        p.aid_button.click()
        _wait(w, lambda: not p._busy, 60000)
        p.push_button.click()
        _wait(w, lambda: not p._busy, 60000)
        p.report_button.click()
        _wait(w, lambda: not p._busy, 60000)
        p.section_tabs.setCurrentIndex(1)
        _shot(w, "officer-platform-report")
        w.close()
    finally:
        demo.stop()
        shutil.rmtree(tmp, ignore_errors=True)



def officer_reports(tmp: Path) -> None:
    """The officer's coverage, data-quality and public-notice screens over a demo school
    (``python -m tests.ui.make_screenshots officer-reports`` makes only these)."""
    from visitapp.app import build_window
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services import create_profile
    from visitapp.services.demo import seed_demo

    ws, _ = create_profile(tmp / "officer-reports", PASS, kdf=FAST_TEST_KDF, role="officer", staff_name="王主任")
    seed_demo(ws, 240)
    today = dt.date.today()
    term = ws.students.current_term()
    visited = [x for x in ws.students.list_mine() if x.visit_status == "visited"
               and any(str(v.mode) == "on_site" and str(v.status) == "final" and v.term == term
                       for v in ws.visits.for_student(x.id))][:8]
    meeting = ws.review.record_meeting(term, today - dt.timedelta(days=4), [s.id for s in ws.staff.list()][:4],
                                       "对本学期申请学生逐一评议。")
    for i, x in enumerate(visited):
        ws.review.determine(meeting.id, x.id, ("1", "2", "2", "3")[i % 4])
    notice = ws.review.publish_notice(meeting.id, today - dt.timedelta(days=3), today + dt.timedelta(days=3))
    first = ws.notices.record_objection(notice.id, today - dt.timedelta(days=2),
                                        "有家长反映该生家庭近期购置了新车，认定等级偏高。", visited[0].id)
    ws.notices.handle_objection(first.id, "经班主任再次家访核实，车辆为亲属借用，认定不变，已向反映人说明。")
    ws.notices.record_objection(notice.id, today - dt.timedelta(days=1), "希望公示名单中补充班级信息。")
    ws.close()
    w = build_window(tmp / "officer-reports", language="zh_CN", kdf=FAST_TEST_KDF)
    _show(w)
    w.unlock.passphrase.setText(PASS)
    w.unlock.submit()
    _wait(w, lambda: w.students.model.rowCount() > 0)
    w.show_screen(w.coverage)
    _wait(w, lambda: w.coverage.model.rowCount() > 0)
    _shot(w, "officer-coverage")
    w.show_screen(w.quality)
    _wait(w, lambda: w.quality.counts.rowCount() > 0)
    q = w.quality
    row = next(r for r in range(1, q.counts.rowCount()) if int(q.counts.index(r, 2).data()) > 0)
    q.table.setCurrentIndex(q.counts.index(row, 2))
    _wait(w)
    _shot(w, "officer-quality")
    w.show_screen(w.notices)
    _wait(w, lambda: w.notices.objections_model.rowCount() > 0)
    w.notices.objections.selectRow(1)
    w.notices.handling.setPlainText("已在公示栏补充班级，并向反映人说明。")
    _wait(w)
    _shot(w, "officer-notice")
    # issue 15: applications and the chain, review of records, support centre and retention, audit trail
    a = w.applications
    w.show_screen(a)
    _wait(w, lambda: a.student.count() > 0)
    a.student.setCurrentIndex(a.student.findData(visited[0].id))
    a.load()
    _wait(w)
    a.details.setPlainText("家长递交认定申请表和低保证明，说明母亲患病、父亲外出务工。")
    _shot(w, "officer-applications")
    w.show_screen(w.record_review)
    _wait(w)
    _shot(w, "officer-record-review")
    w.show_screen(w.lifecycle)
    _wait(w)
    w.lifecycle.centre_name.setText("梁溪区示范学校学生发展支持中心")
    w.lifecycle.centre_evidence.setPlainText("已核实：心理辅导室一间，每周值班表，本学期工作记录 12 份。")
    _shot(w, "officer-lifecycle")
    w.lifecycle.tabs.setCurrentIndex(2)  # 保存期: who is past retention, and what this laptop erased
    _wait(w)
    _shot(w, "officer-retention")
    w.show_screen(w.trail)
    w.trail.verify_button.click()
    _wait(w)
    _shot(w, "officer-trail")
    w.close()


def keys_shots(tmp: Path) -> None:
    """The officer's 密钥与注册码 tab (codes, fingerprints, the recovery sheet) on a laptop enrolled
    with a server in this process, and a teacher's visit whose story waits for the key."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.conftest import set_aside_story
    from tests.e2e.inprocess import InProcessServer
    from tests.services.test_documents import finalized_visit
    from visitapp.app import build_window
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services import create_profile
    import types

    server = InProcessServer(tmp / "keys-server", school="梁溪区示范学校")
    try:
        server.core.add_staff("王芳", "teacher")
        server.core.add_staff("陈老师", "teacher")
        ws, _ = create_profile(tmp / "keys-officer", PASS, kdf=FAST_TEST_KDF)
        ws.sync.enroll(server.code(server.officer.id))
        ws.sync.run()
        ws.close()
        w = build_window(tmp / "keys-officer", language="zh_CN", kdf=FAST_TEST_KDF)
        _show(w)
        w.unlock.passphrase.setText(PASS)
        w.unlock.submit()
        _wait(w, lambda: w.pages.currentWidget() is w.shell)
        w.show_screen(w.orphans)
        tab = w.orphans.keys
        w.orphans.tabs.setCurrentWidget(tab)
        tab.refresh()
        _wait(w, lambda: tab.staff.count() > 0)
        tab.make_code()
        _wait(w, lambda: tab.code.text().startswith("VA1"))
        _shot(w, "officer-keys")
        w.close()
    finally:
        server.stop()
    ws, _ = create_profile(tmp / "unopened", PASS, kdf=FAST_TEST_KDF, staff_name="李老师")
    from visitapp.services.demo import seed_demo
    seed_demo(ws, 20)
    student = ws.students.list_mine()[0]
    visit = finalized_visit(ws, types.SimpleNamespace(id=student.id), narrative="（另一位老师写的记录）")
    set_aside_story(ws, visit.id)
    ws.close()
    w = build_window(tmp / "unopened", language="zh_CN", kdf=FAST_TEST_KDF)
    _show(w)
    w.unlock.passphrase.setText(PASS)
    w.unlock.submit()
    _wait(w, lambda: w.students.model.rowCount() > 0)
    w.open_visit(student.id)
    _wait(w, lambda: w.editor.visit is not None and w.editor.visit.id == visit.id)
    w.editor.scroll.verticalScrollBar().setValue(w.editor.scroll.verticalScrollBar().maximum())
    _wait(w)
    _shot(w, "visit-unopened")
    w.close()


if __name__ == "__main__":
    try:
        if "keys" in _ARGS:
            folder = Path(tempfile.mkdtemp(prefix="shots-"))
            keys_shots(folder)
            shutil.rmtree(folder, ignore_errors=True)
        elif "platform" in _ARGS:
            platform_shots()
        elif "officer-reports" in _ARGS:
            folder = Path(tempfile.mkdtemp(prefix="shots-"))
            officer_reports(folder)
            shutil.rmtree(folder, ignore_errors=True)
        else:
            main()
            platform_shots()
            keys_shots(Path(tempfile.mkdtemp(prefix="shots-")))
    finally:
        for process in reversed(_X):
            process.terminate()
            process.wait(10)
