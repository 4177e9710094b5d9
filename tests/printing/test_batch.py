"""Batch printing: many records in one PDF, page numbers per record, progress and cancel."""

from __future__ import annotations

import re
import threading

import pypdf
import pytest

from tests.printing import samples as S
from tests.printing.conftest import page_texts
from visitapp.printing import PrintReport, VisitSheetJob, render_batch


def jobs(n: int):
    for i in range(n):
        visit = S.visit(id=f"0192f3c4-7a1b-7c2d-8e3f-{i:012d}")
        yield VisitSheetJob(visit, S.student(name=f"学生{'甲乙丙丁戊己庚辛壬癸'[i % 10]}"), S.HEADER)


def test_batch_records_pages_and_progress(out_pdf):
    calls = []
    report = render_batch(list(jobs(3)), out_pdf, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert report.record_ids == [f"0192f3c4-7a1b-7c2d-8e3f-{i:012d}" for i in range(3)]
    texts = page_texts(out_pdf)
    assert report.pages == len(texts) == sum(r.page_count for r in report.records)
    # page numbers restart for every record, and each page names its own record
    for record in report.records:
        for k in range(record.page_count):
            page = re.sub(r"\s+", "", texts[record.first_page - 1 + k])
            assert f"第{k + 1}页，共{record.page_count}页" in page
            assert record.record_id in page
    assert "学生乙" in texts[report.records[1].first_page - 1]


def test_batch_from_a_generator_reports_unknown_total(out_pdf):
    calls = []
    report = render_batch(jobs(2), out_pdf, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 0), (2, 0)]
    assert len(pypdf.PdfReader(str(out_pdf)).pages) == report.pages


def test_cancel_during_batch_leaves_no_file(out_pdf):
    cancel = threading.Event()
    calls = []

    def progress(done, total):
        calls.append(done)
        if done == 2:
            cancel.set()

    report = render_batch(list(jobs(6)), out_pdf, progress=progress, cancel=cancel)
    assert report.cancelled
    assert calls == [1, 2]
    assert len(report.records) == 2
    assert not out_pdf.exists()
    assert "取消" in report.summary_zh()


def test_cancel_from_another_thread(out_pdf):
    cancel = threading.Event()
    started = threading.Event()
    result: list[PrintReport] = []

    def work():
        result.append(render_batch(list(jobs(200)), out_pdf,
                                   progress=lambda d, t: started.set(), cancel=cancel))

    worker = threading.Thread(target=work)
    worker.start()
    assert started.wait(30)
    cancel.set()
    worker.join(30)
    assert not worker.is_alive()
    assert result[0].cancelled and len(result[0].records) < 200
    assert not out_pdf.exists()


def test_batch_to_a_file_object(tmp_path):
    import io

    buffer = io.BytesIO()
    report = render_batch(list(jobs(1)), buffer)
    assert buffer.getvalue().startswith(b"%PDF-")
    assert report.path is None and report.pages >= 2


def test_empty_batch_is_refused(out_pdf):
    with pytest.raises(ValueError, match="没有可打印的记录"):
        render_batch([], out_pdf)
    assert not out_pdf.exists()


def test_missing_target_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="保存位置不存在"):
        render_batch(list(jobs(1)), tmp_path / "no-such-folder" / "x.pdf")


def test_concurrent_prints_each_produce_a_correct_pdf(tmp_path):
    outs = [tmp_path / f"p{i}.pdf" for i in range(3)]
    errors: list[BaseException] = []

    def work(i):
        try:
            job = VisitSheetJob(S.visit(id=f"0192f3c4-7a1b-7c2d-8e3f-00000000000{i}"),
                                S.student(name=["赵一鸣", "钱二丫", "孙三省"][i]), S.HEADER)
            render_batch([job, job], outs[i])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for i, name in enumerate(["赵一鸣", "钱二丫", "孙三省"]):
        text = re.sub(r"\s+", "", "".join(page_texts(outs[i])))
        assert text.count(name) >= 2 and "家庭经济困难学生家访记录表" in text


def test_screenshots_are_kept_small():
    from pathlib import Path

    from PIL import Image

    shots = Path(__file__).resolve().parents[2] / "resources" / "screenshots"
    for name in ("print-visit-sheet", "print-growth-file", "print-public-notice"):
        path = shots / f"{name}.png"
        assert path.stat().st_size < 500 * 1024
        with Image.open(path) as image:
            assert 780 <= image.width <= 880  # ~100 dpi A4
