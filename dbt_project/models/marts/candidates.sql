{#- One row per analysable candidate (analytics consent, no erasure covering analytics), by pseudonymous key
    only. Self-reported gender and ethnicity are here for fairness audits; candidate-level, access-controlled. -#}
with

candidates as (

    select * from {{ ref('int_candidates_filtered') }}

),

applications as (

    select * from {{ ref('int_applications_pivoted') }}

),

resumes as (

    select * from {{ ref('stg_ats__resumes') }}

),

application_summary as (

    select
        candidate_key,
        count(*) as count_applications,
        min(coalesce(applied_at, first_event_at)) as first_applied_at,
        max(last_event_at) as last_activity_at,
        max(case when hired_at is not null then 1 else 0 end) = 1 as is_hired
    from applications
    group by candidate_key

),

resume_summary as (

    select
        candidate_key,
        count(*) as count_resumes
    from resumes
    group by candidate_key

),

final as (

    select
        candidates.candidate_key,
        candidates.gender,
        candidates.ethnicity,
        candidates.age_band,
        candidates.source_channel,
        candidates.region,
        candidates.consent_recording,
        candidates.is_recording_erased,
        candidates.consent_at,
        coalesce(application_summary.count_applications, 0) as count_applications,
        application_summary.first_applied_at,
        application_summary.last_activity_at,
        coalesce(application_summary.is_hired, false) as is_hired,
        coalesce(resume_summary.count_resumes, 0) as count_resumes
    from candidates
    left join application_summary
        on candidates.candidate_key = application_summary.candidate_key
    left join resume_summary
        on candidates.candidate_key = resume_summary.candidate_key

)

select * from final
