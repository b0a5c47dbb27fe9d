{#- The candidates analysis may use: analytics consent (already required in staging) and no erasure request
    covering analytics. Every analysis model joins through this one, so an erasure reaches them all. -#}
with

candidates as (

    select * from {{ ref('stg_ats__candidates') }}

),

erasures as (

    select * from {{ ref('stg_privacy__erasure_requests') }}

),

filtered as (

    select
        candidates.*,
        coalesce(erasures.erasure_scope = 'recordings', false) as is_recording_erased
    from candidates
    left join erasures
        on candidates.candidate_key = erasures.candidate_key
    where
        erasures.candidate_key is null
        or erasures.erasure_scope not in ('all', 'analytics')

)

select * from filtered
