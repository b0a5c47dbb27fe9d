with

source as (

    select * from {{ source('ats', 'application_events') }}

),

latest as (

    {{ latest_by_key('source', ['application_id', 'event', 'event_at']) }}

),

renamed as (

    select
        cast(application_id as varchar) as application_id,
        cast(candidate_id as varchar) as candidate_key,
        cast(requisition_id as varchar) as requisition_id,
        event as event_name,
        event_at,
        _partition_date as landed_on,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
