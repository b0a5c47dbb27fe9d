with

source as (

    select * from {{ source('review_tool', 'performance_reviews') }}

),

latest as (

    {{ latest_by_key('source', ['employee_id', 'review_date', 'review_period']) }}

),

renamed as (

    select
        cast(employee_id as varchar) as employee_key,
        review_date,
        review_period,
        rating as rating_raw,
        cast(scale_min as double) as scale_min,
        cast(scale_max as double) as scale_max,
        cast(reviewer_id as varchar) as reviewer_id,
        probation_passed,
        _partition_date as landed_on,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
