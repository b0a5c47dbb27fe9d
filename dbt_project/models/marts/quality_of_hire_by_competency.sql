{#- How each interview competency relates to each outcome: one row per job family (or 'all') x competency x
    outcome x competency quintile (1 = lowest fifth of the family's scored hires on that competency), with the
    number of hires observed on the outcome and their mean outcome. Outcomes: rating_3m, rating_6m,
    rating_12m (0-1), probation_passed and retained_12m (0/1). Quintiles are within the hired group, so they
    show the relation among hires (range-restricted), not in the applicant pool. Cells under
    var('min_cell_size') hires are suppressed. -#}
with

hires as (

    select * from {{ ref('hires') }}

),

competency_scores as (

    {%- for competency in var('competencies') %}
        select
            employee_key,
            job_family,
            '{{ competency }}' as competency_code,
            score_{{ competency }} as competency_score,
            rating_3m,
            rating_6m,
            rating_12m,
            case when probation_passed then 1.0 when not probation_passed then 0.0 end as probation_passed,
            case when is_retained_12m then 1.0 when not is_retained_12m then 0.0 end as retained_12m
        from hires
        where score_{{ competency }} is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

families as (

    select * from competency_scores
    union all
    select
        employee_key,
        'all' as job_family,
        competency_code,
        competency_score,
        rating_3m,
        rating_6m,
        rating_12m,
        probation_passed,
        retained_12m
    from competency_scores

),

quintiles as (

    select
        *,
        ntile(5) over (
            partition by job_family, competency_code
            order by competency_score, employee_key
        ) as competency_quintile
    from families

),

outcomes as (

    select
        job_family,
        competency_code,
        competency_quintile,
        competency_score,
        'rating_3m' as outcome,
        rating_3m as outcome_value
    from quintiles
    union all
    select
        job_family,
        competency_code,
        competency_quintile,
        competency_score,
        'rating_6m' as outcome,
        rating_6m as outcome_value
    from quintiles
    union all
    select
        job_family,
        competency_code,
        competency_quintile,
        competency_score,
        'rating_12m' as outcome,
        rating_12m as outcome_value
    from quintiles
    union all
    select
        job_family,
        competency_code,
        competency_quintile,
        competency_score,
        'probation_passed' as outcome,
        probation_passed as outcome_value
    from quintiles
    union all
    select
        job_family,
        competency_code,
        competency_quintile,
        competency_score,
        'retained_12m' as outcome,
        retained_12m as outcome_value
    from quintiles

),

aggregated as (

    select
        job_family,
        competency_code,
        outcome,
        competency_quintile,
        count(*) as n_hires,
        min(competency_score) as min_competency_score,
        max(competency_score) as max_competency_score,
        count(outcome_value) as n_observed,
        avg(outcome_value) as mean_outcome
    from outcomes
    group by job_family, competency_code, outcome, competency_quintile

),

final as (

    select
        {{ dbt.hash(dbt.concat(["job_family", "'|'", "competency_code", "'|'", "outcome", "'|'",
                                dbt.cast("competency_quintile", dbt.type_string())])) }}
            as quality_of_hire_competency_id,
        job_family,
        competency_code,
        outcome,
        competency_quintile,
        {{ is_small_cell('n_observed') }} as is_suppressed,
        {{ suppress_small('n_hires') }} as n_hires,
        {{ suppress_small('min_competency_score', 'n_hires') }} as min_competency_score,
        {{ suppress_small('max_competency_score', 'n_hires') }} as max_competency_score,
        {{ suppress_small('n_observed') }} as n_observed,
        {{ suppress_small('mean_outcome', 'n_observed') }} as mean_outcome
    from aggregated

)

select * from final
