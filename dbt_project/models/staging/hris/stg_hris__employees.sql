{#- An employee's later landing (e.g. the exit row with termination fields) replaces the hire row. -#}
with

source as (

    select * from {{ source('hris', 'employees') }}

),

latest as (

    {{ latest_by_key('source', ['employee_id']) }}

),

renamed as (

    select
        cast(employee_id as varchar) as employee_key,
        cast(candidate_id as varchar) as candidate_key,
        email_key,
        full_name_key,
        hire_date,
        job_family,
        department,
        cast(manager_id as varchar) as manager_key,
        region,
        termination_date,
        termination_type,
        termination_reason,
        _partition_date as landed_on,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
