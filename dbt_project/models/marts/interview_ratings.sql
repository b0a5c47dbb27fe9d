with

ratings as (

    select * from {{ ref('int_interview_ratings_normalised') }}

),

requisitions as (

    select * from {{ ref('stg_ats__requisitions') }}

),

final as (

    select
        {{ dbt.hash(dbt.concat(["ratings.interview_id", "'|'", "ratings.rater_id", "'|'", "ratings.competency_code"])) }}
            as interview_rating_id,
        ratings.interview_id,
        ratings.rater_id,
        ratings.rater_type,
        ratings.competency_code,
        ratings.competency_label,
        ratings.score_raw,
        ratings.scale_min,
        ratings.scale_max,
        ratings.score_normalised,
        ratings.scored_at,
        ratings.model_version,
        ratings.candidate_key,
        ratings.application_id,
        ratings.requisition_id,
        requisitions.job_family,
        requisitions.department,
        requisitions.region
    from ratings
    left join requisitions
        on ratings.requisition_id = requisitions.requisition_id

)

select * from final
