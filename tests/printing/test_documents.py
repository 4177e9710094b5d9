"""The three documents: what they print, what they must never print, and how text flows."""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pypdf

from tests.printing import samples as S
from tests.printing.conftest import page_texts
from visitapp.domain.enums import HardshipCategory, HardshipIndicator, VisitStatus, label_zh
from visitapp.printing import (
    GrowthFileJob, PublicNoticeJob, VisitSheetJob, render_batch, render_growth_file,
    render_public_notice, render_visit_sheet,
)
from visitapp.printing.fingerprint import visit_fingerprint
from visitapp.printing.fonts import PLACEHOLDER

REPO = Path(__file__).resolve().parents[2]


def flat(texts: list[str]) -> str:
    return re.sub(r"\s+", "", "".join(texts))


def test_visit_sheet_prints_the_form(out_pdf):
    student = S.student(platform_ref=S.FULL_ID)  # a full ID in a routing field must not leak
    report = render_visit_sheet(S.visit(), student, S.HEADER, reviewer="周敏", out=out_pdf)
    texts = page_texts(out_pdf)
    whole = flat(texts)
    assert report.pages == len(texts) >= 2
    assert "家庭经济困难学生家访记录表" in whole
    for expected in ("张晓明", S.MASKED_ID, "初二（3）班", "无锡市梁溪区实验中学", "2026-2027学年第一学期",
                     "李红梅、陈志刚", "实地走访", "张建国", "慢性肾病，定期透析", "21,600元", "告家长书",
                     "希望获得助学金", "周敏", "监护人", "审核人", "签名", "家访教师"):
        assert expected in whole, expected
    assert S.FULL_ID not in whole
    # every hardship indicator is on the form, ticked or not
    for indicator in HardshipIndicator:
        assert label_zh(indicator) in whole
    assert "☑家庭收入低" in whole and "☐单亲家庭" in whole
    assert "☑比较困难" in whole and "☐特别困难" in whole
    # page furniture on every page
    for i, text in enumerate(texts, 1):
        t = re.sub(r"\s+", "", text)
        assert "内部资料注意保密" in t
        assert f"第{i}页，共{len(texts)}页" in t
        assert "打印时间：2026-11-2610:15" in t and "打印人：王丽华" in t
    assert report.missing_glyphs == set()
    assert report.records[0].record_id == S.visit().id


def test_rare_name_character_beyond_the_bmp_prints_and_extracts(out_pdf):
    rare = "刘\U0002B128"  # 刘𫄨: 𫄨 is in the 通用规范汉字表, outside the BMP
    report = render_visit_sheet(S.visit(), S.student(name=rare), S.HEADER, out=out_pdf)
    assert report.missing_glyphs == set()
    assert rare in flat(page_texts(out_pdf))


def test_long_narrative_flows_over_pages_without_loss(tmp_path):
    base = tmp_path / "base.pdf"
    render_visit_sheet(S.visit(narrative=""), S.student(), S.HEADER, out=base)
    used = set(flat(page_texts(base)))
    level2 = (REPO / "resources/fonts/charsets/tygf-8105.txt").read_text(encoding="utf-8").split()[3500:6500]
    pool = [c for c in level2 if c not in used and ord(c) <= 0xFFFF][:600]
    rng = random.Random(5)
    chunks = ["".join(rng.choice(pool) for _ in range(n)) for n in (1200, 700, 1800, 1300)]
    narrative = "\n".join(chunks)
    assert len(narrative.replace("\n", "")) == 5000
    out = tmp_path / "long.pdf"
    report = render_visit_sheet(S.visit(narrative=narrative), S.student(), S.HEADER, out=out)
    texts = page_texts(out)
    assert report.pages == len(texts) >= 3
    pool_set = set(pool)
    extracted = "".join(c for c in "".join(texts) if c in pool_set)
    assert extracted == narrative.replace("\n", "")
    # the signature block still comes after the whole narrative
    assert flat(texts[-1]).find("签字确认") > 0


def test_amended_visit_prints_its_history_and_is_marked(out_pdf):
    original, fix = S.visit(), S.amendment()
    render_visit_sheet(original, S.student(), S.HEADER, amendments=[fix], out=out_pdf)
    whole = flat(page_texts(out_pdf))
    assert "更正与作废记录" in whole
    assert "家庭年收入录入有误，应为19200元" in whole
    assert fix.id in whole
    assert "已被更正" in whole  # watermark: this paper is superseded
    # the amendment's own sheet says what it corrects
    render_visit_sheet(fix, S.student(), S.HEADER, out=out_pdf)
    whole = flat(page_texts(out_pdf))
    assert f"本记录是对记录{original.id}的更正" in whole


def test_voided_and_draft_visits_are_watermarked(out_pdf):
    voided = S.visit(status=VisitStatus.VOIDED, void_reason="重复录入")
    render_visit_sheet(voided, S.student(), S.HEADER, out=out_pdf)
    whole = flat(page_texts(out_pdf))
    assert "本记录已作废。作废原因：重复录入" in whole and "已作废" in whole
    render_visit_sheet(S.visit(status=VisitStatus.DRAFT, finalized_at=None), S.student(), S.HEADER,
                       out=out_pdf)
    assert "草稿不作存档" in flat(page_texts(out_pdf))


def test_user_text_is_not_markup(out_pdf):
    sneaky = S.visit(student_needs="<b>加粗</b> & <font size=40>大</font>", follow_ups="a < b > c")
    render_visit_sheet(sneaky, S.student(), S.HEADER, out=out_pdf)
    whole = flat(page_texts(out_pdf))
    assert "<b>加粗</b>&<fontsize=40>大</font>" in whole
    assert "a<b>c" in whole


def test_missing_glyph_is_reported_and_visible(out_pdf):
    odd = "\U00020000"  # a CJK Extension B character outside GB 2312 and the 8105 list
    report = render_visit_sheet(S.visit(), S.student(name=f"张{odd}明"), S.HEADER, out=out_pdf)
    assert report.missing_glyphs == {odd}
    assert f"张{PLACEHOLDER}明" in flat(page_texts(out_pdf))
    assert odd in report.summary_zh()


def test_font_is_embedded_and_the_only_font(out_pdf):
    p, v, e, n = S.growth_records()
    notice, rows = S.notice_and_rows()
    render_batch([
        VisitSheetJob(S.visit(), S.student(), S.HEADER),
        GrowthFileJob(S.student(), S.HEADER, p, v, e, n),
        PublicNoticeJob(notice, rows, S.HEADER),
    ], out_pdf)
    reader = pypdf.PdfReader(str(out_pdf))
    seen = 0
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            assert font["/Subtype"] == "/TrueType"
            assert "VisitAppSansSC" in font["/BaseFont"]
            assert "/FontFile2" in font["/FontDescriptor"].get_object()
            seen += 1
    assert seen >= len(reader.pages)


def test_growth_file(out_pdf):
    profile, visits, entries, notes = S.growth_records()
    report = render_growth_file(S.student(), profile, visits, entries, notes, S.HEADER, out=out_pdf)
    whole = flat(page_texts(out_pdf))
    assert "学生资助成长档案" in whole
    for expected in ("张晓明", S.MASKED_ID, "优点特长", "数学成绩优秀", "围棋", "帮扶计划",
                     "2026-10-12", "实地走访", "区数学竞赛二等奖", "公开表彰", "国家助学金（秋季学期）",
                     "625元", "午餐费减免", "市平台", "心理老师个别辅导一次", "育人导师记录",
                     "第一次谈心", "常态化研讨", "陈志刚、李红梅、周敏"):
        assert expected in whole, expected
    assert report.records[0].kind == "growth_file"
    assert report.records[0].record_id == S.student().id
    # the timeline is chronological within each section
    assert whole.index("2026-09-01") < whole.index("2026-09-20")


def test_growth_file_without_records_says_so(out_pdf):
    render_growth_file(S.student(), {}, [], [], [], S.HEADER, out=out_pdf)
    whole = flat(page_texts(out_pdf))
    assert whole.count("（暂无记录）") == 5


def test_public_notice_prints_masked_names_only(out_pdf):
    notice, rows = S.notice_and_rows()
    report = render_public_notice(notice, rows, S.HEADER, out=out_pdf)
    whole = flat(page_texts(out_pdf))
    assert notice.title in whole
    assert "2026年11月21日至2026年11月27日" in whole
    for masked in ("张*明", "欧**娜", "李*", "王*", "陈*鸣"):
        assert masked in whole
    for student, _ in rows:
        assert student.name not in whole          # no full names
        assert student.guardian_name not in whole
        assert student.address.replace(" ", "") not in whole
    assert "赵*涵" not in whole                     # "not determined" is not published
    assert "特别困难" in whole and "一般困难" in whole
    assert "3202" not in whole and "*" * 10 not in whole  # no ID numbers, not even masked
    for category in HardshipCategory:
        assert label_zh(category) not in whole, label_zh(category)
    for indicator in HardshipIndicator:
        assert label_zh(indicator) not in whole
    assert "原因" not in whole and "理由" not in whole
    assert "内部资料注意保密" in whole and "第1页，共1页" in whole
    assert report.pages == 1
    # ordered by class, naturally: 初一 before 初二 before 初三
    assert whole.index("欧**娜") < whole.index("张*明") < whole.index("陈*鸣")


def test_fingerprint_tracks_content_and_version():
    v, s = S.visit(), S.student()
    fp = visit_fingerprint(v, s)
    assert fp == visit_fingerprint(v, s)  # deterministic
    assert fp.version == "final.0.20261012T210500"
    changed = visit_fingerprint(dataclasses.replace(v, narrative=v.narrative + "。"), s)
    assert changed.hash != fp.hash and changed.version == fp.version
    amended = visit_fingerprint(v, s, [S.amendment()])
    assert amended.version.startswith("amended.1.") and amended.hash != fp.hash
    # print-time details are not content
    job1 = VisitSheetJob(v, s, S.HEADER)
    job2 = VisitSheetJob(v, s, dataclasses.replace(S.HEADER, printed_by="另一位老师"))
    assert job1.fingerprint() == job2.fingerprint()


def test_overlong_cell_values_move_to_the_appendix_in_full(out_pdf):
    # characters that appear nowhere else on the form, so counting them proves nothing is lost
    long_needs = "淼" * 1600                 # far more than a form row can hold
    long_address = "鑫" * 1200
    report = render_visit_sheet(S.visit(student_needs=long_needs),
                                S.student(address=long_address), S.HEADER, out=out_pdf)
    whole = flat(page_texts(out_pdf))
    assert "（内容较长，见附页第1项“家庭住址”）" in whole
    assert "（内容较长，见附页第2项“学生需求”）" in whole
    appendix = whole[whole.index("附页：较长内容"):]
    assert appendix.count("鑫") == whole.count("鑫") == 1200
    assert appendix.count("淼") == whole.count("淼") == 1600
    assert appendix.rindex("淼") < appendix.index("签字确认")  # the guardian signs after everything
    assert report.pages >= 3
    profile, visits, entries, notes = S.growth_records()
    entries = [dataclasses.replace(e, detail="焱" * 700) for e in entries]
    render_growth_file(S.student(), profile, visits, entries, notes, S.HEADER, out=out_pdf)
    assert flat(page_texts(out_pdf)).count("焱") == 700 * len(entries)
