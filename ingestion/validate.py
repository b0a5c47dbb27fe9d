"""Check parsed records against their source contract: typed good rows out, every bad row with one reason."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _encode_string

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
    """The good rows column by column (output names: pseudonymised keys, <pii>_key, _row_number, _row_hash),
    every quarantined row with its reason, and the file's columns the contract does not know."""

    columns: dict[str, list]
    quarantined: list[dict]
    extra_columns: list[str]

    @property
    def n_rows(self) -> int:
        return len(self.columns["_row_number"])

    @property
    def rows(self) -> list[dict]:
        names = list(self.columns)
        return [dict(zip(names, vals, strict=True)) for vals in zip(*self.columns.values(), strict=True)]

    @classmethod
    def from_rows(cls, rows: list[dict], quarantined: list[dict], extra: list[str], contract: Contract) -> Outcome:
        names = [n for n in (_out_name(c) for c in contract.columns) if n is not None] + ["_row_number", "_row_hash"]
        return cls({n: [r[n] for r in rows] for n in names}, quarantined, extra)


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
    """Check every record of a file: the good rows typed and pseudonymised, each bad one with its reason.

    Column by column: each distinct value of a column is checked once (length, formula prefix, type, allowed
    values, labels, references, pseudonym), and a row whose values all pass and whose cross-field rules hold
    (required fields, a score inside its scale) is good without a row-by-row check. Any other row goes through
    check_row, which finds its first reason. The result equals check_file_by_row's (tests hold them together).
    """
    extra = check_columns(contract, parsed, file_name)
    lookup = _column_lookup(contract, parsed)
    if lookup is None:  # two headers that differ only in case or spacing: the row-by-row path settles it
        return check_file_by_row(contract, parsed, file_name, ctx)
    records = [r for r in parsed.records if r.values is not None]
    quarantined = [
        (r.row_number, _quarantine(r.row_number, reasons.MALFORMED_ROW, r.error or "", r.raw, None, contract))
        for r in parsed.records
        if r.values is None
    ]
    n = len(records)
    raw_cols = {
        c.name: [None] * n if lookup[c.name] is None else [r.values.get(lookup[c.name]) for r in records]
        for c in contract.columns
    }
    ok = [True] * n
    out_cols: dict[str, list] = {}
    for col in contract.columns:
        values = raw_cols[col.name]
        verdicts = {v: _check_value(contract, col, v, ctx) for v in set(values)}
        mapped = [verdicts[v] for v in values]
        for i, verdict in enumerate(mapped):
            if verdict is _BAD:
                ok[i] = False
        name = _out_name(col)
        if name is not None:
            out_cols[name] = [None if v is _BAD else v for v in mapped]
        if col.required:
            for i, v in enumerate(values):
                if v is None:
                    ok[i] = False
    for col in contract.columns:
        if col.type == SCORE:
            _score_rows_ok(raw_cols, out_cols, col.name, ctx, ok)
    encoded = {c: _json_encoded(raw_cols[c]) if c in raw_cols else ["null"] * n for c in contract.column_names}
    enc_cols = [encoded[c] for c in contract.column_names]
    keep = [False] * n
    hashes: list[str | None] = [None] * n
    seen: set[str] = set()
    for i, record in enumerate(records):
        if not ok[i]:
            values = {c: raw_cols[c][i] for c in raw_cols}
            try:
                good = check_row(contract, values, ctx)
            except RowError as err:
                quarantined.append(
                    (
                        record.row_number,
                        _quarantine(record.row_number, err.reason, err.message, record.raw, _values(record), contract),
                    )
                )
                continue
            for name, value in good.items():
                out_cols[name][i] = value
        digest = hashlib.sha1(("[" + ",".join(col[i] for col in enc_cols) + "]").encode()).hexdigest()
        if digest in seen:
            quarantined.append(
                (
                    record.row_number,
                    _quarantine(
                        record.row_number,
                        reasons.DUPLICATE_ROW,
                        "identical to an earlier row of this file",
                        record.raw,
                        _values(record),
                        contract,
                    ),
                )
            )
            continue
        seen.add(digest)
        hashes[i] = digest
        keep[i] = True
    columns = {name: [v for v, k in zip(vals, keep, strict=True) if k] for name, vals in out_cols.items()}
    columns["_row_number"] = [r.row_number for r, k in zip(records, keep, strict=True) if k]
    columns["_row_hash"] = [h for h, k in zip(hashes, keep, strict=True) if k]
    for col in contract.key[:1]:
        ctx.known_keys.setdefault(f"{contract.source}.{col}", set()).update(columns[col])
    quarantined.sort(key=lambda item: item[0])
    return Outcome(columns=columns, quarantined=[q for _, q in quarantined], extra_columns=extra)


_BAD = object()  # a value that fails a check of its own column


def _column_lookup(contract: Contract, parsed: ParsedFile) -> dict[str, str | None] | None:
    """Contract column -> the file's header for it; None when two headers normalise to the same name."""
    by_norm: dict[str, str] = {}
    for header in parsed.columns:
        norm = header.strip().lower()
        if norm in by_norm and by_norm[norm] != header:
            return None
        by_norm[norm] = header
    return {c.name: by_norm.get(c.name) for c in contract.columns}


def _values(record) -> dict:
    return {k.strip().lower(): v for k, v in record.values.items()}


def _out_name(col) -> str | None:
    if col.pii:
        return f"{col.name}_key" if col.match_key else None
    return col.name


def _check_value(contract: Contract, col, text: str | None, ctx: Context):
    """What check_row makes of one value of one column, or _BAD when the value alone fails (None passes here:
    whether a field may be empty is a row rule)."""
    if text is None:
        return None
    if len(text) > col.max_length or _FORMULA.match(text):
        return _BAD
    try:
        value = _typed(col, text, ctx)
    except RowError:
        return _BAD
    if col.allowed is not None:
        value = text.strip().lower()
        if value not in col.allowed:
            return _BAD
    if col.type == SCORE:
        try:
            float(text)
        except ValueError:
            if normalise_label(text) not in ctx.rating_words:
                return _BAD
    is_label = contract.source == "interview_scores" and col.name == "competency"
    if is_label and normalise_label(text) not in ctx.competency_labels:
        return _BAD
    if col.pii:
        return match_key(col.name, value, ctx.key) if col.match_key else None
    if col.pseudonymise:
        value = pseudonym(value, ctx.key)
    if col.references and value is not None:
        known = ctx.known_keys.get(col.references)
        if known is not None and value not in known:
            return _BAD
    return value


def _score_rows_ok(raw_cols: dict, out_cols: dict, column: str, ctx: Context, ok: list[bool]) -> None:
    """A numeric score needs a scale (scale_min < scale_max) that holds it; a rating word needs none."""
    texts = raw_cols[column]
    lows, highs = out_cols.get("scale_min"), out_cols.get("scale_max")
    numbers: dict[str, float | None] = {}
    for t in set(texts):
        if t is None:
            continue
        try:
            numbers[t] = float(t)
        except ValueError:
            numbers[t] = None
    for i, t in enumerate(texts):
        if not ok[i] or t is None:
            continue
        number = numbers[t]
        if number is None:
            continue
        lo = lows[i] if lows is not None else None
        hi = highs[i] if highs is not None else None
        if lo is None or hi is None or lo is _BAD or hi is _BAD or not lo < hi or not lo <= number <= hi:
            ok[i] = False


def _json_encoded(values: list[str | None]) -> list[str]:
    """Each value as JSON text, as row_hash's json.dumps(ensure_ascii=False) writes a string or None."""
    return ["null" if v is None else _encode_string(v) for v in values]


def check_file_by_row(contract: Contract, parsed: ParsedFile, file_name: str, ctx: Context) -> Outcome:
    """The reference implementation: every record through check_row, one at a time."""
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
    return Outcome.from_rows(rows, quarantined, extra, contract)


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
