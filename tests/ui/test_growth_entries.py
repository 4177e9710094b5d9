"""The growth screen adds every entry kind the plan names, not rewards only: a reward, the
school's own aid (kind, amount, programme), psychological support, an activity or study trip —
each through the real dialog's widgets, shown on the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.ui.helpers import click, idle, type_text


@pytest.mark.parametrize("kind,fill,expect", [
    ("reward", {"kind": "scholarship"}, {"reward_kind": "scholarship"}),
    ("aid", {"aid_kind": "grant", "amount": "1,500", "programme": "校内资助（3%经费）"},
     {"aid_kind": "grant", "amount_yuan": 1500.0, "programme": "校内资助（3%经费）"}),
    ("psych_support", {}, {}),
    ("activity", {"programme": "暑期研学"}, {"programme": "暑期研学"}),
])
def test_every_entry_kind_through_the_dialog(qtbot, unlocked, kind, fill, expect):
    w, ws = unlocked()
    w.students.table.selectRow(1)
    sid = w.students.selected_id()
    click(qtbot, w.students.growth_button)
    idle(qtbot, w)
    g = w.growth
    opened = []

    def fake_exec(dialog):
        opened.append(dialog)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.entry_kind.setCurrentIndex(dialog.entry_kind.findData(kind))
        assert dialog.form.isRowVisible(dialog.kind) == (kind == "reward")
        assert dialog.form.isRowVisible(dialog.amount) == (kind == "aid")
        if "kind" in fill:
            dialog.kind.setCurrentIndex(dialog.kind.findData(fill["kind"]))
        if "aid_kind" in fill:
            dialog.aid_kind.setCurrentIndex(dialog.aid_kind.findData(fill["aid_kind"]))
        for widget, key in ((dialog.amount, "amount"), (dialog.programme, "programme")):
            if key in fill:
                type_text(qtbot, widget, fill[key])
        type_text(qtbot, dialog.title, f"测试{kind}")
        dialog.hide()
        return True

    from visitapp.ui.screens import growth as growth_screen
    g.reward_dialog_factory = lambda parent: type("D", (growth_screen.EntryDialog,), {"exec": fake_exec})(parent)
    before = len(ws.growth.entries(sid))
    click(qtbot, g.add_reward)
    idle(qtbot, w)
    assert opened
    entries = ws.growth.entries(sid)
    assert len(entries) == before + 1
    new = next(e for e in entries if e.title == f"测试{kind}")
    assert str(new.kind) == kind and new.entry_date == dt.date.today() and new.source == "school"
    for field, value in expect.items():
        got = getattr(new, field)
        assert (str(got) if hasattr(got, "value") else got) == value, field
    assert any(g.model.row_at(r).title.startswith(f"测试{kind}") for r in range(g.model.rowCount()))


def test_a_bad_amount_is_refused_with_a_sentence(qtbot, unlocked):
    w, ws = unlocked()
    w.students.table.selectRow(1)
    click(qtbot, w.students.growth_button)
    idle(qtbot, w)
    from visitapp.ui.screens.growth import EntryDialog
    d = EntryDialog(w, kind="aid")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    type_text(qtbot, d.amount, "很多")
    type_text(qtbot, d.title, "助学金")
    w.growth.save_reward(d.values())
    idle(qtbot, w)
    assert w.notice.isVisible() and "amount" in w.notice.label.text()

