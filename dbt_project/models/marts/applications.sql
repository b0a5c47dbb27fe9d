{#- One row per application of an analysable candidate: when each stage was reached, how long each step
    took (in days, with the fraction), how far it got and how it ended. -#}
with

pivoted as (

    select * from {{ ref('int_applications_pivoted') }}

),

candidates as (

    select * from {{ ref('int_candidates_filtered') }}

),

requisitions as (

    select * from {{ ref('stg_ats__requisitions') }}

),

interviews as (

    select * from {{ ref('int_interviews_scored') }}

),

applications as (

    select
        *,
        coalesce(screened_in_at, screened_out_at) as screened_at,
        coalesce(offer_accepted_at, offer_declined_at) as offer_answered_at,
        coalesce(applied_at, first_event_at) as applied_or_first_at
    from pivoted

),

interview_counts as (

    select
        application_id,
        count(*) as count_interviews,
        sum(case when interview_status = 'completed' then 1 else 0 end) as count_interviews_completed,
        sum(case when interview_status = 'technical_failure' then 1 else 0 end) as count_technical_failures,
        sum(case when interview_status = 'abandoned' then 1 else 0 end) as count_interviews_abandoned,
        min(started_at) as first_interview_started_at
    from interviews
    group by application_id

),

stages as (

    {{ funnel_stages_relation() }}

),

joined as (

    select
        applications.application_id,
        applications.candidate_key,
        applications.requisition_id,
        requisitions.job_family,
        requisitions.department,
        requisitions.region as requisition_region,
        candidates.region as candidate_region,
        candidates.source_channel,
        applications.applied_at,
        cast({{ dbt.date_trunc('month', 'applications.applied_or_first_at') }} as date) as applied_month,
        applications.screened_in_at,
        applications.screened_out_at,
        applications.interview_invited_at,
        interview_counts.first_interview_started_at,
        applications.interview_completed_at,
        applications.offer_made_at,
        applications.offer_accepted_at,
        applications.offer_declined_at,
        applications.hired_at,
        applications.rejected_at,
        applications.withdrawn_at,
        applications.terminal_event,
        applications.terminal_at,
        coalesce(applications.terminal_event, 'open') as outcome,
        applications.furthest_stage_order,
        stages.stage_name as furthest_stage,
        coalesce(interview_counts.count_interviews, 0) as count_interviews,
        coalesce(interview_counts.count_interviews_completed, 0) as count_interviews_completed,
        coalesce(interview_counts.count_technical_failures, 0) as count_technical_failures,
        coalesce(interview_counts.count_interviews_abandoned, 0) as count_interviews_abandoned,
        applications.count_offers,
        {{ days_between('applications.applied_at', 'applications.screened_at') }}
            as days_to_screen,
        {{ days_between('applications.applied_at', 'applications.interview_invited_at') }} as days_to_invite,
        {{ days_between('applications.applied_at', 'applications.interview_completed_at') }}
            as days_to_interview_completed,
        {{ days_between('applications.applied_at', 'applications.offer_made_at') }} as days_to_offer,
        {{ days_between('applications.offer_made_at', 'applications.offer_answered_at') }}
            as days_offer_to_response,
        {{ days_between('applications.applied_at', 'applications.hired_at') }} as days_to_hire,
        {{ days_between('applications.applied_at', 'applications.terminal_at') }} as days_to_close
    from applications
    inner join candidates
        on applications.candidate_key = candidates.candidate_key
    left join requisitions
        on applications.requisition_id = requisitions.requisition_id
    left join interview_counts
        on applications.application_id = interview_counts.application_id
    left join stages
        on applications.furthest_stage_order = stages.stage_order

)

select * from joined
