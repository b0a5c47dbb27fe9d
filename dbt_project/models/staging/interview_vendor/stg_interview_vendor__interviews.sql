with

source as (

    select * from {{ source('interview_vendor', 'interviews') }}

),

latest as (

    {{ latest_by_key('source', ['interview_id']) }}

),

renamed as (

    select
        cast(interview_id as varchar) as interview_id,
        cast(application_id as varchar) as application_id,
        cast(candidate_id as varchar) as candidate_key,
        cast(requisition_id as varchar) as requisition_id,
        started_at,
        ended_at,
        mode as interview_mode,
        status as interview_status,
        vendor,
        jurisdiction,
        _partition_date as landed_on,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
