with

source as (

    select * from {{ source('ats', 'requisitions') }}

),

latest as (

    {{ latest_by_key('source', ['requisition_id']) }}

),

renamed as (

    select
        cast(requisition_id as varchar) as requisition_id,
        job_family,
        job_title,
        department,
        region,
        opened_at as opened_on,
        closed_at as closed_on,
        headcount,
        _partition_date as landed_on,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
