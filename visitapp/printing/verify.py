"""Check a paper sheet against the database: read its QR code, compare version and hash.

Input is a PDF (each page rendered with pypdfium2) or a photo/scan (PNG, JPEG, … via Pillow).
zxing-cpp finds QR codes at any rotation and scale; for a phone photo we also retry on a
downscaled, contrast-stretched copy, which rescues large, soft or unevenly lit pictures.

Decision, per record found on the sheet (``lookup(kind, record_id)`` gives the current
``(version, hash)`` or ``None``):

- ``unknown``: no code of ours on the sheet, or the database has no such record;
- ``match``: version and content hash both equal the current ones;
- ``outdated``: the record exists but its version or printed content differs (changed,
  amended or voided since printing; a same-version hash difference means the paper does not
  show what the database holds and is reported as such in the reason).

A file holding several records (a batch) gets the worst of their verdicts, each one listed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from visitapp.printing.fingerprint import Fingerprint, parse_qr_payload

__all__ = ["Verdict", "RecordVerdict", "verify_sheet", "read_qr_payloads", "Lookup"]

Lookup = Callable[[str, str], "tuple[str, str] | None"]
MATCH, OUTDATED, UNKNOWN = "match", "outdated", "unknown"
_RANK = {MATCH: 0, OUTDATED: 1, UNKNOWN: 2}
_KIND_ZH = {"visit": "家访记录", "growth_file": "资助成长档案", "public_notice": "公示名单",
            "workload": "工作量统计表", "subject_access": "个人信息查阅副本", "chain": "资助工作全过程记录"}
_PDF_SCALE = 200 / 72     # 200 dpi: a 24 mm code is ~190 px, ~5 px per module
_MAX_PDF_PAGES = 2000


@dataclass(frozen=True)
class RecordVerdict:
    """The verdict for one record found on the sheet."""

    status: str
    printed: Fingerprint
    current_version: str | None
    current_hash: str | None
    reason: str


@dataclass(frozen=True)
class Verdict:
    """``status`` is ``match``, ``outdated`` or ``unknown``; ``reason`` is a sentence for people."""

    status: str
    reason: str
    records: list[RecordVerdict] = field(default_factory=list)

    @property
    def record_id(self) -> str | None:
        """The id of the first record found (the only one on a single sheet)."""
        return self.records[0].printed.record_id if self.records else None

    @property
    def kind(self) -> str | None:
        """The kind of the first record found."""
        return self.records[0].printed.kind if self.records else None


class SheetReadError(ValueError):
    """The file cannot be read as a PDF or an image (message is a sentence for people)."""


def _decode(image) -> list[str]:
    import zxingcpp

    return [b.text for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def _decode_photo(image) -> list[str]:
    """Decode a photo or scan, retrying on friendlier copies when the first look finds nothing."""
    from PIL import ImageOps

    gray = ImageOps.exif_transpose(image).convert("L")
    found = _decode(gray)
    if found:
        return found
    longest = max(gray.size)
    tries = []
    if longest > 1800:
        factor = 1600 / longest
        tries.append(gray.resize((round(gray.width * factor), round(gray.height * factor))))
    if longest < 900:
        tries.append(gray.resize((gray.width * 2, gray.height * 2)))
    tries.append(ImageOps.autocontrast(gray, cutoff=2))
    for candidate in tries:
        found = _decode(candidate)
        if found:
            return found
        found = _decode(ImageOps.autocontrast(candidate, cutoff=2))
        if found:
            return found
    return []


def read_qr_payloads(path: str | os.PathLike) -> list[str]:
    """Every QR text found in a PDF (all pages) or an image file, in order, without repeats."""
    path = Path(path)
    if not path.is_file():
        raise SheetReadError(f"找不到文件：{path}")
    with open(path, "rb") as fh:
        magic = fh.read(5)
    texts: list[str] = []
    if magic == b"%PDF-":
        import pypdfium2 as pdfium

        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            raise SheetReadError(f"无法读取 PDF 文件：{path.name}") from exc
        try:
            for index in range(min(len(pdf), _MAX_PDF_PAGES)):
                page = pdf[index]
                bitmap = page.render(scale=_PDF_SCALE, grayscale=True)
                texts += _decode(bitmap.to_pil())
                page.close()
        finally:
            pdf.close()
    else:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                image.load()
                texts = _decode_photo(image)
        except (UnidentifiedImageError, OSError) as exc:
            raise SheetReadError(f"无法识别的文件格式（请提供 PDF 或图片）：{path.name}") from exc
    seen: list[str] = []
    for text in texts:
        if text not in seen:
            seen.append(text)
    return seen


def _judge(fp: Fingerprint, lookup: Lookup) -> RecordVerdict:
    what = _KIND_ZH.get(fp.kind, fp.kind)
    current = lookup(fp.kind, fp.record_id)
    if current is None:
        return RecordVerdict(UNKNOWN, fp, None, None,
                             f"数据库中没有这份{what}（编号 {fp.record_id}），无法核对。")
    version, digest = current
    if version == fp.version and digest == fp.hash:
        return RecordVerdict(MATCH, fp, version, digest, f"这份{what}与数据库中的最新记录一致。")
    if version != fp.version:
        reason = (f"这份{what}已过期：打印时版本为 {fp.version}，数据库中现为 {version}"
                  "（记录在打印后已修改、更正或作废），请重新打印。")
    else:
        reason = (f"这份{what}的内容校验码与数据库不一致（版本相同），"
                  "纸面内容与数据库记录不符，请核实来源后重新打印。")
    return RecordVerdict(OUTDATED, fp, version, digest, reason)


def verify_sheet(image_or_pdf_path: str | os.PathLike, lookup: Lookup) -> Verdict:
    """Read the sheet's QR code(s) and judge them against ``lookup``; see the module docstring.

    Raises :class:`SheetReadError` (a sentence for people) when the file cannot be read at all.
    """
    fingerprints = []
    for text in read_qr_payloads(image_or_pdf_path):
        fp = parse_qr_payload(text)
        if fp is not None and fp not in fingerprints:
            fingerprints.append(fp)
    if not fingerprints:
        return Verdict(UNKNOWN, "未在文件中找到本系统打印的二维码（请确认二维码完整、清晰、未被遮挡）。")
    records = [_judge(fp, lookup) for fp in fingerprints]
    worst = max(records, key=lambda r: _RANK[r.status])
    if len(records) == 1:
        return Verdict(worst.status, worst.reason, records)
    counts = {s: sum(r.status == s for r in records) for s in (MATCH, OUTDATED, UNKNOWN)}
    summary = (f"共识别 {len(records)} 份记录：一致 {counts[MATCH]} 份，已过期 {counts[OUTDATED]} 份，"
               f"无法核对 {counts[UNKNOWN]} 份。")
    return Verdict(worst.status, summary, records)
