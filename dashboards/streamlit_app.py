"""TalentLoop dashboards: login, then one navigation over the pages the user's role opens."""

import streamlit as st

from dashboards import read, session, ui
from dashboards.i18n import page_title

st.set_page_config(page_title="TalentLoop", layout="wide")
# A traceback names files, queries and values: the browser gets none, even for an error that escapes main() below.
st.set_option("client.showErrorDetails", "none")

# Navigation order is auth.PAGES; each role sees the pages auth.ROLE_PAGES gives it (session.pages_for).
PAGE_FILES = {
    "overview": ("app_pages/overview.py", ":material/dashboard:"),
    "funnel": ("app_pages/funnel.py", ":material/filter_alt:"),
    "quality_of_hire": ("app_pages/quality_of_hire.py", ":material/trending_up:"),
    "retention": ("app_pages/retention.py", ":material/timeline:"),
    "complaints": ("app_pages/complaints.py", ":material/report:"),
    "interviewers": ("app_pages/interviewers.py", ":material/groups:"),
    "talent_pool": ("app_pages/talent_pool.py", ":material/person_search:"),
    "weight_review": ("app_pages/weight_review.py", ":material/balance:"),
    "fairness_audit": ("app_pages/fairness_audit.py", ":material/gavel:"),
    "data_quality": ("app_pages/data_quality.py", ":material/fact_check:"),
    "admin": ("app_pages/admin.py", ":material/admin_panel_settings:"),
}
# The page being drawn, for the server log if it fails.
current = {"page": "login"}


def main() -> None:
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
    pages = {
        name: st.Page(path, title=page_title(name, lang), icon=icon, url_path=name)
        for name in session.pages_for(user)
        for path, icon in [PAGE_FILES[name]]
    }
    page = st.navigation(list(pages.values()))
    current["page"] = next((name for name, p in pages.items() if p is page), "-")
    page.run()


try:
    main()
except Exception as exc:  # st.stop() and st.rerun() are BaseExceptions and pass through to Streamlit
    ui.report_incident(exc, current["page"])
