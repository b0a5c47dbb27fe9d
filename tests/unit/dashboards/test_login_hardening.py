"""Attacks on the login: guessing, a guess flood, weak passwords, abandoned sessions, old hashes; and the audit log.

Each test performs the attack through the same code the login form uses (auth.login) or through the form itself
(Streamlit's AppTest), and checks what the attacker gets and what the login log records.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sqlite3
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards import auth, session, users
from dashboards.app_state import AppState
from dashboards.auth import LoginPolicy, check_password_policy, login, login_attempts, scrypt_hash, unlock
from dashboards.i18n import LocalizedError

PASSWORD = "correct horse battery staple"
ATTACKER = "203.0.113.9"
APP = Path(__file__).resolve().parents[3] / "dashboards" / "streamlit_app.py"


class Clock:
    def __init__(self):
        self.now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def state(tmp_path, clock):
    s = AppState(tmp_path / "app_state.sqlite", clock=clock)
    s.create_user("admin", PASSWORD, "admin")
    s.create_user("ana", PASSWORD, "hr_analyst")
    return s


def outcomes(state: AppState, username: str | None = None) -> list[str]:
    return [a["outcome"] for a in reversed(login_attempts(state)) if username is None or a["username"] == username]


# guessing


def test_thirty_wrong_passwords_then_the_right_one_does_not_log_in(state, clock):
    for i in range(30):
        result = login(state, "admin", f"guess number {i} of thirty", ATTACKER)
        assert result.user is None
        clock.advance(seconds=1)
    result = login(state, "admin", PASSWORD, ATTACKER)
    assert result.user is None and result.status == "locked"
    assert result.locked_until == dt.datetime(2026, 3, 2, 9, 15, 4, tzinfo=dt.UTC), "15 minutes from the 5th failure"
    # Only five passwords were ever checked: everything after the lock is refused unseen.
    assert outcomes(state) == ["failure"] * 5 + ["locked"] * 26
    assert list(state.access_log(username="admin")["action"])[:2] == ["login_locked", "login_locked"]


def test_the_lock_ends_after_fifteen_minutes_and_a_success_restarts_the_count(state, clock):
    for _ in range(5):
        login(state, "admin", "not the password at all", ATTACKER)
    clock.advance(minutes=14)
    assert login(state, "admin", PASSWORD).status == "locked"
    clock.advance(minutes=2)
    assert login(state, "admin", PASSWORD).user is not None
    for _ in range(4):
        login(state, "admin", "not the password at all")
    assert login(state, "admin", PASSWORD).user is not None, "four failures after a success do not lock"


def test_failures_spread_wider_than_the_window_do_not_lock(state, clock):
    for _ in range(12):
        assert login(state, "ana", "a wrong but long guess").status == "failed"
        clock.advance(minutes=4)
    assert login(state, "ana", PASSWORD).user is not None


def test_unknown_names_lock_the_same_way_so_a_lock_reveals_nothing(state):
    for _ in range(5):
        assert login(state, "ghost", PASSWORD, ATTACKER).status == "failed"
    assert login(state, "ghost", PASSWORD, ATTACKER).status == "locked"
    assert outcomes(state, "ghost") == ["unknown_user"] * 5 + ["locked"]
    # Something that cannot be a username (a password typed in the wrong box) is logged, but not as typed.
    login(state, "Tr0ub4dor&3 is my password", PASSWORD, ATTACKER)
    assert login_attempts(state, limit=1)[0]["username"] == auth.INVALID_USERNAME


def test_one_address_guessing_many_names_is_locked(state, clock):
    for i in range(20):
        login(state, f"user{i:02d}", "a wrong but long guess", ATTACKER)
    refused = login(state, "admin", PASSWORD, ATTACKER)
    assert refused.status == "locked", "the right password from the guessing address is refused too"
    assert login(state, "admin", PASSWORD, "198.51.100.7").user is not None, "another address is not affected"
    assert login(state, "ana", PASSWORD, ATTACKER).status == "locked", "a success elsewhere does not reset it"
    assert unlock(state, source=ATTACKER) == 1
    assert login(state, "ana", PASSWORD, ATTACKER).user is not None


def test_a_lock_survives_a_restart(state, tmp_path, clock):
    for _ in range(5):
        login(state, "admin", "not the password at all", ATTACKER)
    restarted = AppState(tmp_path / "app_state.sqlite", clock=clock)
    assert login(restarted, "admin", PASSWORD).status == "locked"


def test_a_flood_of_parallel_guesses_gets_no_more_than_the_limit_checked(state):
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda i: login(state, "admin", f"parallel guess {i:02d}", ATTACKER), range(24)))
    assert all(r.user is None for r in results)
    assert outcomes(state).count("failure") <= 5, "a guess is counted while its password is being checked"
    assert login(state, "admin", PASSWORD).status == "locked"


def test_an_administrator_unlocks_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TALENTLOOP_HOME", str(tmp_path))
    state = AppState(tmp_path / "app_state.sqlite")
    state.create_user("admin", PASSWORD, "admin")
    for _ in range(5):
        login(state, "admin", "not the password at all", ATTACKER)
    assert login(state, "admin", PASSWORD).status == "locked"
    assert users.main(["unlock", "--username", "admin"]) == 0
    assert "1 active lock" in capsys.readouterr().out
    assert login(state, "admin", PASSWORD).user is not None
    assert users.main(["attempts", "--limit", "3"]) == 0
    printed = capsys.readouterr().out
    assert "success" in printed and "unlocked" in printed


def test_the_policy_reads_its_environment():
    policy = LoginPolicy.from_env({"TALENTLOOP_LOGIN_MAX_FAILURES": "3", "TALENTLOOP_SESSION_IDLE_MINUTES": "10"})
    assert (policy.max_failures, policy.idle_minutes, policy.lockout_minutes, policy.absolute_hours) == (3, 10, 15, 12)
    with pytest.raises(ValueError, match="TALENTLOOP_LOGIN_LOCKOUT_MINUTES"):
        LoginPolicy.from_env({"TALENTLOOP_LOGIN_LOCKOUT_MINUTES": "forever"})


# the audit log


def test_every_attempt_is_logged_with_who_what_when_and_where(state, clock):
    login(state, "admin", PASSWORD, ATTACKER)
    clock.advance(seconds=5)
    login(state, "admin", "not the password at all", ATTACKER)
    login(state, "nobody", PASSWORD, None)
    state.disable_user("ana")
    login(state, "ana", PASSWORD, "198.51.100.7")
    rows = list(reversed(login_attempts(state)))
    assert [(r["username"], r["known"], r["source"], r["outcome"]) for r in rows] == [
        ("admin", 1, ATTACKER, "success"),
        ("admin", 1, ATTACKER, "failure"),
        ("nobody", 0, None, "unknown_user"),
        ("ana", 1, "198.51.100.7", "disabled"),
    ]
    assert rows[0]["at"] == "2026-03-02T09:00:00.000000+00:00"


def test_the_login_log_cannot_be_rewritten(state):
    login(state, "admin", "not the password at all", ATTACKER)
    with sqlite3.connect(state.path) as conn:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("update login_attempts set outcome = 'success'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("delete from login_attempts")


# passwords


@pytest.mark.parametrize(
    "weak",
    [
        "aaaaaaaaaaaaaaa",
        "password1234567",
        "123456789012345",
        "qwertyuiopasdfgh",
        "iloveyouiloveyou",
        "Summer2024Summer2024",
    ],
)
def test_common_repeated_and_sequential_passwords_are_refused(tmp_path, weak):
    s = AppState(tmp_path / "s.sqlite")
    with pytest.raises(LocalizedError) as err:
        s.create_user("zed", weak, "hr_analyst")
    assert err.value.key == "error.password_weak"
    s.create_user("zed", "violet tundra kettle 42", "hr_analyst")
    with pytest.raises(LocalizedError):
        s.set_password("zed", weak)


def test_the_username_counts_as_a_known_word(tmp_path, monkeypatch):
    check_password_policy("correct-horse-battery-staple", user_inputs=["zed"])
    with pytest.raises(LocalizedError):
        check_password_policy("talentlooptalentloop")
    monkeypatch.setenv("TALENTLOOP_HOME", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("lopez.lopez.lopez\n"))
    assert users.main(["add", "--username", "ana.lopez", "--role", "hr_analyst", "--password-stdin"]) == 2


def test_an_old_scrypt_hash_is_upgraded_to_argon2id_at_the_next_successful_login(state):
    with sqlite3.connect(state.path) as conn:
        conn.execute("update users set password_hash = ? where username = 'ana'", (scrypt_hash(PASSWORD),))
    login(state, "ana", "not the password at all")
    assert state.password_hash("ana").startswith("scrypt$"), "a failed login changes nothing"
    assert login(state, "ana", PASSWORD).user is not None
    assert state.password_hash("ana").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert login(state, "ana", PASSWORD).user is not None


def test_an_account_with_a_password_from_before_the_rule_still_logs_in_and_is_upgraded(state):
    with sqlite3.connect(state.path) as conn:
        conn.execute("update users set password_hash = ? where username = 'ana'", (scrypt_hash("aaaaaaaaaaaaaaa"),))
    assert login(state, "ana", "aaaaaaaaaaaaaaa").user is not None
    assert not auth.needs_rehash(state.password_hash("ana"))


# sessions


def test_session_expiry_rules():
    policy = LoginPolicy()
    t0 = 1_000_000.0
    assert policy.session_expired(t0, t0 + 29 * 60, t0 + 30 * 60) is None
    assert policy.session_expired(t0, t0, t0 + 31 * 60) == "idle"
    assert policy.session_expired(t0, t0 + 12 * 3600, t0 + 12 * 3600 + 1) == "absolute", "busy all day still ends"
    assert LoginPolicy(idle_minutes=5).session_expired(t0, t0, t0 + 6 * 60) == "idle"


@pytest.fixture
def app_home(tmp_path, monkeypatch):
    # AppTest leaves the app script as sys.modules["__main__"]; a later spawned worker pool (the ingest readers of
    # the session's pipeline build) would then run the dashboard in each worker as it starts.
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    monkeypatch.setenv("TALENTLOOP_HOME", str(tmp_path))
    state = AppState(tmp_path / "app_state.sqlite")
    state.create_user("admin", PASSWORD, "admin")
    return state


def submit(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_login_form_refuses_the_right_password_after_five_wrong_ones(app_home):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    for i in range(5):
        submit(at, "admin", f"wrong password number {i}")
        assert any("Wrong username or password" in e.value for e in at.error)
    submit(at, "admin", PASSWORD)
    assert session.USER_KEY not in at.session_state
    assert any("Too many failed attempts" in e.value and "15 minutes" in e.value for e in at.error)


def test_the_login_form_logs_in_and_an_idle_or_old_session_is_logged_out(app_home):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    submit(at, "admin", PASSWORD)
    assert at.session_state[session.USER_KEY] == "admin"
    at.session_state[session.SEEN_AT_KEY] = time.time() - 31 * 60
    at.run()
    assert session.USER_KEY not in at.session_state
    assert any("session has ended" in w.value for w in at.warning)
    assert [t.value for t in at.title] == ["TalentLoop"], "back on the login form"

    submit(at, "admin", PASSWORD)
    at.session_state[session.LOGIN_AT_KEY] = time.time() - 12 * 3600 - 60
    at.run()
    assert session.USER_KEY not in at.session_state
    actions = list(app_home.access_log(username="admin")["action"])
    assert actions[:4] == ["session_expired_absolute", "login", "session_expired_idle", "login"]


# page errors


def test_a_page_error_shows_an_incident_id_and_keeps_the_traceback_in_the_server_log(app_home, monkeypatch, caplog):
    from dashboards import read, ui

    secret = "select full_name from pii where email = 'ann@example.com' -- /srv/talentloop/restricted/pii.duckdb"

    def failing_page(name: str):
        raise RuntimeError(secret)

    monkeypatch.setattr(read, "snapshot_path", lambda: app_home.path)
    monkeypatch.setattr(ui, "page", failing_page)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state[session.USER_KEY] = "admin"
    with caplog.at_level("ERROR", logger="talentloop.dashboards"):
        at.run()
    assert len(at.exception) == 1
    shown = at.exception[0]
    incident = re.search(r"incident ([0-9A-F]{8})", shown.message)
    assert incident, shown.message
    assert "pii" not in shown.message and "RuntimeError" not in shown.message and shown.stack_trace == []
    logged = [r for r in caplog.records if incident.group(1) in r.getMessage()]
    assert len(logged) == 1 and "user admin on page overview" in logged[0].getMessage()
    assert logged[0].exc_info and secret in str(logged[0].exc_info[1]), "the full error is in the server log"
