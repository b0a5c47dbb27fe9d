{#- One row per job family: its size in the pipeline and the workforce, and the scorecard weights in force now.
    People counts below var('min_cell_size') are suppressed. -#}
with

requisitions as (

    select * from {{ ref('stg_ats__requisitions') }}

),

applications as (

    select * from {{ ref('applications') }}

),

hires as (

    select * from {{ ref('hires') }}

),

weights as (

    select * from {{ ref('int_scorecard_weights_history') }}
    where is_current

),

families as (

    select job_family from requisitions
    union
    select job_family from hires
    union
    select job_family from weights

),

requisition_counts as (

    select
        job_family,
        count(*) as count_requisitions,
        sum(case when closed_on is null then 1 else 0 end) as count_open_requisitions,
        count(distinct department) as count_departments
    from requisitions
    group by job_family

),

application_counts as (

    select
        job_family,
        count(*) as count_applications,
        sum(case when hired_at is not null then 1 else 0 end) as count_ats_hires
    from applications
    group by job_family

),

hire_counts as (

    select
        job_family,
        count(*) as count_hires,
        sum(case when is_active then 1 else 0 end) as count_active_employees
    from hires
    group by job_family

),

current_weights as (

    select
        job_family,
        max(valid_from) as weights_valid_from,
        max(weights_source) as weights_source,
        {%- for competency in var('competencies') %}
            max(case when competency_code = '{{ competency }}' then weight end) as weight_{{ competency }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from weights
    group by job_family

),

final as (

    select
        families.job_family,
        coalesce(requisition_counts.count_requisitions, 0) as count_requisitions,
        coalesce(requisition_counts.count_open_requisitions, 0) as count_open_requisitions,
        coalesce(requisition_counts.count_departments, 0) as count_departments,
        {{ suppress_small('coalesce(application_counts.count_applications, 0)') }} as count_applications,
        {{ suppress_small('coalesce(application_counts.count_ats_hires, 0)') }} as count_ats_hires,
        {{ suppress_small('coalesce(hire_counts.count_hires, 0)') }} as count_hires,
        {{ suppress_small('coalesce(hire_counts.count_active_employees, 0)') }} as count_active_employees,
        current_weights.weights_valid_from,
        current_weights.weights_source,
        {%- for competency in var('competencies') %}
            current_weights.weight_{{ competency }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from families
    left join requisition_counts
        on families.job_family = requisition_counts.job_family
    left join application_counts
        on families.job_family = application_counts.job_family
    left join hire_counts
        on families.job_family = hire_counts.job_family
    left join current_weights
        on families.job_family = current_weights.job_family

)

select * from final
