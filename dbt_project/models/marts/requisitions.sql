{#- One row per requisition with its pipeline counts. An operational entity (what a recruiter sees in the ATS),
    so counts are not suppressed; the mart is access-controlled like the candidate-level ones. -#}
with

requisitions as (

    select * from {{ ref('stg_ats__requisitions') }}

),

applications as (

    select * from {{ ref('applications') }}

),

application_counts as (

    select
        requisition_id,
        count(*) as count_applications,
        sum(case when furthest_stage_order >= 4 then 1 else 0 end) as count_interviewed,
        sum(case when offer_made_at is not null then 1 else 0 end) as count_offers,
        sum(case when hired_at is not null then 1 else 0 end) as count_hires,
        cast(max(hired_at) as date) as last_hired_on
    from applications
    group by requisition_id

),

final as (

    select
        requisitions.requisition_id,
        requisitions.job_family,
        requisitions.job_title,
        requisitions.department,
        requisitions.region,
        requisitions.opened_on,
        requisitions.closed_on,
        requisitions.closed_on is null as is_open,
        requisitions.headcount,
        coalesce(application_counts.count_applications, 0) as count_applications,
        coalesce(application_counts.count_interviewed, 0) as count_interviewed,
        coalesce(application_counts.count_offers, 0) as count_offers,
        coalesce(application_counts.count_hires, 0) as count_hires,
        case
            when application_counts.last_hired_on is not null
                then {{ dbt.datediff('requisitions.opened_on', 'application_counts.last_hired_on', 'day') }}
        end as days_to_fill
    from requisitions
    left join application_counts
        on requisitions.requisition_id = application_counts.requisition_id

)

select * from final
