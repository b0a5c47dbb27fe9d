{#- One row per human rater id: how much they interviewed and scored, and their overall calibration (the 'all'
    row of interviewer_calibration: needs_calibration is that row's flag; count_competencies_flagged counts the
    single competencies flagged). The AI raters are vendors, not interviewers, and are left out. -#}
with

ratings as (

    select * from {{ ref('interview_ratings') }}

),

calibration as (

    select * from {{ ref('interviewer_calibration') }}

),

activity as (

    select
        rater_id,
        count(distinct interview_id) as count_interviews,
        count(*) as count_ratings,
        count(distinct candidate_key) as count_candidates,
        count(distinct job_family) as count_job_families,
        count(distinct competency_code) as count_competencies,
        min(scored_at) as first_scored_at,
        max(scored_at) as last_scored_at,
        avg(score_normalised) as mean_score
    from ratings
    where rater_type = 'human'
    group by rater_id

),

flags as (

    select
        rater_id,
        sum(case when needs_calibration and competency_code != 'all' then 1 else 0 end)
            as count_competencies_flagged
    from calibration
    group by rater_id

),

overall as (

    select * from calibration
    where competency_code = 'all'

),

final as (

    select
        activity.rater_id,
        activity.count_interviews,
        activity.count_ratings,
        activity.count_candidates,
        activity.count_job_families,
        activity.count_competencies,
        activity.first_scored_at,
        activity.last_scored_at,
        activity.mean_score,
        overall.leniency,
        overall.agreement_r,
        overall.calibration_status,
        coalesce(overall.needs_calibration, false) as needs_calibration,
        coalesce(flags.count_competencies_flagged, 0) as count_competencies_flagged
    from activity
    left join overall
        on activity.rater_id = overall.rater_id
    left join flags
        on activity.rater_id = flags.rater_id

)

select * from final
