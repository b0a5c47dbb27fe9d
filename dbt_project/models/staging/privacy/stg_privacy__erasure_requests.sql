with

source as (

    select * from {{ source('privacy', 'erasure_requests') }}

),

latest as (

    {{ latest_by_key('source', ['candidate_id']) }}

),

renamed as (

    select
        cast(candidate_id as varchar) as candidate_key,
        requested_at,
        coalesce(scope, 'all') as erasure_scope,
        _partition_date as landed_on,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
