{#- Candidates without analytics consent stop here: nothing downstream can see them. -#}
with

source as (

    select * from {{ source('ats', 'candidates') }}

),

latest as (

    {{ latest_by_key('source', ['candidate_id']) }}

),

renamed as (

    select
        cast(candidate_id as varchar) as candidate_key,
        coalesce(nullif(lower(trim(gender)), ''), 'unknown') as gender,
        coalesce(nullif(lower(trim(ethnicity)), ''), 'unknown') as ethnicity,
        coalesce(nullif(trim(age_band), ''), 'unknown') as age_band,
        source_channel,
        region,
        consent_recording,
        consent_analytics,
        consent_at,
        email_key,
        full_name_key,
        _partition_date as landed_on,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
where consent_analytics
