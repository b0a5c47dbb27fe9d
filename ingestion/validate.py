"""Check parsed records against their source contract: typed good rows out, every bad row with one reason."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field

from ingestion import reasons
from ingestion.contracts import BOOL, DATE, FLOAT, INT, SCORE, TIMESTAMP, Contract
from ingestion.privacy import match_key, pseudonym
from ingestion.readers import FileRejected, ParsedFile

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})
# OWASP CSV-injection prefixes; a leading sign is fine when what follows is a plain number or a phone number.
_FORMULA = re.compile(r"^(?:[=@\t\r＝＠]|[+\-－＋](?![\d\s.()]*$))")
_WORD = re.compile(r"^[^\W\d][\w\s-]*$")
# Clocks differ and time zones shift a calendar day: a day of slack before "in the future" is called.
FUTURE_SLACK = dt.timedelta(days=1)


@dataclass
class Context:
    """What a contract check needs to know beyond the row itself."""

    now: dt.datetime
    key: bytes
    competency_labels: frozenset[str] = frozenset()
    rating_words: frozenset[str] = frozenset()
    # "source.column" -> the pseudonymised or plain key values loaded so far
    known_keys: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Outcome:
    rows: list[dict]
    quarantined: list[dict]
    extra_columns: list[str]


def normalise_label(label: str) -> str:
    return " ".join(label.strip().lower().split())


def check_columns(contract: Contract, parsed: ParsedFile, file_name: str) -> list[str]:
    present = {c.strip().lower() for c in parsed.columns}
    missing = [c for c in contract.required_columns if c not in present]
    if missing:
        raise FileRejected(reasons.MISSING_COLUMNS, f"{file_name} lacks required column(s): {', '.join(missing)}")
    return sorted(present - set(contract.column_names) - {""})


def row_hash(values: dict[str, str | None], columns: tuple[str, ...]) -> str:
    payload = json.dumps([values.get(c) for c in columns], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha1(payload.encode()).hexdigest()


class RowError(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def _parse_timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1) if "T" not in text else text.strip())
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _parse_date(text: str) -> dt.date:
    text = text.strip()
    if len(text) > 10:
        return _parse_timestamp(text).date()
    return dt.date.fromisoformat(text)


def _typed(col, text: str, ctx: Context):
    if col.type == INT:
        try:
            number = float(text)
        except ValueError:
            raise RowError(reasons.INVALID_TYPE, f"{col.name}={text!r} is not a whole number") from None
        if not number.is_integer():
            raise RowError(reasons.INVALID_TYPE, f"{col.name}={text!r} is not a whole number")
        return int(number)
    if col.type == FLOAT:
        try:
            return float(text)
        except ValueError:
            raise RowError(reasons.INVALID_TYPE, f"{col.name}={text!r} is not a number") from None
    if col.type == BOOL:
        word = text.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise RowError(reasons.INVALID_TYPE, f"{col.name}={text!r} is not true/false")
    if col.type == DATE:
        try:
            value = _parse_date(text)
        except ValueError:
            raise RowError(reasons.INVALID_DATE, f"{col.name}={text!r} is not an ISO-8601 date") from None
        if value > (ctx.now + FUTURE_SLACK).date():
            raise RowError(reasons.FUTURE_DATE, f"{col.name}={value} is after the load time {ctx.now:%Y-%m-%d}")
        return value
    if col.type == TIMESTAMP:
        try:
            value = _parse_timestamp(text)
        except ValueError:
            raise RowError(reasons.INVALID_DATE, f"{col.name}={text!r} is not an ISO-8601 timestamp") from None
        if value > ctx.now + FUTURE_SLACK:
            raise RowError(reasons.FUTURE_DATE, f"{col.name}={value:%Y-%m-%d %H:%M} is after the load time")
        return value
    return text


def _check_score(values: dict, typed: dict, column: str, ctx: Context) -> None:
    text = values.get(column)
    if text is None:
        return
    try:
        number = float(text)
    except ValueError:
        word = normalise_label(text)
        if word not in ctx.rating_words:
            raise RowError(reasons.UNKNOWN_RATING_WORD, f"{column}={text!r} is not a known rating word") from None
        return
    lo, hi = typed.get("scale_min"), typed.get("scale_max")
    if lo is None or hi is None:
        raise RowError(reasons.MISSING_KEY, f"a numeric {column} needs scale_min and scale_max")
    if not lo < hi:
        raise RowError(reasons.OUT_OF_RANGE, f"scale [{lo}, {hi}] is empty or inverted")
    if not lo <= number <= hi:
        raise RowError(reasons.OUT_OF_RANGE, f"{column}={text} is outside its scale [{lo:g}, {hi:g}]")


def check_row(contract: Contract, values: dict[str, str | None], ctx: Context) -> dict:
    """Typed, pseudonymised values of a good row; raises RowError with the first reason that applies."""
    for col in contract.columns:
        text = values.get(col.name)
        if text is None:
            continue
        if len(text) > col.max_length:
            raise RowError(reasons.FIELD_TOO_LONG, f"{col.name} is {len(text):,} characters (limit {col.max_length:,})")
        if _FORMULA.match(text):
            raise RowError(reasons.FORMULA_INJECTION, f"{col.name} starts like a spreadsheet formula: {text[:40]!r}")
    missing = [c.name for c in contract.columns if c.required and values.get(c.name) is None]
    if missing:
        raise RowError(reasons.MISSING_KEY, f"empty required field(s): {', '.join(missing)}")
    typed: dict = {}
    for col in contract.columns:
        text = values.get(col.name)
        typed[col.name] = None if text is None else _typed(col, text, ctx)
    for col in contract.columns:
        text = values.get(col.name)
        if text is not None and col.allowed is not None and text.strip().lower() not in col.allowed:
            raise RowError(reasons.INVALID_VALUE, f"{col.name}={text!r} is not one of {', '.join(col.allowed)}")
        if col.allowed is not None and text is not None:
            typed[col.name] = text.strip().lower()
    for col in contract.columns:
        if col.type == SCORE:
            _check_score(values, typed, col.name, ctx)
    if contract.source == "interview_scores" and normalise_label(values["competency"]) not in ctx.competency_labels:
        raise RowError(
            reasons.UNKNOWN_LABEL,
            f"competency label {values['competency']!r} is not in the competency_labels seed: add a mapping",
        )
    out: dict = {}
    for col in contract.columns:
        value = typed[col.name]
        if col.pii:
            if col.match_key:
                out[f"{col.name}_key"] = match_key(col.name, value, ctx.key)
            continue
        if col.pseudonymise:
            value = pseudonym(value, ctx.key)
        if col.references and value is not None:
            known = ctx.known_keys.get(col.references)
            if known is not None and value not in known:
                raise RowError(
                    reasons.ORPHAN_REFERENCE,
                    f"{col.name}={values[col.name]!r} does not match any loaded {col.references.replace('.', ' ')}",
                )
        out[col.name] = value
    return out


def check_file(contract: Contract, parsed: ParsedFile, file_name: str, ctx: Context) -> Outcome:
    extra = check_columns(contract, parsed, file_name)
    rows: list[dict] = []
    quarantined: list[dict] = []
    seen: set[str] = set()
    for record in parsed.records:
        if record.values is None:
            quarantined.append(
                _quarantine(record.row_number, reasons.MALFORMED_ROW, record.error or "", record.raw, None, contract)
            )
            continue
        values = {k.strip().lower(): v for k, v in record.values.items()}
        try:
            good = check_row(contract, values, ctx)
        except RowError as err:
            quarantined.append(_quarantine(record.row_number, err.reason, err.message, record.raw, values, contract))
            continue
        digest = row_hash(values, contract.column_names)
        if digest in seen:
            quarantined.append(
                _quarantine(
                    record.row_number,
                    reasons.DUPLICATE_ROW,
                    "identical to an earlier row of this file",
                    record.raw,
                    values,
                    contract,
                )
            )
            continue
        seen.add(digest)
        good["_row_number"] = record.row_number
        good["_row_hash"] = digest
        rows.append(good)
        for col in contract.key[:1]:
            ctx.known_keys.setdefault(f"{contract.source}.{col}", set()).add(good[col])
    return Outcome(rows, quarantined, extra)


def _quarantine(row_number, reason, message, raw, values=None, contract: Contract | None = None) -> dict:
    out = {"row_number": row_number, "reason": reason, "message": message, "payload": raw}
    if contract is not None and contract.pii_columns:
        if values is not None:
            # The payload keeps every field a reviewer needs to fix the row, but never a name, e-mail or phone.
            redacted = {
                k: ("[redacted]" if k in contract.pii_columns and v is not None else v) for k, v in values.items()
            }
            out["payload"] = json.dumps(redacted, ensure_ascii=False)
        else:
            out["payload"] = (
                "[withheld: the row could not be split and may hold personal data; see the restricted store]"
            )
            out["restricted_payload"] = raw
    return out
