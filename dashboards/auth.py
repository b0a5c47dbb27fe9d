"""Who may log in (scrypt passwords), which pages each role sees, and which rows each user may read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

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

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
_ALGORITHM = "scrypt"
_ENCODED_RE = re.compile(r"^scrypt\$n=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")


class AccessDenied(PermissionError):
    """The user's role or department does not allow what was asked."""


def check_password_policy(password: str) -> None:
    """Raise a LocalizedError if `password` is too short or too long to accept."""
    n = len(_normalize(password))
    if n < MIN_PASSWORD_LENGTH:
        raise LocalizedError("error.password_too_short", min=MIN_PASSWORD_LENGTH)
    if n > MAX_PASSWORD_LENGTH:
        raise LocalizedError("error.password_too_long", max=MAX_PASSWORD_LENGTH)


def _normalize(password: str) -> str:
    # NFKC so that full-width and half-width forms of the same characters (common with Chinese IMEs) both log in.
    return unicodedata.normalize("NFKC", password)


def _maxmem(n: int, r: int, p: int) -> int:
    # OpenSSL refuses scrypt above 32 MiB by default; give it what the parameters need (128·r·(N+p+2)) plus slack,
    # so that stronger parameters later do not fail on verify.
    return 128 * r * (n + p + 2) + 2**20


def _derive(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        _normalize(password).encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=_maxmem(n, r, p)
    )


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """Encode `password` as `scrypt$n=…,r=…,p=…$<salt b64>$<key b64>` with a fresh random salt."""
    if len(password) > MAX_PASSWORD_LENGTH:
        raise LocalizedError("error.password_too_long", max=MAX_PASSWORD_LENGTH)
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, n, r, p, KEY_BYTES)
    b64 = base64.b64encode
    return f"{_ALGORITHM}$n={n},r={r},p={p}${b64(salt).decode()}${b64(key).decode()}"


def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes] | None:
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


def verify_password(password: str, encoded: str) -> bool:
    """True if `password` matches `encoded`; a malformed encoding never matches."""
    parsed = _parse(encoded)
    if parsed is None or len(password) > MAX_PASSWORD_LENGTH:
        return False
    n, r, p, salt, key = parsed
    return hmac.compare_digest(_derive(password, salt, n, r, p, len(key)), key)


def needs_rehash(encoded: str) -> bool:
    """True if `encoded` was made with other parameters than today's, so the next login should re-hash it."""
    parsed = _parse(encoded)
    return parsed is None or parsed[:3] != (SCRYPT_N, SCRYPT_R, SCRYPT_P) or len(parsed[4]) != KEY_BYTES


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(24))


def authenticate(state: AppState, username: str, password: str) -> User | None:
    """The user if the password matches and the account is enabled, else None; logs logins of known users."""
    user = state.get_user(username)
    encoded = state.password_hash(username) if user is not None else None
    # Hash even for an unknown name, so response time does not reveal which usernames exist.
    ok = verify_password(password, encoded if encoded is not None else _dummy_hash())
    if user is None:
        return None
    if not ok or user.disabled:
        state.log_access(user.username, "login", "login_failed")
        return None
    if needs_rehash(encoded or ""):
        state.set_password(user.username, password)
    state.log_access(user.username, "login", "login")
    return user


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
        f"(at least {MIN_PASSWORD_LENGTH} characters)."
    )
