{#- Selections counted by group at each funnel step: one row per job family (or 'all') x stage x dimension x
    group. A step's pool is every application that reached the previous stage (for 'overall': every
    application, and passing means being hired); n_passed reached the stage. Dimensions: sex, ethnicity and
    their intersection 'sex × ethnicity', blanks as 'unknown'. Unsuppressed: adverse_impact suppresses. -#}
with

applications as (

    select * from {{ ref('int_applications_pivoted') }}

),

candidates as (

    select * from {{ ref('int_candidates_filtered') }}

),

requisitions as (

    select * from {{ ref('stg_ats__requisitions') }}

),

stages as (

    {{ funnel_stages_relation() }}

),

steps as (

    select
        stage_name,
        stage_order,
        stage_order - 1 as pool_stage_order
    from stages
    where stage_order > 1
    union all
    select
        'overall' as stage_name,
        {{ funnel_stage_names() | length + 1 }} as stage_order,
        1 as pool_stage_order
    from stages
    where stage_order = 1

),

people as (

    select
        applications.application_id,
        coalesce(requisitions.job_family, 'unknown') as job_family,
        applications.furthest_stage_order,
        candidates.gender as sex,
        candidates.ethnicity
    from applications
    inner join candidates
        on applications.candidate_key = candidates.candidate_key
    left join requisitions
        on applications.requisition_id = requisitions.requisition_id

),

grouped as (

    select
        application_id,
        job_family,
        furthest_stage_order,
        'sex' as dimension,
        sex as group_label
    from people
    union all
    select
        application_id,
        job_family,
        furthest_stage_order,
        'ethnicity' as dimension,
        ethnicity as group_label
    from people
    union all
    select
        application_id,
        job_family,
        furthest_stage_order,
        'sex × ethnicity' as dimension,
        {{ dbt.concat(["sex", "' × '", "ethnicity"]) }} as group_label
    from people

),

families as (

    select
        application_id,
        job_family,
        furthest_stage_order,
        dimension,
        group_label
    from grouped
    union all
    select
        application_id,
        'all' as job_family,
        furthest_stage_order,
        dimension,
        group_label
    from grouped

),

counts as (

    select
        families.job_family,
        steps.stage_name,
        steps.stage_order,
        families.dimension,
        families.group_label,
        count(*) as n,
        sum(
            case
                when
                    steps.stage_name = 'overall'
                    and families.furthest_stage_order >= {{ funnel_stage_names() | length }}
                    then 1
                when steps.stage_name != 'overall' and families.furthest_stage_order >= steps.stage_order then 1
                else 0
            end
        ) as n_passed
    from families
    inner join steps
        on families.furthest_stage_order >= steps.pool_stage_order
    group by families.job_family, steps.stage_name, steps.stage_order, families.dimension, families.group_label

)

select * from counts
