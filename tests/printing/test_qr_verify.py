"""QR codes on every page, and verify-sheet's verdicts from PDFs, scans and phone photos."""

from __future__ import annotations

import dataclasses

import pytest
from PIL import Image, ImageFilter

from tests.printing import samples as S
from tests.printing.conftest import page_image, qr_texts
from visitapp.printing import (
    GrowthFileJob, PublicNoticeJob, VisitSheetJob, parse_qr_payload, render_batch,
    render_visit_sheet, visit_fingerprint,
)
from visitapp.printing.fingerprint import Fingerprint
from visitapp.printing.verify import SheetReadError, read_qr_payloads, verify_sheet


def lookup_from(*fingerprints: Fingerprint):
    table = {(f.kind, f.record_id): (f.version, f.hash) for f in fingerprints}
    return lambda kind, record_id: table.get((kind, record_id))


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    """A two-page amended visit sheet and its fingerprint."""
    path = tmp_path_factory.mktemp("sheet") / "sheet.pdf"
    report = render_visit_sheet(S.visit(), S.student(), S.HEADER, [S.amendment()], "周敏", out=path)
    assert report.pages == 2
    # the printed 审核人 name is part of what the sheet's hash covers (issue 15)
    return path, VisitSheetJob(S.visit(), S.student(), S.HEADER, (S.amendment(),), "周敏").fingerprint()


def test_every_page_carries_the_records_qr_code(sheet):
    path, fp = sheet
    for index in range(2):
        texts = qr_texts(page_image(path, index, dpi=150))
        assert texts == [fp.payload()]
        parsed = parse_qr_payload(texts[0])
        assert parsed == fp
        assert parsed.record_id == S.visit().id
        assert parsed.version == fp.version and parsed.version.startswith("amended.1.")
        assert len(parsed.hash) == 16


def test_payload_format_and_parser():
    fp = Fingerprint("visit", "0192f3c4-7a1b-7c2d-8e3f-0000000000a1", "final.0.20261012T210500",
                     "0123456789abcdef")
    assert fp.payload() == "VA1|visit|0192f3c4-7a1b-7c2d-8e3f-0000000000a1|final.0.20261012T210500|0123456789abcdef"
    assert parse_qr_payload(fp.payload()) == fp
    for bad in ("", "hello", "VA2|visit|x|1|0123456789abcdef", "VA1|pizza|x|1|0123456789abcdef",
                "VA1|visit|x|1|0123", "VA1|visit|x|1|0123456789ABCDEF", "VA1|visit|a b|1|0123456789abcdef",
                fp.payload() + "|extra"):
        assert parse_qr_payload(bad) is None, bad


def test_verify_pdf_match_outdated_unknown(sheet):
    path, fp = sheet
    match = verify_sheet(path, lookup_from(fp))
    assert match.status == "match" and match.record_id == fp.record_id and match.kind == "visit"
    assert "一致" in match.reason

    newer = dataclasses.replace(fp, version="voided.1.20261101T080000")
    outdated = verify_sheet(path, lookup_from(newer))
    assert outdated.status == "outdated"
    assert fp.version in outdated.reason and newer.version in outdated.reason

    edited = dataclasses.replace(fp, hash="f" * 16)
    assert verify_sheet(path, lookup_from(edited)).status == "outdated"
    assert "校验码" in verify_sheet(path, lookup_from(edited)).reason

    unknown = verify_sheet(path, lookup_from())
    assert unknown.status == "unknown" and fp.record_id in unknown.reason


def _photo(image: Image.Image, angle: float, scale: float, blur: float) -> Image.Image:
    """Like a phone photo: a little rotated, rescaled, soft, on a darker table."""
    out = image.rotate(angle, expand=True, fillcolor=(96, 84, 70), resample=Image.BICUBIC)
    out = out.resize((int(out.width * scale), int(out.height * scale)), Image.BILINEAR)
    return out.filter(ImageFilter.GaussianBlur(blur))


def test_verify_phone_photo_rotated_and_scaled(sheet, tmp_path):
    path, fp = sheet
    photo = _photo(page_image(path, 1, dpi=150), angle=4.5, scale=1.5, blur=1.2)
    jpg = tmp_path / "photo.jpg"
    photo.save(jpg, quality=72)
    assert verify_sheet(jpg, lookup_from(fp)).status == "match"
    newer = dataclasses.replace(fp, version="final.2.20261201T000000")
    assert verify_sheet(jpg, lookup_from(newer)).status == "outdated"


def test_verify_scan_slightly_skewed_and_downscaled(sheet, tmp_path):
    path, fp = sheet
    scan = _photo(page_image(path, 0, dpi=200), angle=-2.0, scale=0.7, blur=0.5).convert("L")
    png = tmp_path / "scan.png"
    scan.save(png)
    verdict = verify_sheet(png, lookup_from(fp))
    assert verdict.status == "match", verdict.reason


def test_verify_image_without_code_and_unreadable_files(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (800, 1100), "white").save(blank)
    verdict = verify_sheet(blank, lookup_from())
    assert verdict.status == "unknown" and "二维码" in verdict.reason
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"this is not a sheet")
    with pytest.raises(SheetReadError, match="无法识别"):
        verify_sheet(junk, lookup_from())
    with pytest.raises(SheetReadError, match="找不到文件"):
        read_qr_payloads(tmp_path / "nope.pdf")


def test_verify_batch_pdf_lists_every_record(tmp_path):
    p, v, e, n = S.growth_records()
    notice, rows = S.notice_and_rows()
    jobs = [VisitSheetJob(S.visit(), S.student(), S.HEADER),
            GrowthFileJob(S.student(), S.HEADER, p, v, e, n),
            PublicNoticeJob(notice, rows, S.HEADER)]
    out = tmp_path / "batch.pdf"
    render_batch(jobs, out)
    fps = [j.fingerprint() for j in jobs]
    verdict = verify_sheet(out, lookup_from(*fps))
    assert verdict.status == "match"
    assert [r.printed for r in verdict.records] == fps
    stale_notice = dataclasses.replace(fps[2], version="closed.5.20261120T090000")
    verdict = verify_sheet(out, lookup_from(fps[0], fps[1], stale_notice))
    assert verdict.status == "outdated"
    assert [r.status for r in verdict.records] == ["match", "match", "outdated"]
    assert "共识别 3 份记录" in verdict.reason


def test_both_qr_encoders_make_codes_that_decode():
    """zxing-cpp draws the codes; reportlab's own encoder is the fallback, and must work too."""
    from PIL import ImageDraw

    from visitapp.printing.layout import qr_matrix

    text = "VA1|visit|0192f3c4-7a1b-7c2d-8e3f-0000000000a1|final.0.20261012T210500|0123456789abcdef"
    for prefer_zxing in (True, False):
        dark = qr_matrix(text, prefer_zxing=prefer_zxing)
        n, box = len(dark), 8
        image = Image.new("L", ((n + 8) * box, (n + 8) * box), 255)
        draw = ImageDraw.Draw(image)
        for r, row in enumerate(dark):
            for c, on in enumerate(row):
                if on:
                    x, y = (c + 4) * box, (r + 4) * box
                    draw.rectangle([x, y, x + box - 1, y + box - 1], fill=0)
        assert qr_texts(image) == [text], prefer_zxing
