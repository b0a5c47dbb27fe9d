"""Passwords, login, the role → page matrix, and row scope that a page cannot widen."""

from __future__ import annotations

import time

import duckdb
import pytest

from dashboards import auth
from dashboards.app_state import AppState, User
from dashboards.auth import (
    AccessDenied,
    RowScope,
    allowed_pages,
    authenticate,
    bootstrap_message,
    can_view,
    hash_password,
    login_attempts,
    needs_rehash,
    require_page,
    scoped_sql,
    scrypt_hash,
    verify_password,
)
from dashboards.i18n import LocalizedError

PASSWORD = "correct horse battery staple"


@pytest.fixture
def state(tmp_path):
    s = AppState(tmp_path / "app_state.sqlite")
    s.create_user("admin", PASSWORD, "admin")
    s.create_user("head", PASSWORD, "department_head", department="Sales")
    return s


def _user(role: str, department: str | None = None, disabled: bool = False) -> User:
    return User("u", role, department, "en", "2025-01-01T00:00:00+00:00", disabled)


# hashing


def test_hash_round_trip_and_wrong_password():
    encoded = hash_password(PASSWORD)
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(PASSWORD, encoded)
    assert not verify_password(PASSWORD + "!", encoded)
    assert not verify_password("", encoded)


def test_each_hash_has_its_own_salt():
    a, b = hash_password(PASSWORD), hash_password(PASSWORD)
    assert a != b
    assert a.split("$")[4] != b.split("$")[4]


def test_old_scrypt_hashes_still_verify_and_ask_for_a_rehash():
    for old in (scrypt_hash(PASSWORD, n=2**10, r=4), scrypt_hash(PASSWORD)):
        assert old.startswith("scrypt$")
        assert verify_password(PASSWORD, old)
        assert not verify_password(PASSWORD + "!", old)
        assert needs_rehash(old)
    assert not needs_rehash(hash_password(PASSWORD))


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "plain-text-password",
        "bcrypt$n=16384,r=8,p=1$AAAA$AAAA",
        "scrypt$n=16384,r=8,p=1$not base64!$AAAA",
        "scrypt$n=1000,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
        # A tampered row asking for 2^30 iterations must be refused, not computed.
        "scrypt$n=1073741824,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
        # ... or for 4 GiB of argon2 memory, or 10,000 passes.
        "$argon2id$v=19$m=4194304,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=19$m=65536,t=10000,p=4$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        "$argon2id$v=19$m=65536,t=3,p=4$not base64!$AAAA",
        "$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    ],
)
def test_malformed_or_hostile_encodings_never_match(encoded):
    started = time.monotonic()
    assert not verify_password(PASSWORD, encoded)
    assert time.monotonic() - started < 1


def test_full_width_and_half_width_forms_are_the_same_password():
    encoded = hash_password("ｐａｓｓｗｏｒｄ１２３４５６７８９")
    assert verify_password("password123456789", encoded)


def test_password_policy():
    with pytest.raises(LocalizedError) as err:
        auth.check_password_policy("short")
    assert err.value.key == "error.password_too_short"
    with pytest.raises(LocalizedError):
        auth.check_password_policy("x" * (auth.MAX_PASSWORD_LENGTH + 1))
    # Long enough is not enough: repeated characters are refused (more in test_login_hardening.py).
    with pytest.raises(LocalizedError) as err:
        auth.check_password_policy("x" * auth.MIN_PASSWORD_LENGTH)
    assert err.value.key == "error.password_weak"
    auth.check_password_policy(PASSWORD)


# login


def test_authenticate_returns_the_user_and_logs_the_login(state):
    user = authenticate(state, "Admin", PASSWORD)
    assert user is not None and user.username == "admin"
    assert list(state.access_log(username="admin")["action"]) == ["login"]


def test_wrong_password_and_unknown_user(state):
    assert authenticate(state, "admin", "wrong password entirely") is None
    assert authenticate(state, "nobody", PASSWORD) is None
    # A real account's failures go to its access log; every attempt, unknown names too, goes to the login log.
    assert list(state.access_log()["action"]) == ["login_failed"]
    assert [(a["username"], a["outcome"]) for a in login_attempts(state)] == [
        ("nobody", "unknown_user"),
        ("admin", "failure"),
    ]


def test_disabled_user_cannot_log_in(state):
    state.disable_user("head")
    assert authenticate(state, "head", PASSWORD) is None
    state.enable_user("head")
    assert authenticate(state, "head", PASSWORD) is not None


def test_login_upgrades_a_hash_made_with_old_parameters(state):
    import sqlite3

    with sqlite3.connect(state.path) as conn:
        conn.execute("update users set password_hash = ? where username = 'head'", (scrypt_hash(PASSWORD, n=2**10),))
    assert needs_rehash(state.password_hash("head"))
    assert authenticate(state, "head", PASSWORD) is not None
    assert not needs_rehash(state.password_hash("head"))
    assert authenticate(state, "head", PASSWORD) is not None


def test_bootstrap_message(tmp_path):
    s = AppState(tmp_path / "s.sqlite")
    message = bootstrap_message(s)
    assert message is not None
    assert "talentloop user add --username NAME --role admin" in message
    s.create_user("ana", PASSWORD, "hr_analyst")
    assert bootstrap_message(s) is not None
    s.create_user("root", PASSWORD, "admin")
    assert bootstrap_message(s) is None


# role → page matrix

ANALYTIC = {
    "overview",
    "funnel",
    "quality_of_hire",
    "retention",
    "complaints",
    "interviewers",
    "talent_pool",
    "fairness_audit",
    "data_quality",
}
EXPECTED_PAGES = {
    "hr_analyst": ANALYTIC,
    "talent_leader": ANALYTIC | {"weight_review"},
    "department_head": ANALYTIC,
    "admin": ANALYTIC | {"weight_review", "admin"},
}


@pytest.mark.parametrize("role", auth.ROLES)
@pytest.mark.parametrize("page", auth.PAGES)
def test_role_page_matrix(role, page):
    assert can_view(role, page) == (page in EXPECTED_PAGES[role])


def test_allowed_pages_keep_navigation_order():
    assert allowed_pages("admin") == auth.PAGES
    assert allowed_pages("hr_analyst")[0] == "overview"


def test_unknown_role_and_disabled_user_see_nothing():
    assert allowed_pages("intern") == ()
    assert allowed_pages(_user("admin", disabled=True)) == ()


def test_require_page():
    require_page(_user("talent_leader"), "weight_review")
    with pytest.raises(AccessDenied):
        require_page(_user("hr_analyst"), "weight_review")
    with pytest.raises(AccessDenied):
        require_page(_user("talent_leader"), "admin")


def test_decider_roles_are_those_with_the_review_desk():
    assert {"talent_leader", "admin"} == auth.DECIDER_ROLES


# row scope


def test_scope_for_each_role():
    assert RowScope.for_user(_user("department_head", "Sales")).department == "Sales"
    for role in ("hr_analyst", "talent_leader", "admin"):
        scope = RowScope.for_user(_user(role, "Sales"))
        assert scope.all_rows
    with pytest.raises(AccessDenied):
        RowScope.for_user(_user("department_head", None))
    with pytest.raises(AccessDenied):
        RowScope.for_user(_user("hr_analyst", disabled=True))
    with pytest.raises(AccessDenied):
        RowScope.for_user(_user("intern"))


def test_a_department_heads_scope_cannot_be_widened():
    scope = RowScope.for_user(_user("department_head", "Sales"))
    assert scope.narrowed(None) == scope
    assert scope.narrowed("Sales") == scope
    with pytest.raises(AccessDenied):
        scope.narrowed("Operations")
    with pytest.raises(AccessDenied):
        RowScope(None, "department_head")
    with pytest.raises(AccessDenied):
        RowScope("  ", "department_head")
    with pytest.raises(TypeError):
        scoped_sql("select * from hires", None)


def test_an_all_rows_scope_can_be_narrowed_by_a_page_filter():
    scope = RowScope.for_user(_user("hr_analyst"))
    assert scope.narrowed("Operations") == RowScope("Operations", "hr_analyst")


@pytest.fixture
def warehouse():
    con = duckdb.connect()
    con.execute(
        "create table hires as select * from (values (1, 'Sales'), (2, 'Sales'), (3, 'Operations'), (4, 'Finance'))"
        " as t(hire_id, department)"
    )
    yield con
    con.close()


def _run(con, sql_select, scope, **kw):
    sql, params = scoped_sql(sql_select, scope, **kw)
    return sorted(r[0] for r in con.execute(sql, params).fetchall())


def test_scoped_sql_filters_in_the_query(warehouse):
    head = RowScope.for_user(_user("department_head", "Sales"))
    analyst = RowScope.for_user(_user("hr_analyst"))
    assert _run(warehouse, "select * from hires", head) == [1, 2]
    assert _run(warehouse, "select * from hires;", analyst) == [1, 2, 3, 4]
    sql, params = scoped_sql("select * from hires", analyst)
    assert (sql, params) == ("select * from hires", [])


@pytest.mark.parametrize(
    "sql_select",
    [
        "select * from hires where true or department <> 'Sales'",
        "select * from hires where department = 'Operations' union all select * from hires",
        "select * from hires -- trailing comment",
        "select hire_id, 'Sales' as dept, department from hires",
        "select * from hires where department in (select department from hires)",
    ],
)
def test_a_department_head_gets_only_their_rows_whatever_the_inner_query(warehouse, sql_select):
    head = RowScope.for_user(_user("department_head", "Sales"))
    assert _run(warehouse, sql_select, head) == [1, 2]


@pytest.mark.parametrize(
    "sql_select",
    [
        "select * from hires where department = 'x') union all (select * from hires",
        "select * from hires where department = 'x'); select * from hires; --",
        "select * from hires /* unterminated",
        "select * from hires where department = 'unterminated",
        "select $$)$$ from hires",
        "drop table hires",
        "select * from hires where department = 'a' ) or (1=1",
    ],
)
def test_queries_that_could_escape_the_wrapper_are_refused(sql_select):
    head = RowScope.for_user(_user("department_head", "Sales"))
    with pytest.raises(ValueError, match="unbalanced|single statement|unterminated|dollar-quoted|must start"):
        scoped_sql(sql_select, head)


def test_parentheses_and_semicolons_inside_literals_and_comments_are_fine(warehouse):
    head = RowScope.for_user(_user("department_head", "Sales"))
    sql_select = 'select * from hires as "h(" where department <> \');\' -- ) ;\n and "h(".hire_id > 0 /* ( */'
    assert _run(warehouse, sql_select, head) == [1, 2]


def test_department_column_must_be_a_plain_identifier(warehouse):
    head = RowScope.for_user(_user("department_head", "Sales"))
    with pytest.raises(ValueError, match="plain column name"):
        scoped_sql("select * from hires", head, department_column='department" or 1=1 --')
    warehouse.execute("create table teams as select hire_id, department as dept from hires")
    assert _run(warehouse, "select * from teams", head, department_column="dept") == [1, 2]


def test_inner_parameters_come_before_the_scope_parameter(warehouse):
    head = RowScope.for_user(_user("department_head", "Sales"))
    sql, params = scoped_sql("select * from hires where hire_id > ?", head, params=[1])
    assert params == [1, "Sales"]
    assert [r[0] for r in warehouse.execute(sql, params).fetchall()] == [2]
