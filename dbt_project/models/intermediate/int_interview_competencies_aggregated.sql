{#- Interview features: per interview x competency, the mean normalised score over all raters, over the AI
    rater(s) only and over human raters only, with how many raters each mean rests on. Incremental the same
    way as interview_ratings: a changed interview is recomputed whole (delete+insert by interview_id). -#}
{{
    config(
        materialized='incremental',
        unique_key='interview_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=[
            "delete from {{ this }} where candidate_key not in
             (select candidate_key from {{ ref('int_candidates_filtered') }})"
        ]
    )
}}

with

ratings as (

    select * from {{ ref('int_interview_ratings_normalised') }}

),

scoped as (

    -- Incremental: only interviews with an input newer than the newest already built.
    select ratings.*
    from ratings
    {% if is_incremental() %}
        where ratings.interview_id in (
            select changed.interview_id
            from ratings as changed
            where changed._loaded_at_max > (
                select coalesce(max(built._loaded_at_max), {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }})
                from {{ this }} as built
            )
        )
    {% endif %}

),

aggregated as (

    select
        interview_id,
        competency_code,
        min(candidate_key) as candidate_key,
        avg(score_normalised) as score_mean,
        avg(case when rater_type = 'ai' then score_normalised end) as score_ai_mean,
        avg(case when rater_type = 'human' then score_normalised end) as score_human_mean,
        count(*) as count_raters,
        sum(case when rater_type = 'ai' then 1 else 0 end) as count_ai_raters,
        sum(case when rater_type = 'human' then 1 else 0 end) as count_human_raters,
        max(_loaded_at_max) as _loaded_at_max
    from scoped
    group by interview_id, competency_code

)

select * from aggregated
