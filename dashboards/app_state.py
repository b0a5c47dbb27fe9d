"""The dashboards' own store (SQLite): users, append-only review decisions, and the append-only access log.

The dashboards never write to the warehouse; this file is the only thing they write. The nightly pipeline reads
`review_decisions` (or the view `latest_review_decisions`) from it read-only, e.g.
`sqlite3.connect(f"file:{path}?mode=ro", uri=True)`. The store runs in WAL mode, so that reader never blocks a
dashboard writer and is never blocked by one; a read-only WAL reader needs the `-wal`/`-shm` files to exist or the
directory to be writable, which holds once the app has opened the store.

Decision order is `decision_id` (SQLite AUTOINCREMENT: strictly increasing, never reused), not `decided_at`, so
"latest" is well defined even if two decisions share a timestamp or a clock steps back.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from dashboards.auth import DECIDER_ROLES, PAGES, ROLES, check_password_policy, hash_password
from dashboards.i18n import DEFAULT_LANGUAGE, LANGUAGES, LocalizedError

SCHEMA_VERSION = 2
# Long enough to ride out another session's write (each is one short transaction), short enough to fail visibly.
BUSY_TIMEOUT_MS = 5_000

DECISIONS = ("approved", "rejected", "edited")
# Decisions that put weights into effect; a rejection keeps whatever weights were active before.
WEIGHT_DECISIONS = frozenset({"approved", "edited"})
WEIGHT_SUM_TOLERANCE = 1e-6
# Every decision needs a reason a later reader can learn from; 20 characters rules out "ok" and "lgtm".
MIN_REASON_LENGTH = 20
# Approving or editing a recommendation the fairness gate flagged needs more: the reviewer acknowledges the flag and
# writes at least 40 characters of their own (flag texts pasted into the reason do not count) that name the flagged
# group or speak to the impact. A machine cannot judge the argument; it can refuse a silent or copy-paste approval.
FLAGGED_REASON_MIN_LENGTH = 40
FLAG_TERMS = ("impact", "adverse", "影响", "不利")

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MAX_TEXT = 4_000
# Pages in the access log: the dashboard pages plus the login form itself.
LOG_PAGES = frozenset(PAGES) | {"login"}
# Pseudonymous keys only: anything that looks like an e-mail or a name (spaces) is refused, not logged.
_CANDIDATE_KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")

_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        f"""
        create table users (
            username text primary key,
            password_hash text not null,
            role text not null check (role in ({", ".join(f"'{r}'" for r in ROLES)})),
            department text,
            language text not null default 'en',
            created_at text not null,
            disabled integer not null default 0 check (disabled in (0, 1)),
            check (role <> 'department_head' or (department is not null and trim(department) <> ''))
        )
        """,
        f"""
        create table review_decisions (
            decision_id integer primary key autoincrement,
            recommendation_id text not null,
            job_family text not null,
            decision text not null check (decision in ({", ".join(f"'{d}'" for d in DECISIONS)})),
            weights_json text,
            effective_from text,
            reason text not null check (length(trim(reason)) >= {MIN_REASON_LENGTH}),
            flagged integer not null check (flagged in (0, 1)),
            flags_json text not null default '[]',
            flag_acknowledged integer not null check (flag_acknowledged in (0, 1)),
            decided_by text not null references users (username),
            decided_at text not null,
            check ((decision = 'rejected') = (weights_json is null)),
            check ((decision = 'rejected') = (effective_from is null))
        )
        """,
        "create index review_decisions_by_recommendation on review_decisions (recommendation_id, decision_id)",
        "create index review_decisions_by_job_family on review_decisions (job_family, decision_id)",
        """
        create trigger review_decisions_no_update before update on review_decisions
        begin select raise(abort, 'review_decisions is append-only'); end
        """,
        """
        create trigger review_decisions_no_delete before delete on review_decisions
        begin select raise(abort, 'review_decisions is append-only'); end
        """,
        """
        create view latest_review_decisions as
        select d.* from review_decisions as d
        where d.decision_id = (
            select max(x.decision_id) from review_decisions as x where x.recommendation_id = d.recommendation_id
        )
        """,
        """
        create table access_log (
            log_id integer primary key autoincrement,
            at text not null,
            username text not null references users (username),
            page text not null,
            candidate_key text,
            action text not null
        )
        """,
        "create index access_log_by_candidate on access_log (candidate_key, log_id)",
        "create index access_log_by_user on access_log (username, log_id)",
        """
        create trigger access_log_no_update before update on access_log
        begin select raise(abort, 'access_log is append-only'); end
        """,
        """
        create trigger access_log_no_delete before delete on access_log
        begin select raise(abort, 'access_log is append-only'); end
        """,
    ),
    # Every decision records the fairness gate's verdict it was taken against (gate_json), and an edit the
    # fingerprint of the evaluation of its own weights: the file itself refuses an edit that was never evaluated.
    2: (
        "alter table review_decisions add column gate_json text",
        "alter table review_decisions add column evaluation_fingerprint text",
        """
        create trigger review_decisions_edit_evaluated before insert on review_decisions
        when new.decision = 'edited' and (new.evaluation_fingerprint is null or new.gate_json is null)
        begin select raise(abort, 'an edited decision needs the gate evaluation of its own weights'); end
        """,
    ),
}

_DECISION_COLUMNS = (
    "decision_id",
    "recommendation_id",
    "job_family",
    "decision",
    "weights_json",
    "effective_from",
    "reason",
    "flagged",
    "flags_json",
    "flag_acknowledged",
    "decided_by",
    "decided_at",
    "gate_json",
    "evaluation_fingerprint",
)
_ACCESS_COLUMNS = ("log_id", "at", "username", "page", "candidate_key", "action")


@dataclass(frozen=True)
class User:
    """A dashboard account; the password hash stays in the store and never travels with the user."""

    username: str
    role: str
    department: str | None
    language: str
    created_at: str
    disabled: bool


@dataclass(frozen=True)
class Decision:
    """One recorded review decision."""

    decision_id: int
    recommendation_id: str
    job_family: str
    decision: str
    weights: dict[str, float] | None
    effective_from: date | None
    reason: str
    flagged: bool
    flags: tuple[str, ...]
    flag_acknowledged: bool
    decided_by: str
    decided_at: str
    gate: dict | None = None
    evaluation_fingerprint: str | None = None


@dataclass(frozen=True)
class GateEvaluation:
    """The fairness gate's verdict on one weighting, as the reviewer was shown it before deciding.

    Made by `evaluation_of` right after the what-if ran; its fingerprint binds the verdict to the exact weights
    and recommendation it was computed for, so the store can refuse a decision whose weights (or verdict) are not
    the ones evaluated. flags are the texts the reviewer read (their language); flagged_groups the group names
    (codes and translations) a reason may name; detail the language-free record (flag keys and parameters, the
    figures shown) written to the decision's gate_json.
    """

    recommendation_id: str
    weights: Mapping[str, float]
    flagged: bool
    flags: tuple[str, ...]
    flagged_groups: tuple[str, ...]
    existing_impact: bool
    fingerprint: str
    detail: Mapping[str, Any] = field(default_factory=dict)


def _evaluation_fingerprint(
    recommendation_id: str,
    weights: Mapping[str, float],
    flagged: bool,
    flags: Sequence[str],
    flagged_groups: Sequence[str],
    existing_impact: bool,
) -> str:
    # Exact floats (repr round-trips): any change to a weight after the evaluation is a different weighting.
    canonical = json.dumps(
        {
            "recommendation_id": recommendation_id,
            "weights": {str(k): float(v) for k, v in weights.items()},
            "flagged": bool(flagged),
            "flags": [str(f) for f in flags],
            "flagged_groups": [str(g) for g in flagged_groups],
            "existing_impact": bool(existing_impact),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def evaluation_of(
    recommendation_id: str,
    weights: Mapping[str, float],
    *,
    flagged: bool,
    flags: Sequence[str] = (),
    flagged_groups: Sequence[str] = (),
    existing_impact: bool = False,
    detail: Mapping[str, Any] | None = None,
) -> GateEvaluation:
    """The gate's verdict on `weights`, fingerprinted for record_decision."""
    weights = {str(k): float(v) for k, v in weights.items()}
    flags = tuple(str(f).strip() for f in flags if str(f).strip())
    groups = tuple(str(g).strip() for g in flagged_groups if str(g).strip())
    return GateEvaluation(
        recommendation_id=str(recommendation_id),
        weights=weights,
        flagged=bool(flagged),
        flags=flags,
        flagged_groups=groups,
        existing_impact=bool(existing_impact),
        fingerprint=_evaluation_fingerprint(recommendation_id, weights, flagged, flags, groups, existing_impact),
        detail=dict(detail or {}),
    )


def _check_evaluation(evaluation: GateEvaluation, recommendation_id: str, weights: Mapping[str, float] | None) -> None:
    """Refuse an evaluation of another recommendation, of other weights, or altered after it was made."""
    if evaluation.recommendation_id != recommendation_id:
        raise LocalizedError("error.evaluation_other_recommendation")
    if weights is not None and {str(k): float(v) for k, v in weights.items()} != dict(evaluation.weights):
        raise LocalizedError("error.weights_not_evaluated")
    expected = _evaluation_fingerprint(
        recommendation_id,
        evaluation.weights,
        evaluation.flagged,
        evaluation.flags,
        evaluation.flagged_groups,
        evaluation.existing_impact,
    )
    if expected != evaluation.fingerprint:
        raise LocalizedError("error.evaluation_altered")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def _text(value: str | None, field: str, *, required: bool = True) -> str | None:
    if value is None or not str(value).strip():
        if required:
            raise LocalizedError("error.field_required", field=field)
        return None
    value = str(value).strip()
    if len(value) > MAX_TEXT:
        raise LocalizedError("error.field_too_long", field=field, max=MAX_TEXT)
    return value


def validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Return `weights` as a plain dict if they are non-negative finite numbers summing to 1 (±1e-6); else raise."""
    if not isinstance(weights, Mapping) or not weights:
        raise LocalizedError("error.weights_empty")
    clean: dict[str, float] = {}
    for key, value in weights.items():
        if not isinstance(key, str) or not key.strip():
            raise LocalizedError("error.weights_bad_key", competency=repr(key))
        # bool is an int in Python; True as a weight is a bug upstream, not 1.0. numbers.Real covers numpy scalars.
        if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
            raise LocalizedError("error.weights_not_number", competency=key)
        number = float(value)
        if not math.isfinite(number):
            raise LocalizedError("error.weights_not_number", competency=key)
        if number < 0:
            raise LocalizedError("error.weights_negative", competency=key)
        clean[key.strip()] = number
    total = math.fsum(clean.values())
    if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
        raise LocalizedError("error.weights_sum", total=f"{total:.6f}")
    return clean


def _as_date(value: date | str | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        # A datetime carries a time zone question a date field cannot answer; make the caller decide.
        raise LocalizedError("error.effective_from_not_date")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise LocalizedError("error.effective_from_not_date") from None


class AppState:
    """The dashboards' SQLite store; one short connection per call, so one instance is safe to share across threads."""

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path)
        self._clock = clock or _utc_now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # Password hashes live here: create the file owner-only; SQLite gives -wal/-shm the same mode.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        with self._connect() as conn:
            # WAL is a property of the file and must be set outside a transaction; it sticks for every later opener.
            conn.execute("pragma journal_mode = wal")
        self._migrate()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("pragma foreign_keys = on")
            conn.row_factory = sqlite3.Row
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that reads then writes can hit
        # SQLITE_BUSY on the upgrade, which busy_timeout cannot wait out.
        with self._connect() as conn:
            conn.execute("begin immediate")
            try:
                yield conn
            except BaseException:
                conn.execute("rollback")
                raise
            conn.execute("commit")

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("clock must return an aware datetime")
        return now.astimezone(UTC)

    def _stamp(self) -> str:
        return self._now().isoformat(timespec="microseconds")

    def _migrate(self) -> None:
        with self._write() as conn:
            conn.execute(
                "create table if not exists schema_version (version integer primary key, applied_at text not null)"
            )
            current = conn.execute("select coalesce(max(version), 0) from schema_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path} has schema version {current}; this code knows up to {SCHEMA_VERSION}")
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[version]:
                    conn.execute(statement)
                conn.execute("insert into schema_version (version, applied_at) values (?, ?)", (version, self._stamp()))

    def schema_version(self) -> int:
        """The schema version of the file."""
        with self._connect() as conn:
            return conn.execute("select max(version) from schema_version").fetchone()[0]

    # users

    def create_user(
        self,
        username: str,
        password: str,
        role: str,
        *,
        department: str | None = None,
        language: str = DEFAULT_LANGUAGE,
        by: str | None = None,
    ) -> User:
        """Add an account; `by` (the acting admin) is written to the access log."""
        name = _normalize_username(username)
        if not USERNAME_RE.match(name):
            raise LocalizedError("error.username_invalid")
        role, department = self._check_role(role, department)
        if language not in LANGUAGES:
            raise LocalizedError("error.language_unknown", language=language)
        check_password_policy(password)
        encoded = hash_password(password)
        with self._write() as conn:
            if conn.execute("select 1 from users where username = ?", (name,)).fetchone():
                raise LocalizedError("error.user_exists", username=name)
            conn.execute(
                "insert into users (username, password_hash, role, department, language, created_at, disabled)"
                " values (?, ?, ?, ?, ?, ?, 0)",
                (name, encoded, role, department, language, self._stamp()),
            )
            self._audit_admin(conn, by, f"user_create {name} {role}" + (f" {department}" if department else ""))
        user = self.get_user(name)
        assert user is not None
        return user

    def set_password(self, username: str, password: str, *, by: str | None = None) -> None:
        """Replace a user's password."""
        check_password_policy(password)
        encoded = hash_password(password)
        name = self._require_user(username).username
        with self._write() as conn:
            conn.execute("update users set password_hash = ? where username = ?", (encoded, name))
            self._audit_admin(conn, by, f"set_password {name}")

    def set_role(self, username: str, role: str, *, department: str | None = None, by: str | None = None) -> User:
        """Change a user's role (and department, which a department head must have)."""
        name = self._require_user(username).username
        role, department = self._check_role(role, department)
        with self._write() as conn:
            if role != "admin":
                self._refuse_last_admin(conn, name)
            conn.execute("update users set role = ?, department = ? where username = ?", (role, department, name))
            self._audit_admin(conn, by, f"set_role {name} {role}" + (f" {department}" if department else ""))
        return self._require_user(name)

    def set_language(self, username: str, language: str) -> None:
        """Store a user's preferred dashboard language."""
        if language not in LANGUAGES:
            raise LocalizedError("error.language_unknown", language=language)
        name = self._require_user(username).username
        with self._write() as conn:
            conn.execute("update users set language = ? where username = ?", (language, name))

    def disable_user(self, username: str, *, by: str | None = None) -> None:
        """Block a user from logging in; accounts are never deleted, so decisions and log rows keep their author."""
        name = self._require_user(username).username
        with self._write() as conn:
            self._refuse_last_admin(conn, name)
            conn.execute("update users set disabled = 1 where username = ?", (name,))
            self._audit_admin(conn, by, f"disable {name}")

    def enable_user(self, username: str, *, by: str | None = None) -> None:
        """Let a disabled user log in again."""
        name = self._require_user(username).username
        with self._write() as conn:
            conn.execute("update users set disabled = 0 where username = ?", (name,))
            self._audit_admin(conn, by, f"enable {name}")

    def get_user(self, username: str) -> User | None:
        """The user, or None."""
        with self._connect() as conn:
            row = conn.execute(
                "select username, role, department, language, created_at, disabled from users where username = ?",
                (_normalize_username(username),),
            ).fetchone()
        return _user(row) if row else None

    def list_users(self) -> list[User]:
        """Every account, disabled ones included, by username."""
        with self._connect() as conn:
            rows = conn.execute(
                "select username, role, department, language, created_at, disabled from users order by username"
            ).fetchall()
        return [_user(r) for r in rows]

    def password_hash(self, username: str) -> str | None:
        """The encoded password hash, for `auth.authenticate` only."""
        with self._connect() as conn:
            row = conn.execute(
                "select password_hash from users where username = ?", (_normalize_username(username),)
            ).fetchone()
        return row[0] if row else None

    def _require_user(self, username: str) -> User:
        user = self.get_user(username)
        if user is None:
            raise LocalizedError("error.user_unknown", username=_normalize_username(username))
        return user

    @staticmethod
    def _check_role(role: str, department: str | None) -> tuple[str, str | None]:
        if role not in ROLES:
            raise LocalizedError("error.role_unknown", role=role)
        department = department.strip() if department and department.strip() else None
        if role == "department_head" and department is None:
            raise LocalizedError("error.department_required")
        return role, department

    @staticmethod
    def _refuse_last_admin(conn: sqlite3.Connection, name: str) -> None:
        # Demoting or disabling the only enabled admin would leave nobody able to manage users from the app.
        others = conn.execute(
            "select count(*) from users where role = 'admin' and disabled = 0 and username <> ?", (name,)
        ).fetchone()[0]
        is_admin = conn.execute(
            "select 1 from users where username = ? and role = 'admin' and disabled = 0", (name,)
        ).fetchone()
        if is_admin and others == 0:
            raise LocalizedError("error.last_admin")

    def _audit_admin(self, conn: sqlite3.Connection, by: str | None, action: str) -> None:
        if by is not None:
            self._insert_access(conn, by, "admin", None, action)

    # review decisions

    def record_decision(
        self,
        recommendation_id: str,
        job_family: str,
        decision: str,
        *,
        reason: str,
        decided_by: str,
        weights: Mapping[str, float] | None = None,
        effective_from: date | str | None = None,
        flagged: bool = False,
        flags: Sequence[str] = (),
        flagged_groups: Sequence[str] = (),
        flag_acknowledged: bool = False,
        recommended_weights: Mapping[str, float] | None = None,
        evaluation: GateEvaluation | None = None,
    ) -> Decision:
        """Append one review decision after checking it; raises LocalizedError (a ValueError) on any rule broken.

        Rules: `decided_by` is an enabled user whose role may review; a reason of at least MIN_REASON_LENGTH;
        approved/edited carry `weights` (non-negative, sum 1) and `effective_from` no earlier than today (UTC), and a
        rejection carries neither; if `recommended_weights` is given, approved weights must equal them and edited
        weights must differ on the same competencies.

        The fairness gate, one rule for every path: the verdict is `evaluation` (an evaluation_of the weights the
        reviewer was shown), or for an approval or rejection the recommendation's own `flagged` / `flags` /
        `flagged_groups`. An edit must carry the evaluation of exactly its weights (else refused: an edited
        weighting is judged by the gate like any other). A flagged verdict is approved or edited only with
        `flag_acknowledged=True` and a reason that passes `check_flag_reason` against that verdict's flag texts.
        A rejection records the verdict it rejected. The verdict is stored in gate_json.
        """
        recommendation_id = _text(recommendation_id, "recommendation_id")
        job_family = _text(job_family, "job_family")
        if decision not in DECISIONS:
            raise LocalizedError("error.decision_unknown", decision=decision)
        reason = _text(reason, "reason")
        if len(reason) < MIN_REASON_LENGTH:
            raise LocalizedError("error.reason_too_short", min=MIN_REASON_LENGTH)
        clean: dict[str, float] | None = None
        if decision in WEIGHT_DECISIONS:
            if weights is None:
                raise LocalizedError("error.weights_required")
            clean = validate_weights(weights)
        elif weights is not None or effective_from is not None:
            raise LocalizedError("error.rejection_has_weights")
        if evaluation is not None:
            if flagged or flags or flagged_groups:
                # Two verdicts could disagree; the store takes the gate's verdict from one place only.
                raise ValueError("pass the gate's verdict once: as evaluation, or as flagged / flags")
            _check_evaluation(evaluation, recommendation_id, clean)
            flagged, flags, flagged_groups = evaluation.flagged, evaluation.flags, evaluation.flagged_groups
        elif decision == "edited":
            raise LocalizedError("error.edit_not_evaluated")
        flag_texts = tuple(str(f).strip() for f in flags if str(f).strip())
        if flagged and not flag_texts:
            raise LocalizedError("error.flag_texts_missing")
        now = self._now()

        weights_json: str | None = None
        effective: date | None = None
        if clean is not None:
            if recommended_weights is not None:
                _check_against_recommendation(decision, clean, validate_weights(recommended_weights))
            weights_json = json.dumps(clean, sort_keys=True)
            effective = _as_date(effective_from)
            if effective is None:
                raise LocalizedError("error.effective_from_required")
            # New weights score interviews from now on; back-dating would silently re-score past candidates.
            if effective < now.date():
                raise LocalizedError("error.effective_from_past")
            if flagged:
                if not flag_acknowledged:
                    raise LocalizedError("error.flag_not_acknowledged")
                check_flag_reason(reason, flag_texts, flagged_groups)

        decider = self.get_user(_text(decided_by, "decided_by"))
        if decider is None or decider.disabled or decider.role not in DECIDER_ROLES:
            raise LocalizedError("error.not_a_reviewer", username=_normalize_username(decided_by))

        gate = None
        if evaluation is not None:
            gate = {
                **evaluation.detail,
                "weights": dict(evaluation.weights),
                "flagged": evaluation.flagged,
                "existing_impact": evaluation.existing_impact,
                "flags": list(evaluation.flags),
                "fingerprint": evaluation.fingerprint,
            }
        gate_json = json.dumps(gate, ensure_ascii=False, sort_keys=True, default=str) if gate is not None else None
        fingerprint = evaluation.fingerprint if evaluation is not None else None
        decided_at = now.isoformat(timespec="microseconds")
        with self._write() as conn:
            cur = conn.execute(
                "insert into review_decisions (recommendation_id, job_family, decision, weights_json, effective_from,"
                " reason, flagged, flags_json, flag_acknowledged, decided_by, decided_at, gate_json,"
                " evaluation_fingerprint) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    recommendation_id,
                    job_family,
                    decision,
                    weights_json,
                    effective.isoformat() if effective else None,
                    reason,
                    int(bool(flagged)),
                    json.dumps(list(flag_texts), ensure_ascii=False),
                    int(bool(flag_acknowledged)),
                    decider.username,
                    decided_at,
                    gate_json,
                    fingerprint,
                ),
            )
            decision_id = cur.lastrowid
        return Decision(
            decision_id=decision_id,
            recommendation_id=recommendation_id,
            job_family=job_family,
            decision=decision,
            weights=json.loads(weights_json) if weights_json else None,
            effective_from=effective,
            reason=reason,
            flagged=bool(flagged),
            flags=flag_texts,
            flag_acknowledged=bool(flag_acknowledged),
            decided_by=decider.username,
            decided_at=decided_at,
            gate=json.loads(gate_json) if gate_json else None,
            evaluation_fingerprint=fingerprint,
        )

    def decisions(self, job_family: str | None = None) -> pd.DataFrame:
        """Every decision (optionally of one job family), oldest first."""
        sql = f"select {', '.join(_DECISION_COLUMNS)} from review_decisions"
        params: tuple[Any, ...] = ()
        if job_family is not None:
            sql += " where job_family = ?"
            params = (job_family,)
        return self._decision_frame(sql + " order by decision_id", params)

    def latest_decision_per_recommendation(self, job_family: str | None = None) -> pd.DataFrame:
        """The latest decision for each recommendation (a later decision supersedes an earlier one)."""
        sql = f"select {', '.join(_DECISION_COLUMNS)} from latest_review_decisions"
        params: tuple[Any, ...] = ()
        if job_family is not None:
            sql += " where job_family = ?"
            params = (job_family,)
        return self._decision_frame(sql + " order by decision_id", params)

    def _decision_frame(self, sql: str, params: tuple[Any, ...]) -> pd.DataFrame:
        with self._connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        frame = pd.DataFrame([tuple(r) for r in rows], columns=list(_DECISION_COLUMNS))
        for col in ("flagged", "flag_acknowledged"):
            frame[col] = frame[col].astype(bool)
        return frame

    # access log

    def log_access(self, username: str, page: str, action: str, candidate_key: str | None = None) -> None:
        """Append one access-log row (who opened what, and which candidate if the view is candidate-level)."""
        with self._write() as conn:
            self._insert_access(conn, username, page, candidate_key, action)

    def _insert_access(
        self, conn: sqlite3.Connection, username: str, page: str, candidate_key: str | None, action: str
    ) -> None:
        if page not in LOG_PAGES:
            raise LocalizedError("error.page_unknown", page=page)
        action = _text(action, "action")
        if candidate_key is not None and not _CANDIDATE_KEY_RE.match(candidate_key):
            raise LocalizedError("error.candidate_key_invalid")
        name = _normalize_username(username)
        if not conn.execute("select 1 from users where username = ?", (name,)).fetchone():
            raise LocalizedError("error.user_unknown", username=name)
        conn.execute(
            "insert into access_log (at, username, page, candidate_key, action) values (?, ?, ?, ?, ?)",
            (self._stamp(), name, page, candidate_key, action),
        )

    def access_log(
        self,
        *,
        username: str | None = None,
        candidate_key: str | None = None,
        page: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Access-log rows matching every filter given, newest first."""
        clauses, params = [], []
        if username is not None:
            clauses.append("username = ?")
            params.append(_normalize_username(username))
        if candidate_key is not None:
            clauses.append("candidate_key = ?")
            params.append(candidate_key)
        if page is not None:
            clauses.append("page = ?")
            params.append(page)
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("since must be an aware datetime")
            clauses.append("at >= ?")
            params.append(since.astimezone(UTC).isoformat(timespec="microseconds"))
        sql = f"select {', '.join(_ACCESS_COLUMNS)} from access_log"
        if clauses:
            sql += " where " + " and ".join(clauses)
        sql += " order by log_id desc"
        if limit is not None:
            sql += " limit ?"
            params.append(int(limit))
        with self._connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=list(_ACCESS_COLUMNS))


def check_flag_reason(reason: str, flags: Sequence[str], flagged_groups: Sequence[str] = ()) -> None:
    """Raise unless `reason` addresses a fairness flag: ≥40 own characters naming a flagged group or the impact."""
    own = reason
    # Pasting the flag back into the reason is not addressing it: only the reviewer's own words count.
    for text in sorted(flags, key=len, reverse=True):
        own = own.replace(text, " ")
    own = " ".join(own.split())
    if len(own) < FLAGGED_REASON_MIN_LENGTH:
        raise LocalizedError("error.flag_reason_too_short", min=FLAGGED_REASON_MIN_LENGTH)
    lowered = own.casefold()
    terms = [*FLAG_TERMS, *(g for g in flagged_groups if g and g.strip())]
    if not any(term.strip().casefold() in lowered for term in terms):
        raise LocalizedError("error.flag_reason_unaddressed", terms=", ".join(t.strip() for t in terms))


def _check_against_recommendation(decision: str, weights: dict[str, float], recommended: dict[str, float]) -> None:
    if set(weights) != set(recommended):
        raise LocalizedError("error.weights_competencies_differ")
    same = all(abs(weights[k] - recommended[k]) <= WEIGHT_SUM_TOLERANCE for k in weights)
    if decision == "approved" and not same:
        raise LocalizedError("error.approved_weights_differ")
    if decision == "edited" and same:
        raise LocalizedError("error.edited_weights_same")


def _user(row: sqlite3.Row) -> User:
    return User(
        username=row["username"],
        role=row["role"],
        department=row["department"],
        language=row["language"],
        created_at=row["created_at"],
        disabled=bool(row["disabled"]),
    )
