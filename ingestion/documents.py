"""Text out of resume documents (PDF with pypdf, DOCX with python-docx, plain text), inside the input limits.

A document is found only inside the landing folder (document_path) and read only within readers.Limits: its size
on disk, a DOCX's unzipped size, a PDF's pages, the contract's text length. PDF and DOCX are parsed in a child
process under a wall-clock limit and an address-space cap: a document that runs past them is killed and
quarantined, and the next one gets a fresh parser, so one hostile file costs seconds, not the night.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from pathlib import Path

from ingestion import reasons
from ingestion.readers import FileRejected, Limits, check_regular_file, check_zip, confine_relative, sniff_text

DOCUMENT_SUFFIXES = (".pdf", ".docx", ".txt")
# Starting Python and importing pypdf and python-docx takes ~0.5 s, several seconds on a loaded machine.
_STARTUP_TIMEOUT_S = 60
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class DocumentError(Exception):
    """A document a row points to cannot be used; the row is quarantined with `reason`."""

    def __init__(self, message: str, reason: str = reasons.UNREADABLE_DOCUMENT):
        super().__init__(message)
        self.reason = reason


def document_path(folder: Path, file_path: str, root: Path) -> Path:
    """The document a row names, relative to its landing day `folder`, resolved inside the landing `root`."""
    try:
        return confine_relative(folder, file_path, root)
    except FileRejected as rej:
        raise DocumentError(rej.message, rej.reason) from None


def extract_text(path: Path, limits: Limits | None = None, max_chars: int | None = None) -> str:
    """The document's text; DocumentError (with a reason code) if it is missing, unreadable or over a limit.

    `path` must already be confined (document_path); max_chars: the contract's length limit for the text, which a
    longer text fails (FIELD_TOO_LONG) rather than being cut.
    """
    limits = limits or Limits.from_env()
    if not path.exists():
        raise DocumentError(f"{path.name} does not exist in the landing folder")
    suffix = path.suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise DocumentError(f"{path.name}: unsupported document type {suffix}")
    try:
        check_regular_file(path, limits.max_document_mb, "documents", Limits.ENV["max_document_mb"])
        if suffix == ".docx":
            check_zip(path, limits)
    except FileRejected as rej:
        reason = reasons.UNREADABLE_DOCUMENT if rej.reason == reasons.UNREADABLE_FILE else rej.reason
        raise DocumentError(rej.message, reason) from None
    if suffix == ".txt":
        try:
            text = sniff_text(path.read_bytes()).strip()
        except FileRejected as rej:
            raise DocumentError(f"{path.name} could not be read: {rej.message}") from None
    else:
        text = _PARSER.extract(path, suffix[1:], limits, max_chars)
    if max_chars is not None and len(text) > max_chars:
        raise DocumentError(_too_long(path.name, len(text), max_chars), reasons.FIELD_TOO_LONG)
    return text


def _too_long(name: str, n: int, max_chars: int) -> str:
    return f"{name}: the text is over {max_chars:,} characters (limit of the resume text column)"


class _Parser:
    """One child process that parses documents one at a time; replaced after a kill, a crash or a memory error."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._memory_mb: int | None = None
        self._lock = threading.Lock()

    def extract(self, path: Path, kind: str, limits: Limits, max_chars: int | None) -> str:
        request = {"path": str(path), "kind": kind, "max_pages": limits.max_pdf_pages, "max_chars": max_chars}
        with self._lock:
            proc = self._process(limits.document_memory_mb)
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps(request).encode() + b"\n")
                proc.stdin.flush()
                line = self._read_line(proc, time.monotonic() + limits.document_timeout_s)
            except BrokenPipeError:
                line = b""
            if line is None:
                self.close()
                raise DocumentError(
                    f"{path.name}: parsing ran past {limits.document_timeout_s:g} s and was stopped"
                    f" ({Limits.ENV['document_timeout_s']})",
                    reasons.PARSE_TIMEOUT,
                )
            if not line:
                code = proc.poll()
                self.close()
                raise DocumentError(f"{path.name}: the parser stopped (exit code {code}) while reading it")
        reply = json.loads(line)
        if "text" in reply:
            return reply["text"]
        raise DocumentError(reply["message"], reply["reason"])

    def _process(self, memory_mb: int) -> subprocess.Popen:
        if self._proc is not None and (self._proc.poll() is not None or self._memory_mb != memory_mb):
            self.close()
        if self._proc is None:
            path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
            self._proc = subprocess.Popen(
                [sys.executable, "-c", "from ingestion.documents import worker_main; worker_main()", str(memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                bufsize=0,
                env={**os.environ, "PYTHONPATH": path},
                cwd=PROJECT_ROOT,
            )
            self._memory_mb = memory_mb
            # The child says when its libraries are loaded, so a document's time limit counts parsing, not start-up.
            if self._read_line(self._proc, time.monotonic() + _STARTUP_TIMEOUT_S) != b'{"ready": true}\n':
                self.close()
                raise DocumentError(f"the document parser did not start within {_STARTUP_TIMEOUT_S} s")
        return self._proc

    @staticmethod
    def _read_line(proc: subprocess.Popen, deadline: float) -> bytes | None:
        """One reply line; None past the deadline; b"" if the child died first."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        chunks: list[bytes] = []
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return b""
                chunks.append(chunk)
                if chunk.endswith(b"\n"):
                    return b"".join(chunks)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


_PARSER = _Parser()
atexit.register(_PARSER.close)


def worker_main() -> None:
    """The child: cap its own address space, then answer one JSON request per line on stdin until it closes."""
    import logging
    import resource

    memory = int(sys.argv[1]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # pypdf logs each oddity of a damaged file as a warning; the reply carries what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    import docx  # noqa: F401
    import pypdf  # noqa: F401

    out = sys.stdout.buffer
    out.write(b'{"ready": true}\n')
    out.flush()
    for line in sys.stdin.buffer:
        request = json.loads(line)
        path = Path(request["path"])
        fatal = False
        try:
            reply = {"text": _parse(path, request["kind"], request["max_pages"], request["max_chars"])}
        except DocumentError as err:
            reply = {"reason": err.reason, "message": str(err)}
        except MemoryError:
            fatal = True
            reply = {
                "reason": reasons.EXPANDS_TOO_LARGE,
                "message": f"{path.name} needed more than the {sys.argv[1]} MB memory cap to parse"
                f" ({Limits.ENV['document_memory_mb']})",
            }
        except Exception as exc:  # each library raises its own family of errors for a corrupt file
            reply = {"reason": reasons.UNREADABLE_DOCUMENT, "message": f"{path.name} could not be read: {exc}"}
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()
        if fatal:
            return  # the heap may be in any state after a MemoryError: the next document gets a new process


def _parse(path: Path, kind: str, max_pages: int, max_chars: int | None) -> str:
    if kind == "pdf":
        from pypdf import PdfReader

        reader = PdfReader(path)
        declared = len(reader.pages)
        if declared > max_pages:
            raise DocumentError(_too_many_pages(path.name, declared, max_pages), reasons.TOO_MANY_PAGES)
        parts: list[str] = []
        size = 0
        for i, page in enumerate(reader.pages):
            # The page count is the file's own claim; counting while reading holds even if it lies.
            if i >= max_pages:
                raise DocumentError(_too_many_pages(path.name, i + 1, max_pages, at_least=True), reasons.TOO_MANY_PAGES)
            text = page.extract_text() or ""
            size += len(text) + 1
            if max_chars is not None and size > max_chars + 1:
                raise DocumentError(_too_long(path.name, size, max_chars), reasons.FIELD_TOO_LONG)
            parts.append(text)
        return "\n".join(parts).strip()
    import docx

    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs).strip()


def _too_many_pages(name: str, pages: int, max_pages: int, at_least: bool = False) -> str:
    return (
        f"{name} has {'at least ' if at_least else ''}{pages:,} pages, over the {max_pages:,}-page limit"
        f" ({Limits.ENV['max_pdf_pages']})"
    )
