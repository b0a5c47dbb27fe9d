"""Pseudonymous keys: a keyed hash (HMAC-SHA256) with a secret that never leaves the restricted folder.

The key is the one thing that ties a person's pseudonyms together across runs: a new key gives everyone new
pseudonyms, so erasure requests would match nothing and reloaded rows would not join the old ones. So the key is
created only in an empty data home, and its fingerprint (a one-way check value, not the key) is kept with the data:
in restricted/pseudonym.fingerprint and in the warehouse's ops.key_fingerprint. A missing key or a key whose
fingerprint differs stops the run with PseudonymKeyError; `talentloop key rotate` is the one way to change keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import unicodedata
from pathlib import Path

import duckdb

KEY_ENV = "TALENTLOOP_PSEUDONYM_KEY"
# 20 hex characters = 80 bits: collisions stay negligible far beyond 10^9 people.
KEY_CHARS = 20
FINGERPRINT_FILE = "pseudonym.fingerprint"
# A rotation writes the new key here first and moves it over the key file last: while it exists, a rotation is
# unfinished and no run may start (the warehouse may already be re-keyed).
PENDING_SUFFIX = ".new"
# 16 hex characters = 64 bits: two keys are told apart with certainty for any practical number of keys, and the
# value says nothing about the key (an HMAC of a fixed label under it).
FINGERPRINT_CHARS = 16
_FINGERPRINT_LABEL = b"talentloop pseudonym key fingerprint v1"
KEY_FINGERPRINT_DDL = "create table if not exists ops.key_fingerprint (fingerprint varchar, recorded_at timestamp)"


class PseudonymKeyError(RuntimeError):
    """The pseudonym key cannot be used safely: missing while data exists, not the data's key, or mid-rotation."""


def key_fingerprint(key: bytes) -> str:
    return hmac.new(key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:FINGERPRINT_CHARS]


def pending_key_file(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + PENDING_SUFFIX)


def fingerprint_file(key_file: Path) -> Path:
    return key_file.with_name(FINGERPRINT_FILE)


def read_key(key_file: Path, environ: dict[str, str] | None = None) -> tuple[bytes | None, str]:
    """The secret and where it came from (the environment variable wins over the file); None when neither exists."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return env[KEY_ENV].encode(), KEY_ENV
    if key_file.exists():
        return key_file.read_bytes().strip(), str(key_file)
    return None, str(key_file)


def recorded_fingerprint(key_file: Path) -> str | None:
    path = fingerprint_file(key_file)
    if not path.exists():
        return None
    return json.loads(path.read_text())["fingerprint"]


def write_fingerprint(key_file: Path, key: bytes) -> None:
    """restricted/pseudonym.fingerprint, replaced atomically."""
    path = fingerprint_file(key_file)
    record = {"fingerprint": key_fingerprint(key), "recorded_at": _now().isoformat()}
    _write_private(path, (json.dumps(record) + "\n").encode(), replace=True)


def write_key(path: Path, key: bytes) -> None:
    """A key file, mode 0600, written whole before it gets its name."""
    _write_private(path, key, replace=True)


def _write_private(path: Path, data: bytes, replace: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    if replace:
        os.replace(tmp, path)
    else:
        os.link(tmp, path)  # fails if the path exists: two first runs cannot each make a key
        tmp.unlink()


# A DuckDB file that was opened and never written is its 12 KiB header alone, with no write-ahead log.
_EMPTY_DUCKDB_BYTES = 12_288


def _holds_data(database: Path) -> bool:
    wal = Path(str(database) + ".wal")
    return (database.exists() and database.stat().st_size > _EMPTY_DUCKDB_BYTES) or (
        wal.exists() and wal.stat().st_size > 0
    )


def _data_beside(key_file: Path) -> bool:
    """Whether the data home around the restricted folder already holds pipeline data, judged from files only (a
    caller may hold the warehouse open, so it is not opened here)."""
    home = key_file.parent.parent
    return (
        _holds_data(home / "warehouse.duckdb")
        or _holds_data(key_file.parent / "pii.duckdb")
        or any((home / "published").glob("warehouse-*.duckdb"))
    )


def load_or_create_key(
    key_file: Path, environ: dict[str, str] | None = None, data_present: bool | None = None
) -> bytes:
    """The checked secret: from TALENTLOOP_PSEUDONYM_KEY if set, else the key file; created (mode 0600) only when the
    data home holds no data yet. data_present: what the caller knows of the warehouse (None: judged from files).

    Raises PseudonymKeyError when the key is missing but data exists, when its fingerprint differs from the one
    recorded in restricted/, or while a rotation is unfinished.
    """
    pending = pending_key_file(key_file)
    if pending.exists():
        raise PseudonymKeyError(
            f"A pseudonym key rotation was started and not finished ({pending} exists): the warehouse may already be "
            "re-keyed. Run `talentloop key rotate` again to finish it. Nothing was changed."
        )
    key, source = read_key(key_file, environ)
    recorded = recorded_fingerprint(key_file)
    if key is None:
        present = _data_beside(key_file) if data_present is None else data_present
        if recorded is not None or present:
            known = f"key fingerprint {recorded}" if recorded else "an earlier key"
            raise PseudonymKeyError(
                f"No pseudonym key: {key_file} does not exist and {KEY_ENV} is not set, but this data home already "
                f"holds data pseudonymised with {known}. A new key would give every person new pseudonyms: erasure "
                "requests would match nothing and reloaded rows would not join. Restore the key file (mode 0600) from "
                f"your backup or set {KEY_ENV}; to change keys on purpose use `talentloop key rotate`. "
                "Nothing was changed."
            )
        key = secrets.token_hex(32).encode()
        _write_private(key_file, key, replace=False)
        write_fingerprint(key_file, key)
        return key
    fingerprint = key_fingerprint(key)
    if recorded is not None and recorded != fingerprint:
        raise PseudonymKeyError(_mismatch(source, fingerprint, recorded, str(fingerprint_file(key_file))))
    if recorded is None:
        write_fingerprint(key_file, key)
    return key


def _mismatch(source: str, fingerprint: str, recorded: str, where: str) -> str:
    return (
        f"The pseudonym key from {source} (fingerprint {fingerprint}) is not the key this data home's data was made "
        f"with (fingerprint {recorded}, recorded in {where}). Every pseudonym it makes would be new: erasure requests "
        "would match nothing. Use the original key; to change keys on purpose run `talentloop key rotate`. "
        "Nothing was changed."
    )


def warehouse_has_data(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse holds pseudonymised rows or a recorded key fingerprint."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = current_database() "
        "and table_type = 'BASE TABLE' and (table_schema = 'raw' or (table_schema = 'ops' and "
        "table_name = 'key_fingerprint'))"
    ).fetchall()
    return any(con.execute(f'select exists (select 1 from "{s}"."{t}")').fetchall()[0][0] for s, t in tables)


def warehouse_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    exists = con.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = 'ops' and table_name = 'key_fingerprint'"
    ).fetchall()[0][0]
    if not exists:
        return None
    rows = con.execute("select fingerprint from ops.key_fingerprint order by recorded_at desc limit 1").fetchall()
    return rows[0][0] if rows else None


def check_warehouse_key(con: duckdb.DuckDBPyConnection, key: bytes, source: str = "the key file") -> None:
    """Compare the key with the fingerprint recorded in the warehouse; record it there on first use."""
    fingerprint = key_fingerprint(key)
    recorded = warehouse_fingerprint(con)
    if recorded is not None and recorded != fingerprint:
        raise PseudonymKeyError(_mismatch(source, fingerprint, recorded, "the warehouse's ops.key_fingerprint"))
    if recorded is None:
        set_warehouse_fingerprint(con, key)


def set_warehouse_fingerprint(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    con.execute("create schema if not exists ops")
    con.execute(KEY_FINGERPRINT_DDL)
    con.execute("delete from ops.key_fingerprint")
    con.execute("insert into ops.key_fingerprint values (?, ?)", [key_fingerprint(key), _now()])


def checked_key(key_file: Path, con: duckdb.DuckDBPyConnection, environ: dict[str, str] | None = None) -> bytes:
    """The key for a run that holds the warehouse open: checked against restricted/ and the warehouse."""
    key = load_or_create_key(key_file, environ, data_present=warehouse_has_data(con))
    check_warehouse_key(con, key, read_key(key_file, environ)[1])
    return key


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def pseudonym(value: str | None, key: bytes) -> str | None:
    if value is None:
        return None
    return hmac.new(key, value.strip().encode(), hashlib.sha256).hexdigest()[:KEY_CHARS]


def normalise_for_match(column: str, value: str | None) -> str | None:
    """The form in which two spellings of one e-mail or name compare equal."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", value).strip().lower()
    if column == "full_name":
        text = re.sub(r"[\s.,'-]+", " ", text).strip()
    return text or None


def match_key(column: str, value: str | None, key: bytes) -> str | None:
    return pseudonym(normalise_for_match(column, value), key)
