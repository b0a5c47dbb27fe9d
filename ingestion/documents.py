"""Text out of resume documents (PDF with pypdf, DOCX with python-docx, plain text)."""

from __future__ import annotations

from pathlib import Path

from ingestion.readers import sniff_text


class DocumentError(Exception):
    pass


def extract_text(path: Path) -> str:
    if not path.is_file():
        raise DocumentError(f"{path.name} is not in the landing folder")
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            from pypdf import PdfReader

            return "\n".join((page.extract_text() or "") for page in PdfReader(path).pages).strip()
        if suffix == ".docx":
            import docx

            return "\n".join(p.text for p in docx.Document(str(path)).paragraphs).strip()
        if suffix == ".txt":
            return sniff_text(path.read_bytes()).strip()
    except Exception as exc:  # each library raises its own family of errors for a corrupt file
        raise DocumentError(f"{path.name} could not be read: {exc}") from None
    raise DocumentError(f"{path.name}: unsupported document type {suffix}")
