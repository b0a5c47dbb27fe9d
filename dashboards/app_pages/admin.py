"""Administration: the accounts, their roles and departments; add, change role, disable or enable; the access
log. Every change is written to the access log with the acting administrator."""

import streamlit as st

from dashboards import admin, session, ui
from dashboards.auth import ROLES
from dashboards.i18n import LANGUAGES, LocalizedError, role_name

ctx = ui.page("admin")
state = session.app_state()
users = admin.users_frame(state)
c1, c2, c3 = st.columns(3)
c1.metric(ctx.t("label.users"), len(users))
c2.metric(ctx.t("kpi.active_users"), int((~users["disabled"]).sum()))
c3.metric(ctx.t("kpi.admins"), int(((users["role"] == "admin") & ~users["disabled"]).sum()))
ui.table(users.assign(role=users["role"].map(lambda r: role_name(r, ctx.lang))), ctx, "users")


def run(action, success_key: str) -> None:
    try:
        action()
    except LocalizedError as err:
        st.error(err.message(ctx.lang))
    else:
        st.success(ctx.t(success_key))
        st.rerun()


add, change, access = st.tabs([ctx.t("label.add_user"), ctx.t("label.change_user"), ctx.t("label.access_log")])
with add, st.form("add_user", clear_on_submit=True):
    username = st.text_input(ctx.t("label.username"))
    password = st.text_input(ctx.t("label.password"), type="password", help=ctx.t("help.password"))
    role = st.selectbox(ctx.t("label.role"), ROLES, format_func=lambda r: role_name(r, ctx.lang), key="add_role")
    department = st.text_input(ctx.t("label.department"), help=ctx.t("help.department"), key="add_department")
    language = st.selectbox(ctx.t("label.language"), LANGUAGES)
    if st.form_submit_button(ctx.t("label.add_user")):
        run(
            lambda: state.create_user(
                username, password, role, department=department or None, language=language, by=ctx.user.username
            ),
            "label.user_added",
        )

with change:
    who = st.selectbox(ctx.t("label.username"), list(users["username"]), key="change_user")
    current = users[users["username"] == who].iloc[0]
    with st.form("change_role"):
        new_role = st.selectbox(
            ctx.t("label.role"), ROLES, index=ROLES.index(current["role"]), format_func=lambda r: role_name(r, ctx.lang)
        )
        new_department = st.text_input(ctx.t("label.department"), value=current["department"] or "")
        if st.form_submit_button(ctx.t("label.change_role")):
            run(
                lambda: state.set_role(who, new_role, department=new_department or None, by=ctx.user.username),
                "label.role_changed",
            )
    if current["disabled"]:
        if st.button(ctx.t("label.enable_user")):
            run(lambda: state.enable_user(who, by=ctx.user.username), "label.user_enabled")
    elif st.button(ctx.t("label.disable_user"), disabled=who == ctx.user.username):
        run(lambda: state.disable_user(who, by=ctx.user.username), "label.user_disabled")

with access:
    ui.table(state.access_log(limit=500), ctx, "access_log", height=360)
