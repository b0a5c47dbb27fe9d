"""TalentLoop dashboards: login, then one navigation over the pages the user's role opens."""

import streamlit as st

from dashboards import read, session
from dashboards.i18n import page_title

st.set_page_config(page_title="TalentLoop", layout="wide")

PAGE_FILES = {
    "interviewers": ("app_pages/interviewers.py", ":material/groups:"),
}

user = session.current_user()
if user is None:
    st.navigation([st.Page(session.login_form, title="Login", url_path="login")], position="hidden").run()
    st.stop()

session.sidebar(user)
try:
    read.snapshot_path()
except read.NoSnapshot as exc:
    st.error(str(exc))
    st.stop()

lang = session.language()
pages = [
    st.Page(path, title=page_title(name, lang), icon=icon, url_path=name)
    for name, (path, icon) in PAGE_FILES.items()
    if name in session.pages_for(user)
]
st.navigation(pages).run()
