"""Pseudonymous keys: a keyed hash (HMAC-SHA256) with a secret that never leaves the restricted folder."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from pathlib import Path

KEY_ENV = "TALENTLOOP_PSEUDONYM_KEY"
# 20 hex characters = 80 bits: collisions stay negligible far beyond 10^9 people.
KEY_CHARS = 20


def load_or_create_key(key_file: Path, environ: dict[str, str] | None = None) -> bytes:
    """The secret from the environment if set, else from the key file, created (mode 0600) on first use."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return env[KEY_ENV].encode()
    if key_file.exists():
        return key_file.read_bytes().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


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
