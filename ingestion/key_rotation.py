"""`talentloop key rotate`: replace the pseudonym key and re-pseudonymise everything consistently.

A pseudonym is HMAC(key, source id), so the new pseudonym of every person is computed from the source ids in the
landing files (the only place they are kept in the clear): old pseudonym -> new pseudonym for every column the
contracts pseudonymise (candidate, employee, manager ids), and the same for the e-mail and name match keys. Every
identifier column of every table in the warehouse (found by name, as the erasure finds them), the restricted PII
store, the pseudonyms inside quarantine payloads, and the dashboards' access log are then rewritten through that
map, the warehouse and PII files are compacted (no freed block keeps an old pseudonym), and the caller publishes
a fresh snapshot and deletes the older ones.

Before anything changes, every value to re-key must be in the map: a pseudonym whose source id is no longer in any
landing file cannot be re-keyed, and the rotation stops naming the tables and counts. Erasure tombstones are
fingerprints of old pseudonyms and cannot be re-keyed either (their people's ids are gone everywhere, by design):
they keep recording what was erased, but a row re-sent for such a person after the rotation is no longer stopped
at load, so the report counts them (answer: ask the source system to erase too, GDPR Art. 19).

The new key is written first to restricted/pseudonym.key.new; while it exists no run starts. The warehouse, the
PII store and the access log are re-keyed (each in one transaction; a value already new is left alone), then the
new key replaces the old file and its fingerprint is recorded. Interrupted anywhere, running the command again
finishes the same rotation.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import sqlite3
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from ingestion import erasure
from ingestion.contracts import CONTRACTS
from ingestion.erasure_files import DATA_SUFFIXES, compact_database, parse
from ingestion.privacy import (
    KEY_CHARS,
    KEY_ENV,
    PseudonymKeyError,
    key_fingerprint,
    match_key,
    pending_key_file,
    pseudonym,
    read_key,
    recorded_fingerprint,
    set_warehouse_fingerprint,
    warehouse_fingerprint,
    write_fingerprint,
    write_key,
)

_TOKEN = re.compile(rf"\b[0-9a-f]{{{KEY_CHARS}}}\b")


@dataclass
class RotationReport:
    old_fingerprint: str
    new_fingerprint: str
    mapped: int = 0
    updated: dict[str, int] = field(default_factory=dict)
    unmapped: dict[str, int] = field(default_factory=dict)
    stale_tombstones: int = 0
    resumed: bool = False
    dry_run: bool = False


def rotate(
    settings, environ: dict[str, str] | None = None, dry_run: bool = False, force: bool = False
) -> RotationReport:
    """Rotate the key of this data home (see the module docstring); raises PseudonymKeyError when it cannot.
    force: rotate although erasures wait for verification (their evidence can no longer be found by id after)."""
    key_file = settings.pseudonym_key_file
    waiting = (
        sorted((settings.restricted / "erasure").glob("*.json")) if (settings.restricted / "erasure").is_dir() else []
    )
    if waiting and not force and not dry_run:
        raise PseudonymKeyError(
            f"{len(waiting)} erasure(s) wait for verification: verify them first (`talentloop erasure verify ID`), "
            "since afterwards a candidate id leads to the new pseudonym only; or rotate with --force. "
            "Nothing was changed."
        )
    pending = pending_key_file(key_file)
    if (os.environ if environ is None else environ).get(KEY_ENV):
        raise PseudonymKeyError(
            f"The key comes from {KEY_ENV}: rotation writes the new key to {key_file}. Unset {KEY_ENV} (keeping the "
            "same value in the key file) and run again. Nothing was changed."
        )
    old_key, _ = read_key(key_file, {})
    if old_key is None:
        raise PseudonymKeyError(f"No key to rotate: {key_file} does not exist. Nothing was changed.")
    new_key = pending.read_bytes().strip() if pending.exists() else secrets.token_hex(32).encode()
    report = RotationReport(key_fingerprint(old_key), key_fingerprint(new_key), resumed=pending.exists())
    report.dry_run = dry_run
    recorded = recorded_fingerprint(key_file)
    if recorded not in (None, report.old_fingerprint, report.new_fingerprint):
        raise PseudonymKeyError(
            f"{key_file} (fingerprint {report.old_fingerprint}) is not the key recorded for this data home "
            f"({recorded}): restore the right key before rotating. Nothing was changed."
        )
    mapping = _mapping(settings, old_key, new_key)
    report.mapped = len(mapping)
    try:
        con = duckdb.connect(str(settings.warehouse), config=settings.duckdb_config())
    except duckdb.Error as exc:
        raise PseudonymKeyError(f"The warehouse is in use ({exc}): rotate when no run is active.") from None
    pii = duckdb.connect(str(settings.pii_database)) if settings.pii_database.exists() else None
    try:
        held = warehouse_fingerprint(con)
        if held not in (None, report.old_fingerprint, report.new_fingerprint):
            raise PseudonymKeyError(
                f"The warehouse was pseudonymised with key {held}, neither the current key ({report.old_fingerprint})"
                f" nor the one being rotated to. Nothing was changed."
            )
        frame = pd.DataFrame({"old": list(mapping), "new": list(mapping.values())})
        for c in (con, pii):
            if c is not None:
                c.register("_rekey_frame", frame)
                c.execute("create or replace temp table _rekey as select * from _rekey_frame")
                c.unregister("_rekey_frame")
        targets = _duckdb_targets(con) + ([("pii", s, t, c) for _, s, t, c in _duckdb_targets(pii)] if pii else [])
        for label, schema, table, column in targets:
            db = pii if label == "pii" else con
            n = _unmapped(db, schema, table, column)
            if n:
                report.unmapped[f"{label}:{schema}.{table}.{column}"] = n
        report.stale_tombstones = (
            con.execute("select count(*) from raw.erasure_tombstones").fetchall()[0][0]
            if (erasure._columns(con, "raw", "erasure_tombstones"))
            else 0
        )
        if report.unmapped:
            raise PseudonymKeyError(
                "These values have no source id left in landing/, so their new pseudonym cannot be computed: "
                + ", ".join(f"{k} ({n})" for k, n in sorted(report.unmapped.items()))
                + ". Restore the landing files they came from, or erase those rows, then rotate. Nothing was changed."
            )
        if dry_run:
            for label, schema, table, column in targets:
                db = pii if label == "pii" else con
                n = db.execute(
                    f'select count(*) from "{schema}"."{table}" where "{column}" in (select old from _rekey)'
                ).fetchall()[0][0]
                if n:
                    report.updated[f"{label}:{schema}.{table}.{column}"] = n
            return report
        if not pending.exists():
            write_key(pending, new_key)
        _rekey_database(con, [t for t in targets if t[0] != "pii"], report, mapping, payloads=True)
        _rekey_ledger(con, settings, mapping, report)
        set_warehouse_fingerprint(con, new_key)
        if pii is not None:
            _rekey_database(pii, [t for t in targets if t[0] == "pii"], report, mapping, payloads=False)
            _fingerprint_table(pii, new_key)
    finally:
        con.close()
        if pii is not None:
            pii.close()
    _rekey_app_state(settings.app_state, mapping, report)
    write_key(key_file, new_key)
    write_fingerprint(key_file, new_key)
    pending.unlink(missing_ok=True)
    compact_database(settings.warehouse, settings.duckdb_config())
    compact_database(settings.pii_database)
    return report


def _mapping(settings, old_key: bytes, new_key: bytes) -> dict[str, str]:
    """old pseudonym -> new, for every pseudonymised and match-keyed value in the landing files."""
    mapping: dict[str, str] = {}
    for source, contract in CONTRACTS.items():
        pseudonymised = {c.name for c in contract.columns if c.pseudonymise}
        matched = {c.name for c in contract.columns if c.match_key}
        if not pseudonymised and not matched:
            continue
        folder = settings.landing / source
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if not path.is_file() or path.suffix.lower() not in DATA_SUFFIXES or path.parent.name == "files":
                continue
            parsed = parse(path)
            for row in parsed.rows if parsed else []:
                for column, value in row.values.items():
                    if value is None:
                        continue
                    if column in pseudonymised:
                        mapping[pseudonym(value, old_key)] = pseudonym(value, new_key)
                    elif column in matched:
                        old = match_key(column, value, old_key)
                        if old:
                            mapping[old] = match_key(column, value, new_key)
    return mapping


def _duckdb_targets(con) -> list[tuple[str, str, str, str]]:
    """(label, schema, table, column) of every pseudonym column: persons, references and match keys."""
    out = []
    for schema, table in erasure.base_tables(con):
        for column, data_type in erasure._columns(con, schema, table).items():
            kind = erasure.column_kind(column)
            if data_type.upper() in erasure.VARCHAR and (
                kind in ("person", "reference", "email") or erasure.NAME_KEY_COLUMN.match(column.lower())
            ):
                out.append(("warehouse", schema, table, column))
    return out


def _unmapped(con, schema: str, table: str, column: str) -> int:
    return con.execute(
        f'select count(*) from "{schema}"."{table}" where "{column}" is not null '
        f'and "{column}" not in (select old from _rekey) and "{column}" not in (select new from _rekey)'
    ).fetchall()[0][0]


def _rekey_database(con, targets, report: RotationReport, mapping: dict[str, str], payloads: bool) -> None:
    con.execute("begin transaction")
    try:
        for label, schema, table, column in targets:
            n = con.execute(
                f'update "{schema}"."{table}" as t set "{column}" = m.new from _rekey m where t."{column}" = m.old'
            ).fetchall()[0][0]
            if n:
                report.updated[f"{label}:{schema}.{table}.{column}"] = n
        if payloads and erasure._columns(con, "raw", "quarantine"):
            # Duplicate rows are quarantined as their pseudonymised JSON: the pseudonyms inside are re-keyed too.
            rows = con.execute(
                "select rowid, payload from raw.quarantine where regexp_matches(payload, ?)", [_TOKEN.pattern]
            ).fetchall()
            for rowid, payload in rows:
                new = _TOKEN.sub(lambda m: mapping.get(m.group(), m.group()), payload)
                if new != payload:
                    con.execute("update raw.quarantine set payload = ? where rowid = ?", [new, rowid])
                    report.updated["warehouse:raw.quarantine.payload"] = (
                        report.updated.get("warehouse:raw.quarantine.payload", 0) + 1
                    )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _rekey_ledger(con, settings, mapping: dict[str, str], report: RotationReport) -> None:
    """The erasure ledger names requests by a fingerprint of their pseudonym: a request not applied yet (its person
    still in landing) follows its person to the new pseudonym, with its hits and tombstones."""
    if not erasure._columns(con, "raw", "erasure_log"):
        return
    salt = erasure.salt(con)
    held = {r[0] for r in con.execute("select request_fp from raw.erasure_log").fetchall()}
    held |= {r[0] for r in con.execute("select fingerprint from raw.erasure_tombstones").fetchall()}
    fps = {erasure.fingerprint(salt, old): erasure.fingerprint(salt, new) for old, new in mapping.items()}
    moves = [[new, old] for old, new in fps.items() if old in held]
    if not moves:
        return
    for sql in (
        "update raw.erasure_log set request_fp = ? where request_fp = ?",
        "update raw.erasure_hits set request_fp = ? where request_fp = ?",
        "update raw.erasure_tombstones set request_fp = ? where request_fp = ?",
        "update raw.erasure_tombstones set fingerprint = ? where fingerprint = ?",
    ):
        con.executemany(sql, moves)
    report.updated["warehouse:raw.erasure_log.request_fp"] = len(moves)


def _fingerprint_table(con, key: bytes) -> None:
    con.execute("create table if not exists key_fingerprint (fingerprint varchar, recorded_at timestamp)")
    con.execute("delete from key_fingerprint")
    con.execute(
        "insert into key_fingerprint values (?, ?)",
        [key_fingerprint(key), dt.datetime.now(dt.UTC).replace(tzinfo=None)],
    )


def _rekey_app_state(path, mapping: dict[str, str], report: RotationReport) -> None:
    """The access log names the candidates viewed by pseudonym; append-only by trigger, re-keyed around it."""
    if not path.exists():
        return
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        con.execute("begin immediate")
        for (table,) in con.execute("select name from sqlite_master where type = 'table'").fetchall():
            columns = [r[1] for r in con.execute(f'pragma table_info("{table}")').fetchall()]
            keyed = [c for c in columns if erasure.PERSON_COLUMN.match(c.lower())]
            if not keyed:
                continue
            triggers = con.execute(
                "select name, sql from sqlite_master where type = 'trigger' and tbl_name = ?", [table]
            ).fetchall()
            for name, _ in triggers:
                con.execute(f'drop trigger "{name}"')
            for column in keyed:
                values = [r[0] for r in con.execute(f'select distinct "{column}" from "{table}"').fetchall()]
                for value in values:
                    if value in mapping:
                        n = con.execute(
                            f'update "{table}" set "{column}" = ? where "{column}" = ?', [mapping[value], value]
                        ).rowcount
                        label = f"app_state:{table}.{column}"
                        report.updated[label] = report.updated.get(label, 0) + n
            for _name, sql in triggers:
                con.execute(sql)
        con.execute("commit")
        con.execute("vacuum")
    finally:
        con.close()
