{#- The dashboards' decision log is copied whole each run (no landing days), so there is one version per
    decision already. -#}
with

source as (

    select * from {{ source('app_state', 'review_decisions') }}

),

renamed as (

    select
        cast(decision_id as varchar) as decision_id,
        cast(recommendation_id as varchar) as recommendation_id,
        job_family,
        decision,
        weights_json,
        effective_from,
        reason as decision_reason,
        coalesce(flagged, false) as is_flagged,
        flags_json,
        coalesce(flag_acknowledged, false) as is_flag_acknowledged,
        decided_by,
        decided_at,
        _loaded_at as loaded_at
    from source

)

select * from renamed
