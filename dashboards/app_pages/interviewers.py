"""Interviewers: does the AI rater agree with the human panel, per job family and competency?"""

import plotly.express as px
import streamlit as st

from dashboards import read

st.title("Interviewers")
st.caption("Agreement between the AI rater and the mean of the human interviewers on the same interviews.")

agreement = read.query(
    "select job_family, competency_code, r, ci_low, ci_high, n_interviews, model_version "
    "from ml.rater_agreement where n_interviews >= 5 order by job_family, competency_code"
)
if agreement.empty:
    st.info("No interviews with both AI and human ratings yet.")
else:
    families = sorted(agreement["job_family"].unique())
    chosen = st.multiselect("Job family", families, default=families)
    shown = agreement[agreement["job_family"].isin(chosen)]
    fig = px.bar(
        shown,
        x="competency_code",
        y="r",
        color="job_family",
        barmode="group",
        error_y=shown["ci_high"] - shown["r"],
        error_y_minus=shown["r"] - shown["ci_low"],
        labels={"r": "Pearson r (AI vs human panel)", "competency_code": "Competency", "job_family": "Job family"},
        range_y=[-1, 1],
    )
    st.plotly_chart(fig, width="stretch")
    st.dataframe(shown, hide_index=True, width="stretch")
    version = shown["model_version"].iloc[0] if len(shown) else "-"
    st.caption(f"Model version: {version}. Groups under 5 interviews are not shown.")
