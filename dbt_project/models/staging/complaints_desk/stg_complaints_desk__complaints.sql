with

source as (

    select * from {{ source('complaints_desk', 'complaints') }}

),

latest as (

    {{ latest_by_key('source', ['complaint_id']) }}

),

renamed as (

    select
        cast(complaint_id as varchar) as complaint_id,
        cast(employee_id as varchar) as employee_key,
        received_at,
        channel,
        category,
        severity,
        coalesce(substantiated, false) as is_substantiated,
        _partition_date as landed_on,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
