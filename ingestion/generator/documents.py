"""Resume documents: real PDFs (fpdf2) and DOCX files (a python-docx template), reproducible to the byte.

A DOCX is built once as a template with python-docx; each resume then only swaps the body XML and re-zips the
already-compressed parts, which is ~30x faster than a python-docx Document per resume and byte-reproducible.
"""

from __future__ import annotations

import io
import struct
import textwrap
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import docx
from fpdf import FPDF

from ingestion.generator.formats import normalise_zip

FIXED_CREATED = datetime(2024, 1, 1, tzinfo=UTC)
BODY_MARKER = "<w:sectPr"
DOCUMENT_PART = "word/document.xml"
DOS_DATE_1980 = (0 << 9) | (1 << 5) | 1  # 1980-01-01 in MS-DOS date format; time 00:00 is 0
PDF_LINE_CHARS = 95


def write_pdf(path: Path, text: str) -> None:
    """A one-to-two page PDF; fpdf2's core fonts are latin-1, and resume text is kept ASCII."""
    pdf = FPDF()
    pdf.set_creation_date(FIXED_CREATED)
    pdf.set_title("Resume")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in text.split("\n"):
        if line.isupper() and line:
            pdf.set_font("Helvetica", style="B", size=11)
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=10)
            continue
        # cell() is ~5x faster than multi_cell(); lines are wrapped here to fit an A4 text width at 10 pt.
        for wrapped in textwrap.wrap(line, PDF_LINE_CHARS) or [""]:
            pdf.cell(0, 5, wrapped, new_x="LMARGIN", new_y="NEXT")
    path.write_bytes(bytes(pdf.output()))


@dataclass(frozen=True)
class _Entry:
    name: bytes
    crc: int
    size: int
    deflated: bytes


def _entry(name: str, data: bytes) -> _Entry:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate, as zip stores it
    return _Entry(name.encode("utf-8"), zlib.crc32(data), len(data), packer.compress(data) + packer.flush())


@lru_cache(maxsize=1)
def _docx_template() -> tuple[list[_Entry], str]:
    """A blank python-docx document: its parts compressed once, and its document.xml to fill in."""
    document = docx.Document()
    document.core_properties.author = "TalentLoop sample world"
    document.core_properties.created = FIXED_CREATED.replace(tzinfo=None)
    document.core_properties.modified = FIXED_CREATED.replace(tzinfo=None)
    buffer = io.BytesIO()
    document.save(buffer)
    archive = zipfile.ZipFile(io.BytesIO(normalise_zip(buffer.getvalue())))
    entries = [_entry(name, archive.read(name)) for name in archive.namelist()]
    return entries, archive.read(DOCUMENT_PART).decode("utf-8")


def _zip(entries: list[_Entry]) -> bytes:
    """A zip of already-deflated entries, all dated 1980-01-01 (the template's big style parts, ~800 kB
    uncompressed, are deflated once instead of once per resume)."""
    local, central = bytearray(), bytearray()
    for e in entries:
        offset = len(local)
        fields = (20, 0, 8, 0, DOS_DATE_1980, e.crc, len(e.deflated), e.size, len(e.name), 0)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + e.name + e.deflated
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0o644 << 16, offset) + e.name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(local), 0)
    return bytes(local + central + end)


def _paragraph(line: str) -> str:
    if line.isupper() and line:
        return f'<w:p><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>'
    return f'<w:p><w:r><w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>'


def write_docx(path: Path, text: str) -> None:
    entries, document_xml = _docx_template()
    body = "".join(_paragraph(line) for line in text.split("\n"))
    cut = document_xml.index(BODY_MARKER)
    filled = _entry(DOCUMENT_PART, (document_xml[:cut] + body + document_xml[cut:]).encode("utf-8"))
    path.write_bytes(_zip([filled if e.name == filled.name else e for e in entries]))
