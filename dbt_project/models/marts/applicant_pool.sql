{#- One row per candidate x job family: the candidate's latest completed, scored interview for that family, with
    the candidate's self-reported sex and ethnicity (fairness audits only) and whether they were hired into the
    family. The weight model takes its unrestricted score SDs from this pool and simulates selection on it; the
    review desk scores an edited weighting on the same rows, so both judge a weighting on one population. -#}
with

interviews as (

    select * from {{ ref('interviews') }}

),

candidates as (

    select * from {{ ref('candidates') }}

),

hires as (

    select * from {{ ref('hires') }}

),

scored_interviews_ranked as (

    select
        interviews.*,
        row_number() over (
            partition by interviews.candidate_key, interviews.job_family
            order by interviews.started_at desc, interviews.interview_id desc
        ) as pool_rank
    from interviews
    where interviews.is_completed and interviews.composite_score is not null

),

hired_into_family as (

    select distinct
        candidate_key,
        job_family
    from hires
    where candidate_key is not null

),

final as (

    select
        ranked.interview_id,
        ranked.application_id,
        ranked.candidate_key,
        ranked.requisition_id,
        ranked.job_family,
        ranked.department,
        ranked.requisition_region,
        ranked.started_at,
        ranked.ended_at,
        ranked.duration_minutes,
        ranked.attempt_number,
        ranked.interview_mode,
        ranked.interview_status,
        ranked.is_completed,
        ranked.is_technical_failure,
        ranked.vendor,
        ranked.jurisdiction,
        ranked.count_raters,
        ranked.count_human_raters,
        ranked.count_ai_raters,
        ranked.count_ratings,
        ranked.count_competencies_scored,
        {%- for competency in var('competencies') %}
            ranked.score_{{ competency }},
        {%- endfor %}
        ranked.composite_score,
        ranked.weights_valid_from,
        ranked.composite_quintile,
        candidates.gender,
        candidates.ethnicity,
        hired_into_family.candidate_key is not null as hired
    from scored_interviews_ranked as ranked
    inner join candidates
        on ranked.candidate_key = candidates.candidate_key
    left join hired_into_family
        on
            ranked.candidate_key = hired_into_family.candidate_key
            and ranked.job_family = hired_into_family.job_family
    where ranked.pool_rank = 1

)

select * from final
