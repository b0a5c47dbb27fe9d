{#- Quality of hire by hire cohort (quarter of the HRIS hire date, or 'all') x job family (or 'all') x score
    band (the hire's composite tercile within the family: low / medium / high / unscored, or 'all'). Each mean
    rests on the hires with that outcome so far; 12-month retention on hires whose first year is over. Cells
    and means about fewer than var('min_cell_size') hires are suppressed. -#}
with

hires as (

    select * from {{ ref('hires') }}

),

labelled as (

    select
        *,
        {{ dbt.concat([
            dbt.cast("extract(year from hire_quarter)", dbt.type_string()), "'-Q'",
            dbt.cast("extract(quarter from hire_quarter)", dbt.type_string())]) }} as hire_cohort
    from hires

),

cohorts as (

    select
        hire_cohort,
        hire_quarter,
        job_family,
        score_band,
        composite_score,
        rating_3m,
        rating_6m,
        rating_12m,
        probation_passed,
        is_retained_12m
    from labelled
    union all
    select
        'all' as hire_cohort,
        cast(null as date) as hire_quarter,
        job_family,
        score_band,
        composite_score,
        rating_3m,
        rating_6m,
        rating_12m,
        probation_passed,
        is_retained_12m
    from labelled

),

families as (

    select * from cohorts
    union all
    select
        hire_cohort,
        hire_quarter,
        'all' as job_family,
        score_band,
        composite_score,
        rating_3m,
        rating_6m,
        rating_12m,
        probation_passed,
        is_retained_12m
    from cohorts

),

bands as (

    select * from families
    union all
    select
        hire_cohort,
        hire_quarter,
        job_family,
        'all' as score_band,
        composite_score,
        rating_3m,
        rating_6m,
        rating_12m,
        probation_passed,
        is_retained_12m
    from families

),

aggregated as (

    select
        hire_cohort,
        hire_quarter,
        job_family,
        score_band,
        count(*) as n_hires,
        avg(composite_score) as mean_composite,
        count(rating_3m) as n_rated_3m,
        avg(rating_3m) as mean_rating_3m,
        count(rating_6m) as n_rated_6m,
        avg(rating_6m) as mean_rating_6m,
        count(rating_12m) as n_rated_12m,
        avg(rating_12m) as mean_rating_12m,
        count(probation_passed) as n_probation_reviewed,
        avg(case when probation_passed then 1.0 when not probation_passed then 0.0 end) as probation_pass_rate,
        count(is_retained_12m) as n_retention_observed,
        avg(case when is_retained_12m then 1.0 when not is_retained_12m then 0.0 end) as retention_rate_12m
    from bands
    group by hire_cohort, hire_quarter, job_family, score_band

),

final as (

    select
        {{ dbt.hash(dbt.concat(["hire_cohort", "'|'", "job_family", "'|'", "score_band"])) }} as quality_of_hire_id,
        hire_cohort,
        hire_quarter,
        job_family,
        score_band,
        {{ is_small_cell('n_hires') }} as is_suppressed,
        {{ suppress_small('n_hires') }} as n_hires,
        {{ suppress_small('mean_composite', 'n_hires') }} as mean_composite,
        {{ suppress_small('n_rated_3m', 'n_hires') }} as n_rated_3m,
        {{ suppress_small('mean_rating_3m', 'n_rated_3m') }} as mean_rating_3m,
        {{ suppress_small('n_rated_6m', 'n_hires') }} as n_rated_6m,
        {{ suppress_small('mean_rating_6m', 'n_rated_6m') }} as mean_rating_6m,
        {{ suppress_small('n_rated_12m', 'n_hires') }} as n_rated_12m,
        {{ suppress_small('mean_rating_12m', 'n_rated_12m') }} as mean_rating_12m,
        {{ suppress_small('n_probation_reviewed', 'n_hires') }} as n_probation_reviewed,
        {{ suppress_small('probation_pass_rate', 'n_probation_reviewed') }} as probation_pass_rate,
        {{ suppress_small('n_retention_observed', 'n_hires') }} as n_retention_observed,
        {{ suppress_small('retention_rate_12m', 'n_retention_observed') }} as retention_rate_12m
    from aggregated

)

select * from final
