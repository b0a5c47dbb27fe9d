"""TalentLoop dashboards: one navigation over the pages in app_pages/."""

import streamlit as st

from dashboards import read

st.set_page_config(page_title="TalentLoop", layout="wide")

try:
    read.snapshot_path()
except read.NoSnapshot as exc:
    st.error(str(exc))
    st.stop()

pages = [
    st.Page("app_pages/interviewers.py", title="Interviewers", icon=":material/groups:", url_path="interviewers"),
]
st.navigation(pages).run()
