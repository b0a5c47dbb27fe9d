{#- Incremental: each build recomputes every rating of an interview whose scores, interview row, candidate or
    requisition landed after the newest input already in the table (delete+insert by interview), then drops
    ratings of candidates who have left the analysable set. A --full-refresh gives the same rows. -#}
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

final as (

    select
        {{ dbt.hash(dbt.concat(["interview_id", "'|'", "rater_id", "'|'", "competency_code"])) }}
            as interview_rating_id,
        interview_id,
        rater_id,
        rater_type,
        competency_code,
        competency_label,
        score_raw,
        scale_min,
        scale_max,
        score_normalised,
        scored_at,
        model_version,
        candidate_key,
        application_id,
        requisition_id,
        job_family,
        department,
        region,
        _loaded_at_max
    from scoped

)

select * from final
