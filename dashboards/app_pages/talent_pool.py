"""Talent pool: search past candidates by competency strength, job family, region and recency; open one
candidate's profile (scores, tags, and the transcript moments behind each tag). Every profile view is logged."""

import datetime as dt

import streamlit as st

from dashboards import charts, queries, ui
from dashboards.talent import (
    STRONG_SCORE,
    display_tags,
    keyword_tags,
    log_profile_view,
    moments,
    profile_scores,
    strength_tags,
)

ctx = ui.page("talent_pool")
competencies = queries.competencies()
with st.form("talent_search"):
    f1, f2 = st.columns([2, 1])
    strengths = f1.multiselect(ctx.t("label.strong_in"), competencies, format_func=ctx.competency)
    min_score = f2.slider(ctx.t("label.min_score"), 0.5, 1.0, 0.75, 0.05)
    f3, f4, f5 = st.columns(3)
    families = f3.multiselect(ctx.t("label.job_family"), queries.job_families(ctx.scope), format_func=ctx.family)
    regions = f4.multiselect(ctx.t("label.region"), queries.talent_pool_regions(ctx.scope))
    months = f5.selectbox(
        ctx.t("label.active_within"),
        [None, 3, 6, 12, 24],
        format_func=lambda m: ctx.t("label.any_time") if m is None else ctx.t("label.months", n=m),
    )
    st.form_submit_button(ctx.t("label.search"))

since = None if months is None else queries.as_of_date() - dt.timedelta(days=30 * months)
matches, counts = queries.talent_search(ctx.scope, strengths, min_score, families, regions, since)
total = int(counts["n"].sum()) if len(counts) else 0
st.caption(ctx.t("label.matches", n=total, shown=len(matches)))
if matches.empty:
    st.info(ctx.t("label.no_data"))
    st.stop()
ui.chart(charts.talent_counts(counts, ctx))
columns = [
    "candidate_key",
    "job_family",
    "department",
    "region",
    "composite_score",
    "count_strong_competencies",
    "tags",
    "last_outcome",
    "last_activity_date",
]
ui.table(matches[columns].assign(tags=matches["tags"].map(lambda v: display_tags(v, ctx))), ctx, "matches", height=300)

st.subheader(ctx.t("label.candidate_profile"))
key = st.selectbox(
    ctx.t("label.candidate"),
    [None, *matches["candidate_key"]],
    format_func=lambda k: ctx.t("label.choose_candidate") if k is None else k,
)
if key is None:
    st.stop()
profile = queries.candidate_profile(ctx.scope, key)
if profile.empty:
    st.warning(ctx.t("label.not_in_scope"))
    st.stop()
log_profile_view(ctx.user, key)
row = profile.iloc[0]
p1, p2, p3, p4 = st.columns(4)
p1.metric(ctx.t("label.job_family"), ctx.family(row["job_family"]))
p2.metric(
    ctx.t("col.composite_score"),
    f"{row['composite_score']:.2f}" if row["composite_score"] == row["composite_score"] else "–",
)
p3.metric(ctx.t("col.region"), row["region"] or "–")
p4.metric(ctx.t("col.last_activity_date"), str(row["last_activity_date"])[:10])
evidence = ui.load(ctx, lambda: queries.keyword_evidence(ctx.scope, key))
left, right = st.columns([1, 1])
with left:
    ui.chart(charts.profile_scores(profile_scores(row, competencies), STRONG_SCORE, ctx))
with right:
    st.markdown(f"**{ctx.t('label.tags')}**")
    for tag in strength_tags(row, ctx) or [ctx.t("tag.none")]:
        st.markdown(f"- {tag}")

st.markdown(f"**{ctx.t('label.transcript_moments')}**")
if evidence is not None:
    if evidence.empty:
        st.caption(ctx.t("label.no_moments"))
    for tag, rows in keyword_tags(evidence, ctx):
        with st.expander(tag):
            st.dataframe(
                ui.labelled(moments(rows).drop(columns="competency_code"), ctx), hide_index=True, width="stretch"
            )
    if not evidence.empty:
        ui.downloads(ui.labelled(ui.translate_codes(moments(evidence), ctx), ctx), ctx, "moments")
st.caption(ctx.t("label.access_logged"))
