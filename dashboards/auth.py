"""Who may log in (argon2id passwords, a strength rule, throttling and lockout, session expiry), which pages each
role sees, and which rows each user may read."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from dashboards.i18n import LocalizedError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dashboards.app_state import AppState, User

ROLES = ("hr_analyst", "talent_leader", "department_head", "admin")

PAGES = (
    "overview",
    "funnel",
    "quality_of_hire",
    "retention",
    "complaints",
    "interviewers",
    "talent_pool",
    "weight_review",
    "fairness_audit",
    "data_quality",
    "admin",
)
# The review desk changes what the next interview cycle scores, and admin changes who can do that:
# both are kept apart from the read-only analytic pages.
ANALYTIC_PAGES = tuple(p for p in PAGES if p not in {"weight_review", "admin"})

ROLE_PAGES: dict[str, frozenset[str]] = {
    "hr_analyst": frozenset(ANALYTIC_PAGES),
    "talent_leader": frozenset(ANALYTIC_PAGES) | {"weight_review"},
    "department_head": frozenset(ANALYTIC_PAGES),
    "admin": frozenset(PAGES),
}
# Roles that read every department's rows; any role not listed here is scoped to its own department.
ALL_ROWS_ROLES = frozenset({"hr_analyst", "talent_leader", "admin"})
# Whoever may open the review desk may record a decision there; the store checks this again on write.
DECIDER_ROLES = frozenset(role for role, pages in ROLE_PAGES.items() if "weight_review" in pages)

# NIST SP 800-63B-4 (2024): at least 15 characters for a password that is the only factor, as it is here.
MIN_PASSWORD_LENGTH = 15
# Bounds the work one login can cause; no real passphrase is near it.
MAX_PASSWORD_LENGTH = 1024
# Length alone let 'aaaaaaaaaaaaaaa' and 'password1234567' in. zxcvbn scores 0-4 by estimated guesses; 3 is
# "safely unguessable" (about 10^10 guesses), which NIST's blocklist of common, repetitive and sequential
# passwords amounts to. zxcvbn judges the first 72 characters (its own bound: its cost grows with the square of the
# length, 0.5 s at 256); a passphrase that long is strong or weak by then.
MIN_PASSWORD_SCORE = 3
_STRENGTH_CHARS = 72
# Words that make a password guessable here whatever zxcvbn's dictionaries say.
_PRODUCT_WORDS = ("talentloop", "talent", "loop", "dashboard", "recruiting")

# argon2id (RFC 9106's second recommended profile, argon2-cffi's default): 64 MiB, 3 passes, 4 lanes, about 0.1 s
# on one core. It replaces scrypt at N=2^14 (16 MiB), whose hashes still verify and are re-hashed at the next login.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_PARALLELISM = 4
_HASHER = PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_KIB,
    parallelism=ARGON2_PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)
# A stored hash is data: a tampered row asking for 4 GiB or 1,000 passes must be refused, not computed.
_ARGON2_MAX_MEMORY_KIB = 256 * 1024
_ARGON2_MAX_TIME_COST = 16
_ARGON2_MAX_PARALLELISM = 16

# The scrypt encoding of earlier versions: verified (so existing accounts still log in), never written.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
_ENCODED_RE = re.compile(r"^scrypt\$n=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")


class AccessDenied(PermissionError):
    """The user's role or department does not allow what was asked."""


def check_password_policy(password: str, user_inputs: Sequence[str] = ()) -> None:
    """Raise a LocalizedError if `password` is too short, too long, or easy to guess (zxcvbn score below 3);
    `user_inputs` (the username, say) count as known words."""
    normalized = _normalize(password)
    n = len(normalized)
    if n < MIN_PASSWORD_LENGTH:
        raise LocalizedError("error.password_too_short", min=MIN_PASSWORD_LENGTH)
    if n > MAX_PASSWORD_LENGTH:
        raise LocalizedError("error.password_too_long", max=MAX_PASSWORD_LENGTH)
    # The username's parts count too: 'ana.lopez' makes 'lopez' a known word.
    words = [w for v in user_inputs if v for w in (v, *re.split(r"[._@-]+", v)) if w] + list(_PRODUCT_WORDS)
    if zxcvbn(normalized[:_STRENGTH_CHARS], user_inputs=words)["score"] < MIN_PASSWORD_SCORE:
        raise LocalizedError("error.password_weak")


def _normalize(password: str) -> str:
    # NFKC so that full-width and half-width forms of the same characters (common with Chinese IMEs) both log in.
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """Encode `password` with argon2id (`$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`) and a fresh random salt."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise LocalizedError("error.password_too_long", max=MAX_PASSWORD_LENGTH)
    return _HASHER.hash(_normalize(password))


def scrypt_hash(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """The earlier `scrypt$n=…,r=…,p=…$<salt>$<key>` encoding, to test and migrate the accounts that still have it."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, n, r, p, KEY_BYTES)
    b64 = base64.b64encode
    return f"scrypt$n={n},r={r},p={p}${b64(salt).decode()}${b64(key).decode()}"


def _maxmem(n: int, r: int, p: int) -> int:
    # OpenSSL refuses scrypt above 32 MiB by default; give it what the parameters need (128·r·(N+p+2)) plus slack.
    return 128 * r * (n + p + 2) + 2**20


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        _normalize(password).encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=_maxmem(n, r, p)
    )


def _parse_scrypt(encoded: str) -> tuple[int, int, int, bytes, bytes] | None:
    m = _ENCODED_RE.match(encoded or "")
    if not m:
        return None
    n, r, p = (int(g) for g in m.group(1, 2, 3))
    # The stored string is data: refuse parameters that would let a tampered row exhaust memory or CPU.
    if not (2 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        return None
    try:
        salt = base64.b64decode(m.group(4), validate=True)
        key = base64.b64decode(m.group(5), validate=True)
    except ValueError:
        return None
    if not salt or not key:
        return None
    return n, r, p, salt, key


def _argon2_ok(encoded: str) -> bool:
    """True if `encoded` is an argon2id hash whose cost parameters are within bounds."""
    if not encoded.startswith("$argon2id$"):
        return False
    try:
        params = extract_parameters(encoded)
    except (InvalidHashError, ValueError):
        return False
    return (
        params.memory_cost <= _ARGON2_MAX_MEMORY_KIB
        and 1 <= params.time_cost <= _ARGON2_MAX_TIME_COST
        and 1 <= params.parallelism <= _ARGON2_MAX_PARALLELISM
    )


def verify_password(password: str, encoded: str) -> bool:
    """True if `password` matches `encoded` (argon2id, or the earlier scrypt); a malformed encoding never matches."""
    if len(password) > MAX_PASSWORD_LENGTH or not encoded:
        return False
    if _argon2_ok(encoded):
        try:
            return _HASHER.verify(encoded, _normalize(password))
        except (VerificationError, InvalidHashError):
            return False
    parsed = _parse_scrypt(encoded)
    if parsed is None:
        return False
    n, r, p, salt, key = parsed
    return hmac.compare_digest(_scrypt(password, salt, n, r, p, len(key)), key)


def needs_rehash(encoded: str) -> bool:
    """True unless `encoded` is argon2id with today's parameters: the next successful login re-hashes it."""
    if not _argon2_ok(encoded):
        return True
    return _HASHER.check_needs_rehash(encoded)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(24))


# ---------------------------------------------------------------- throttling, lockout and the login audit log


@dataclass(frozen=True)
class LoginPolicy:
    """Lockout and session lifetimes; each has a TALENTLOOP_* variable (LoginPolicy.ENV) that overrides it.

    5 failures in 15 minutes lock an account name (existing or not, so a lock reveals nothing) for 15 minutes: an
    online guesser gets 480 tries a day instead of thousands a minute. A client address gets 20 (several people
    may share an office's address) before it is locked the same way. A session ends after 30 idle minutes or 12
    hours, whichever comes first (a workday, then a fresh login).
    """

    max_failures: int = 5
    max_source_failures: int = 20
    window_minutes: float = 15.0
    lockout_minutes: float = 15.0
    idle_minutes: float = 30.0
    absolute_hours: float = 12.0

    ENV = {
        "max_failures": "TALENTLOOP_LOGIN_MAX_FAILURES",
        "max_source_failures": "TALENTLOOP_LOGIN_MAX_SOURCE_FAILURES",
        "window_minutes": "TALENTLOOP_LOGIN_WINDOW_MINUTES",
        "lockout_minutes": "TALENTLOOP_LOGIN_LOCKOUT_MINUTES",
        "idle_minutes": "TALENTLOOP_SESSION_IDLE_MINUTES",
        "absolute_hours": "TALENTLOOP_SESSION_MAX_HOURS",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LoginPolicy:
        env = os.environ if environ is None else environ
        values = {}
        for name, var in cls.ENV.items():
            if env.get(var, "").strip():
                kind = type(getattr(cls, name))
                try:
                    values[name] = kind(env[var])
                except ValueError:
                    raise ValueError(f"{var}={env[var]!r} is not a number") from None
                if values[name] <= 0:
                    raise ValueError(f"{var} must be positive")
        return cls(**values)

    def session_expired(self, logged_in_at: float, last_seen_at: float, now: float) -> str | None:
        """'idle' or 'absolute' if a session with these times (seconds since the epoch) has ended, else None."""
        if now - logged_in_at > self.absolute_hours * 3600:
            return "absolute"
        if now - last_seen_at > self.idle_minutes * 60:
            return "idle"
        return None


# Outcomes in the login log. 'pending' is a password being checked right now: it counts as a failure until it is
# settled, so a burst of parallel guesses cannot slip past the limit while argon2 runs.
LOGIN_OUTCOMES = ("success", "failure", "unknown_user", "disabled", "locked", "unlocked", "pending")
_FAILED = ("failure", "unknown_user", "disabled", "pending")
INVALID_USERNAME = "(invalid)"
ANY_USERNAME = "(any)"  # the name column of an address's unlock

_LOGIN_DDL = (
    f"""
    create table if not exists login_attempts (
        attempt_id integer primary key autoincrement,
        at text not null,
        username text not null,
        known integer not null check (known in (0, 1)),
        source text,
        outcome text not null check (outcome in ({", ".join(f"'{o}'" for o in LOGIN_OUTCOMES)}))
    )
    """,
    "create index if not exists login_attempts_by_user on login_attempts (username, at)",
    "create index if not exists login_attempts_by_source on login_attempts (source, at)",
    # Append-only like the access log; only a pending attempt may be settled, once.
    """
    create trigger if not exists login_attempts_settle_only before update on login_attempts
    when old.outcome <> 'pending' or new.outcome = 'pending' or new.attempt_id <> old.attempt_id
        or new.at <> old.at or new.username <> old.username or new.source is not old.source
    begin select raise(abort, 'login_attempts is append-only'); end
    """,
    """
    create trigger if not exists login_attempts_no_delete before delete on login_attempts
    begin select raise(abort, 'login_attempts is append-only'); end
    """,
    """
    create table if not exists login_locks (
        kind text not null check (kind in ('user', 'source')),
        subject text not null,
        locked_until text not null,
        primary key (kind, subject)
    )
    """,
)
_READY: set[str] = set()


@dataclass(frozen=True)
class LoginResult:
    """The user if the login succeeded; else why not ('failed' or 'locked', with the lock's end for the latter)."""

    user: User | None
    status: str
    locked_until: dt.datetime | None = None


def _login_tables(state: AppState) -> None:
    # The login log and locks live in the app-state store beside the users, so they survive restarts and are shared
    # by every server process; the tables are made on first use.
    key = str(state.path)
    if key in _READY:
        return
    with state._write() as conn:
        for statement in _LOGIN_DDL:
            conn.execute(statement)
    _READY.add(key)


def _login_name(username: str) -> str:
    from dashboards.app_state import USERNAME_RE

    # Something that cannot be a username (a password typed in the wrong box, say) is not kept.
    name = (username or "").strip().lower()
    return name if USERNAME_RE.match(name) else INVALID_USERNAME


def _active_lock(conn, name: str, source: str | None, stamp: str) -> str | None:
    row = conn.execute(
        "select max(locked_until) from login_locks where locked_until > ? and"
        " ((kind = 'user' and subject = ?) or (kind = 'source' and subject = ?))",
        (stamp, name, source),
    ).fetchone()
    return row[0]


def _failures(conn, column: str, subject: str, since: str) -> int:
    """Failed attempts of a name (or from an address) in the window, counted from its last reset: for a name, a
    successful login or an unlock; for an address, an unlock only (one good account must not buy more guesses)."""
    resets = "('success', 'unlocked')" if column == "username" else "('unlocked')"
    row = conn.execute(
        f"select max(at) from login_attempts where {column} = ? and outcome in {resets}", (subject,)
    ).fetchone()
    since = max(since, row[0] or since)
    marks = ", ".join("?" * len(_FAILED))
    return conn.execute(
        f"select count(*) from login_attempts where {column} = ? and at > ? and outcome in ({marks})",
        (subject, since, *_FAILED),
    ).fetchone()[0]


def _over_limit(conn, name: str, source: str | None, since: str, policy: LoginPolicy) -> tuple[bool, bool]:
    by_name = _failures(conn, "username", name, since) >= policy.max_failures
    by_source = source is not None and _failures(conn, "source", source, since) >= policy.max_source_failures
    return by_name, by_source


def login(
    state: AppState, username: str, password: str, source: str | None = None, policy: LoginPolicy | None = None
) -> LoginResult:
    """Check a login attempt against the locks, then the password; every attempt is written to the login log.

    `source` is the client's address (None when unknown, e.g. a local connection: only the per-name limit applies).
    """
    policy = policy or LoginPolicy.from_env()
    _login_tables(state)
    name = _login_name(username)
    user = state.get_user(name) if name != INVALID_USERNAME else None
    now = state._now()
    stamp = now.isoformat(timespec="microseconds")
    since = (now - dt.timedelta(minutes=policy.window_minutes)).isoformat(timespec="microseconds")
    lock_until = (now + dt.timedelta(minutes=policy.lockout_minutes)).isoformat(timespec="microseconds")
    with state._write() as conn:
        until = _active_lock(conn, name, source, stamp)
        if until is None and any(_over_limit(conn, name, source, since, policy)):
            # The allowance is used up by failures and checks still running: refused without a look at the password.
            until = lock_until
        outcome = "locked" if until is not None else "pending"
        attempt = conn.execute(
            "insert into login_attempts (at, username, known, source, outcome) values (?, ?, ?, ?, ?)",
            (stamp, name, int(user is not None), source, outcome),
        ).lastrowid
        if until is not None and user is not None:
            state._insert_access(conn, user.username, "login", None, "login_locked")
    if until is not None:
        return LoginResult(None, "locked", dt.datetime.fromisoformat(until))

    encoded = state.password_hash(name) if user is not None else None
    # Hash even for an unknown name, so response time does not reveal which usernames exist.
    ok = verify_password(password, encoded if encoded is not None else _dummy_hash())
    if user is None:
        outcome = "unknown_user"
    elif not ok:
        outcome = "failure"
    elif user.disabled:
        outcome = "disabled"
    else:
        outcome = "success"
    # An old scrypt hash (or older argon2 parameters) is upgraded now that the password is known; computed before the
    # write transaction so the store is not held for the hash's 0.1 s.
    rehashed = hash_password(password) if outcome == "success" and needs_rehash(encoded or "") else None
    with state._write() as conn:
        conn.execute("update login_attempts set outcome = ? where attempt_id = ?", (outcome, attempt))
        if outcome != "success":
            by_name, by_source = _over_limit(conn, name, source, since, policy)
            if by_name:
                _lock(conn, "user", name, lock_until)
            if by_source:
                _lock(conn, "source", source, lock_until)
        if user is not None:
            action = "login" if outcome == "success" else "login_failed"
            state._insert_access(conn, user.username, "login", None, action)
        if rehashed is not None:
            # Straight to the store, not through set_password: an account made under an older, weaker password rule
            # must still log in.
            conn.execute("update users set password_hash = ? where username = ?", (rehashed, name))
    return LoginResult(user if outcome == "success" else None, "ok" if outcome == "success" else "failed")


def _lock(conn, kind: str, subject: str, until: str) -> None:
    conn.execute(
        "insert into login_locks (kind, subject, locked_until) values (?, ?, ?)"
        " on conflict (kind, subject) do update set locked_until = max(locked_until, excluded.locked_until)",
        (kind, subject, until),
    )


def authenticate(state: AppState, username: str, password: str, source: str | None = None) -> User | None:
    """The user if the password matches, the account is enabled and no lock applies, else None (see login)."""
    return login(state, username, password, source).user


def unlock(state: AppState, username: str | None = None, source: str | None = None) -> int:
    """Lift the locks on a name and/or an address (an administrator's action, written to the login log as
    'unlocked', which also restarts the failure count); returns how many locks were active."""
    _login_tables(state)
    lifted = 0
    name = _login_name(username) if username else None
    known = int(name is not None and state.get_user(name) is not None)
    with state._write() as conn:
        stamp = state._stamp()
        for kind, subject in (("user", name), ("source", source)):
            if subject is None:
                continue
            lifted += conn.execute(
                "delete from login_locks where kind = ? and subject = ? and locked_until > ?", (kind, subject, stamp)
            ).rowcount
            conn.execute("delete from login_locks where kind = ? and subject = ?", (kind, subject))
            conn.execute(
                "insert into login_attempts (at, username, known, source, outcome) values (?, ?, ?, ?, 'unlocked')",
                (
                    stamp,
                    name if kind == "user" else ANY_USERNAME,
                    known if kind == "user" else 0,
                    source if kind == "source" else None,
                ),
            )
    return lifted


def login_attempts(state: AppState, limit: int = 500) -> list[dict[str, Any]]:
    """The login log, newest first: when, which name (as typed, if it could be one), whether it exists, from where,
    and the outcome."""
    _login_tables(state)
    with state._connect() as conn:
        rows = conn.execute(
            "select at, username, known, source, outcome from login_attempts order by attempt_id desc limit ?",
            (int(limit),),
        ).fetchall()
    return [dict(r) for r in rows]


def allowed_pages(user: User | str) -> tuple[str, ...]:
    """Pages the user (or role) may open, in navigation order; a disabled user gets none."""
    if not isinstance(user, str) and user.disabled:
        return ()
    role = user if isinstance(user, str) else user.role
    pages = ROLE_PAGES.get(role, frozenset())
    return tuple(p for p in PAGES if p in pages)


def can_view(user: User | str, page: str) -> bool:
    """True if the user (or role) may open `page`."""
    return page in allowed_pages(user)


def require_page(user: User, page: str) -> None:
    """Raise AccessDenied unless the user may open `page`."""
    if not can_view(user, page):
        raise AccessDenied(f"{user.username} ({user.role}) may not open {page}")


@dataclass(frozen=True)
class RowScope:
    """The rows a user may read: `department=None` means every department, and only roles in ALL_ROWS_ROLES get it."""

    department: str | None
    role: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise AccessDenied(f"unknown role {self.role!r}")
        if self.department is None and self.role not in ALL_ROWS_ROLES:
            raise AccessDenied(f"role {self.role} is limited to one department and cannot have an all-rows scope")
        if self.department is not None and not self.department.strip():
            raise AccessDenied("an empty department name is not a scope")

    @classmethod
    def for_user(cls, user: User) -> RowScope:
        """The widest scope `user` is entitled to: their department for a department head, else all rows."""
        if user.disabled:
            raise AccessDenied(f"{user.username} is disabled")
        if user.role in ALL_ROWS_ROLES:
            return cls(None, user.role)
        return cls(user.department, user.role)

    @property
    def all_rows(self) -> bool:
        """True if no department filter applies."""
        return self.department is None

    def narrowed(self, department: str | None) -> RowScope:
        """This scope limited further to `department` (a page filter); asking for a wider scope raises AccessDenied."""
        if department is None or department == self.department:
            return self
        if self.department is None:
            return RowScope(department, self.role)
        raise AccessDenied(f"scope is department {self.department!r}; {department!r} is outside it")


_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STARTS_LIKE_QUERY_RE = re.compile(r"^(select|with|from)\b", re.IGNORECASE)


def _single_query(sql: str) -> str:
    """`sql` without trailing semicolons, if it is one query with balanced parentheses; else raise ValueError."""
    body = sql.strip()
    while body.endswith(";"):
        body = body[:-1].rstrip()
    # Walk the text once, skipping string literals, quoted identifiers and comments, so that only real syntax counts:
    # an unbalanced ')' or a ';' could otherwise close the wrapper early and put rows outside the filter.
    depth, i, n = 0, 0, len(body)
    while i < n:
        c = body[i]
        if c in "'\"":
            end = i + 1
            while True:
                end = body.find(c, end)
                if end == -1:
                    raise ValueError("unterminated quoted text in query")
                if end + 1 < n and body[end + 1] == c:
                    end += 2
                    continue
                break
            i = end + 1
            continue
        if body.startswith("--", i):
            nl = body.find("\n", i)
            i = n if nl == -1 else nl + 1
            continue
        if body.startswith("/*", i):
            end = body.find("*/", i + 2)
            if end == -1:
                raise ValueError("unterminated comment in query")
            i = end + 2
            continue
        if body.startswith("$$", i):
            raise ValueError("dollar-quoted strings are not accepted in a scoped query")
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced ')' in query")
        elif c == ";":
            raise ValueError("a scoped query must be a single statement")
        i += 1
    if depth != 0:
        raise ValueError("unbalanced '(' in query")
    if not _STARTS_LIKE_QUERY_RE.match(body):
        raise ValueError("a scoped query must start with select, with or from")
    return body


def scoped_sql(
    sql_select: str,
    scope: RowScope,
    department_column: str = "department",
    params: Sequence[Any] = (),
) -> tuple[str, list[Any]]:
    """Wrap a query so the database returns only rows in `scope`; returns the SQL and its `?` parameters."""
    if not isinstance(scope, RowScope):
        # No scope is not "all rows": that must come from RowScope.for_user for a role entitled to it.
        raise TypeError("scoped_sql needs a RowScope; build it with RowScope.for_user(user)")
    if not _IDENTIFIER_RE.match(department_column):
        raise ValueError(f"not a plain column name: {department_column!r}")
    body = _single_query(sql_select)
    if scope.department is None:
        return body, list(params)
    # The newlines end any trailing line comment in the inner query before the wrapper's own text.
    wrapped = f'select * from (\n{body}\n) as scoped where scoped."{department_column}" = ?'
    return wrapped, [*params, scope.department]


def bootstrap_message(state: AppState) -> str | None:
    """How to create the first administrator, if no enabled administrator exists yet; else None."""
    if any(u.role == "admin" and not u.disabled for u in state.list_users()):
        return None
    return (
        "No administrator exists yet. Create the first one with:\n"
        "  talentloop user add --username NAME --role admin\n"
        "The command prompts for the password "
        f"(at least {MIN_PASSWORD_LENGTH} characters, and not a common, repeated or sequential one)."
    )
