"""Streamlit glue for who is looking: login, session expiry, language, the pages their role opens, their row scope."""

from __future__ import annotations

import datetime as dt
import math
import time

import streamlit as st

from dashboards.app_state import AppState, User
from dashboards.auth import LoginPolicy, RowScope, allowed_pages, bootstrap_message, login
from dashboards.i18n import t
from ingestion.settings import Settings

USER_KEY = "talentloop_user"
# When the session logged in and when it last did anything (seconds since the epoch), for idle and absolute expiry.
LOGIN_AT_KEY = "talentloop_login_at"
SEEN_AT_KEY = "talentloop_seen_at"
EXPIRED_KEY = "talentloop_expired"


def app_state() -> AppState:
    """The app store of the current data home (one shared instance per store file)."""
    return _app_state(str(Settings.from_env().ensure().app_state))


@st.cache_resource
def _app_state(path: str) -> AppState:
    return AppState(path)


def current_user() -> User | None:
    """The logged-in user, re-read on every rerun so a disabled account or a role change applies at once; None once
    the session has been idle or open too long (LoginPolicy), which logs it out."""
    name = st.session_state.get(USER_KEY)
    if not name:
        return None
    now = time.time()
    # The login form sets both times; a session given a user some other way (a test) starts its clock now.
    logged_in_at = st.session_state.setdefault(LOGIN_AT_KEY, now)
    expired = LoginPolicy.from_env().session_expired(logged_in_at, st.session_state.get(SEEN_AT_KEY, now), now)
    if expired:
        end_session(f"session_expired_{expired}")
        st.session_state[EXPIRED_KEY] = expired
        return None
    st.session_state[SEEN_AT_KEY] = now
    user = app_state().get_user(name)
    if user is None or user.disabled:
        end_session()
        return None
    return user


def end_session(action: str | None = None) -> None:
    """Forget who is logged in (and write `action`, e.g. 'logout', to the access log for them)."""
    name = st.session_state.pop(USER_KEY, None)
    for key in (LOGIN_AT_KEY, SEEN_AT_KEY):
        st.session_state.pop(key, None)
    if name and action and app_state().get_user(name) is not None:
        app_state().log_access(name, "login", action)


def client_address() -> str | None:
    """The browser's address as the server sees it; None for a local connection or outside a browser session."""
    try:
        address = st.context.ip_address
    except Exception:  # no script run context (bare mode)
        return None
    return address if isinstance(address, str) and address else None


def language() -> str:
    user = current_user()
    return st.session_state.get("lang") or (user.language if user else "en")


def login_form() -> None:
    lang = st.session_state.get("lang", "en")
    st.title(t("app.title", lang))
    st.caption(t("app.subtitle", lang))
    message = bootstrap_message(app_state())
    if message:
        st.info(message)
    expired = st.session_state.pop(EXPIRED_KEY, None)
    if expired:
        st.warning(t("label.session_expired", lang))
    with st.form("login"):
        username = st.text_input(t("label.username", lang))
        password = st.text_input(t("label.password", lang), type="password")
        if st.form_submit_button(t("label.login", lang)):
            result = login(app_state(), username, password, client_address())
            if result.status == "locked":
                wait = (result.locked_until - dt.datetime.now(dt.UTC)).total_seconds() if result.locked_until else 60
                st.error(t("label.login_locked", lang, minutes=max(1, math.ceil(wait / 60))))
            elif result.user is None:
                st.error(t("label.login_failed", lang))
            else:
                now = time.time()
                st.session_state[USER_KEY] = result.user.username
                st.session_state[LOGIN_AT_KEY] = now
                st.session_state[SEEN_AT_KEY] = now
                st.session_state["lang"] = result.user.language
                st.rerun()


def sidebar(user: User) -> None:
    lang = language()
    with st.sidebar:
        st.caption(
            f"{user.username} · {t('role.' + user.role, lang)}" + (f" · {user.department}" if user.department else "")
        )
        chosen = st.selectbox(
            t("label.language", lang),
            ["en", "zh-CN"],
            index=["en", "zh-CN"].index(lang),
            format_func=lambda code: {"en": "English", "zh-CN": "简体中文"}[code],
            key="lang_select",
        )
        if chosen != lang:
            st.session_state["lang"] = chosen
            app_state().set_language(user.username, chosen)
            st.rerun()
        if st.button(t("label.logout", lang)):
            end_session("logout")
            st.rerun()


def require_user() -> User:
    """Inside a page: the user, or stop the page (the app's login runs first, so this is a second lock)."""
    user = current_user()
    if user is None:
        st.stop()
    return user


def row_scope() -> RowScope:
    return RowScope.for_user(require_user())


def pages_for(user: User) -> tuple[str, ...]:
    return allowed_pages(user)
