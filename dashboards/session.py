"""Streamlit glue for who is looking: login, language, the pages their role opens, their row scope."""

from __future__ import annotations

import streamlit as st

from dashboards.app_state import AppState, User
from dashboards.auth import RowScope, allowed_pages, authenticate, bootstrap_message
from dashboards.i18n import t
from ingestion.settings import Settings

USER_KEY = "talentloop_user"


def app_state() -> AppState:
    """The app store of the current data home (one shared instance per store file)."""
    return _app_state(str(Settings.from_env().ensure().app_state))


@st.cache_resource
def _app_state(path: str) -> AppState:
    return AppState(path)


def current_user() -> User | None:
    """The logged-in user, re-read on every rerun so a disabled account or a role change applies at once."""
    name = st.session_state.get(USER_KEY)
    if not name:
        return None
    user = app_state().get_user(name)
    if user is None or user.disabled:
        st.session_state.pop(USER_KEY, None)
        return None
    return user


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
    with st.form("login"):
        username = st.text_input(t("label.username", lang))
        password = st.text_input(t("label.password", lang), type="password")
        if st.form_submit_button(t("label.login", lang)):
            user = authenticate(app_state(), username, password)
            if user is None:
                st.error(t("label.login_failed", lang))
            else:
                st.session_state[USER_KEY] = user.username
                st.session_state["lang"] = user.language
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
            st.session_state.pop(USER_KEY, None)
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
