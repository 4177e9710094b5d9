"""Issue 14 through the window: on the officer's laptop, 密钥与注册码 prints the officer recovery
sheet straight to the printer (its QR code is the sheet's key; no file is left); on the new
laptop of an officer whose laptop was lost, the same tab takes the typed sheet — a slip is
refused with its reason — and after the next sync the families' records read again. The server
runs in this process over pinned HTTPS (the point is the window, not the process)."""

from __future__ import annotations

import shutil
import types

import pytest
from PySide6.QtCore import Qt

from tests.conftest import PASSPHRASE
from tests.e2e.inprocess import InProcessServer
from tests.services.test_documents import finalized_visit
from tests.ui.conftest import PASS
from tests.ui.helpers import click, idle
from visitapp.crypto import FAST_TEST_KDF
from visitapp.services import create_profile

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
STORY = "父亲因工伤失去劳动能力，母亲在镇上餐馆帮工。"


def _keys_tab(qtbot, w):
    w.show_screen(w.orphans)
    tab = w.orphans.keys
    w.orphans.tabs.setCurrentWidget(tab)
    tab.refresh()
    idle(qtbot, w, timeout=60000)
    return tab


def test_the_officer_prints_the_sheet_and_a_new_laptop_restores_from_it(
        qtbot, make_window, real_backend, profile_dir, tmp_path):
    import pypdfium2 as pdfium
    import zxingcpp
    from PySide6.QtPrintSupport import QPrinter

    server = InProcessServer(tmp_path)
    try:
        student = server.student("李小红")
        lost, _ = create_profile(tmp_path / "lost", PASSPHRASE, kdf=FAST_TEST_KDF)
        assert lost.sync.enroll(server.code(server.officer.id)).keys_certified
        assert lost.sync.run().ok
        visit = finalized_visit(lost, types.SimpleNamespace(id=student), narrative=STORY)
        assert lost.sync.run().ok
        sheet = lost.keys.officer_recovery_sheet()
        lost.close()
        shutil.rmtree(tmp_path / "lost")  # the laptop is gone

        new, _ = create_profile(profile_dir, PASS, kdf=FAST_TEST_KDF)
        new.sync.enroll(server.code(server.officer.id))
        new.close()
        w = make_window(real_backend)
        qtbot.keyClicks(w.unlock.passphrase, PASS)
        qtbot.keyClick(w.unlock.passphrase, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=20000)
        idle(qtbot, w, timeout=60000)
        tab = _keys_tab(qtbot, w)
        assert tab.restore_button.isVisible() and not tab.print_sheet_button.isVisible()
        assert "does not hold the officer key" in tab.sheet_note.text()

        # one character wrong: refused, says so, nothing trusted
        slip = sheet[:5] + ("B" if sheet[5] != "B" else "C") + sheet[6:]
        qtbot.keyClicks(tab.sheet_typed, slip)
        click(qtbot, tab.restore_button)
        # in the window's language (English here), not the crypto package's Chinese sentence
        qtbot.waitUntil(lambda: "has a mistake" in tab.state.text(), timeout=60000)
        assert not w.ctx.ws.keys.has_officer_key()

        tab.sheet_typed.clear()
        qtbot.keyClicks(tab.sheet_typed, sheet.lower())
        click(qtbot, tab.restore_button)
        qtbot.waitUntil(lambda: tab.state.text().startswith("Restored"), timeout=60000)
        idle(qtbot, w, timeout=60000)
        assert tab.print_sheet_button.isVisible() and not tab.restore_button.isVisible()
        with qtbot.waitSignal(w.sync.finished, timeout=120000):
            w.start_sync()
        idle(qtbot, w, timeout=60000)
        assert w.ctx.ws.visits.get(visit.id).narrative == STORY

        # this laptop's own sheet goes to the chosen printer and nowhere else
        printed_to = tmp_path / "printer-output.pdf"

        def choose_printer():
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            printer.setOutputFileName(str(printed_to))
            return printer

        tab.choose_printer = choose_printer
        click(qtbot, tab.print_sheet_button)
        # a printer that writes a file: the message names it, to be printed and deleted
        qtbot.waitUntil(lambda: tab.state.text().startswith("Written to the file"), timeout=60000)
        assert str(printed_to) in tab.state.text()
        pdf = pdfium.PdfDocument(str(printed_to))
        image = pdf[0].render(scale=150 / 72).to_pil().convert("RGB")
        pdf.close()
        own = w.ctx.ws.keys.officer_recovery_sheet()
        assert own != sheet  # the new laptop's own key is on its own sheet
        assert [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)] == [own]
        assert not list(profile_dir.rglob("*.pdf"))
    finally:
        server.stop()
