{#- One row per interview (one attempt) of an analysable candidate: completion status, per-competency mean
    normalised scores over all raters (0-1), the composite under the weights in force on its start day, and
    its quintile band within the job family's scored interviews.
    count_raters = distinct raters (AI or human) who scored at least one competency;
    count_ratings = rating rows (rater x competency), i.e. rows of interview_ratings for this interview. -#}
with

interviews as (

    select * from {{ ref('int_interviews_scored') }}

),

ratings as (

    select * from {{ ref('interview_ratings') }}

),

rating_counts as (

    select
        interview_id,
        count(distinct rater_id) as count_raters,
        count(distinct case when rater_type = 'human' then rater_id end) as count_human_raters,
        count(distinct case when rater_type = 'ai' then rater_id end) as count_ai_raters,
        count(*) as count_ratings
    from ratings
    group by interview_id

),

final as (

    select
        interviews.interview_id,
        interviews.application_id,
        interviews.candidate_key,
        interviews.requisition_id,
        interviews.job_family,
        interviews.department,
        interviews.requisition_region,
        interviews.started_at,
        interviews.ended_at,
        {{ dbt.datediff('interviews.started_at', 'interviews.ended_at', 'second') }}
        / 60.0 as duration_minutes,
        row_number() over (
            partition by interviews.application_id
            order by interviews.started_at, interviews.interview_id
        ) as attempt_number,
        interviews.interview_mode,
        interviews.interview_status,
        interviews.interview_status = 'completed' as is_completed,
        interviews.interview_status = 'technical_failure' as is_technical_failure,
        interviews.vendor,
        interviews.jurisdiction,
        coalesce(rating_counts.count_raters, 0) as count_raters,
        coalesce(rating_counts.count_human_raters, 0) as count_human_raters,
        coalesce(rating_counts.count_ai_raters, 0) as count_ai_raters,
        coalesce(rating_counts.count_ratings, 0) as count_ratings,
        interviews.count_competencies_scored,
        {%- for competency in var('competencies') %}
            interviews.score_{{ competency }},
        {%- endfor %}
        interviews.composite_score,
        interviews.weights_valid_from,
        interviews.composite_quintile
    from interviews
    left join rating_counts
        on interviews.interview_id = rating_counts.interview_id

)

select * from final
