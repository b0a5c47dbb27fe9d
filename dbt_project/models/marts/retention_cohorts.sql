{#- The inputs of a Kaplan-Meier (life-table) curve, one row per hire cohort (quarter, or 'all') x job family
    (or 'all') x score band (or 'all') x tenure interval of var('retention_interval_days') days.
    at_risk = hires still employed and observed at the interval's first day; in the interval,
    voluntary_exits and involuntary_exits (kept apart: competing risks) and censored (still employed on the
    as-of day, so their follow-up ends here). Exits with no type count in other_exits.
    km_survival_voluntary = prod(1 - voluntary_exits / at_risk) to the interval's end, the cause-specific
    curve with other exits censored; km_survival_any counts every exit. Counts of fewer than
    var('min_cell_size') at risk are suppressed (the curve is computed before suppression). -#}
with

hires as (

    select * from {{ ref('hires') }}

),

labelled as (

    select
        {{ dbt.concat([
            dbt.cast("extract(year from hire_quarter)", dbt.type_string()), "'-Q'",
            dbt.cast("extract(quarter from hire_quarter)", dbt.type_string())]) }} as hire_cohort,
        job_family,
        score_band,
        tenure_days,
        case
            when termination_date is null then 'censored'
            when termination_type in ('voluntary', 'involuntary') then termination_type
            else 'other'
        end as end_reason
    from hires
    where tenure_days >= 0

),

cohorts as (

    select
        hire_cohort,
        job_family,
        score_band,
        tenure_days,
        end_reason
    from labelled
    union all
    select
        'all' as hire_cohort,
        job_family,
        score_band,
        tenure_days,
        end_reason
    from labelled

),

families as (

    select * from cohorts
    union all
    select
        hire_cohort,
        'all' as job_family,
        score_band,
        tenure_days,
        end_reason
    from cohorts

),

bands as (

    select * from families
    union all
    select
        hire_cohort,
        job_family,
        'all' as score_band,
        tenure_days,
        end_reason
    from families

),

intervals as (

    select
        n as interval_index,
        n * {{ var('retention_interval_days') }} as interval_start_day,
        (n + 1) * {{ var('retention_interval_days') }} as interval_end_day
    from ({{ integer_series(1000) }}) as series

),

per_interval as (

    select
        bands.hire_cohort,
        bands.job_family,
        bands.score_band,
        intervals.interval_index,
        intervals.interval_start_day,
        intervals.interval_end_day,
        count(*) as at_risk,
        sum(
            case
                when bands.tenure_days < intervals.interval_end_day and bands.end_reason = 'voluntary' then 1
                else 0
            end
        ) as voluntary_exits,
        sum(
            case
                when bands.tenure_days < intervals.interval_end_day and bands.end_reason = 'involuntary' then 1
                else 0
            end
        ) as involuntary_exits,
        sum(
            case
                when bands.tenure_days < intervals.interval_end_day and bands.end_reason = 'other' then 1
                else 0
            end
        ) as other_exits,
        sum(
            case
                when bands.tenure_days < intervals.interval_end_day and bands.end_reason = 'censored' then 1
                else 0
            end
        ) as censored
    from bands
    inner join intervals
        on bands.tenure_days >= intervals.interval_start_day
    group by
        bands.hire_cohort,
        bands.job_family,
        bands.score_band,
        intervals.interval_index,
        intervals.interval_start_day,
        intervals.interval_end_day

),

survival as (

    select
        *,
        -- Product of (1 - d/n) as exp(sum(ln)); an interval where everyone at risk left ends the curve at 0.
        case
            when
                max(case when voluntary_exits = at_risk then 1 else 0 end) over (
                    partition by hire_cohort, job_family, score_band
                    order by interval_index rows between unbounded preceding and current row
                ) = 1
                then 0.0
            else exp(sum(ln(1.0 - 1.0 * voluntary_exits / at_risk)) over (
                partition by hire_cohort, job_family, score_band
                order by interval_index rows between unbounded preceding and current row
            ))
        end as km_survival_voluntary,
        case
            when
                max(
                    case when voluntary_exits + involuntary_exits + other_exits = at_risk then 1 else 0 end
                ) over (
                    partition by hire_cohort, job_family, score_band
                    order by interval_index rows between unbounded preceding and current row
                ) = 1
                then 0.0
            else exp(sum(ln(1.0 - 1.0 * (voluntary_exits + involuntary_exits + other_exits) / at_risk)) over (
                partition by hire_cohort, job_family, score_band
                order by interval_index rows between unbounded preceding and current row
            ))
        end as km_survival_any
    from per_interval

),

final as (

    select
        {{ dbt.hash(dbt.concat(["hire_cohort", "'|'", "job_family", "'|'", "score_band", "'|'",
                                dbt.cast("interval_index", dbt.type_string())])) }} as retention_cohort_id,
        hire_cohort,
        job_family,
        score_band,
        interval_index,
        interval_start_day,
        interval_end_day,
        {{ is_small_cell('at_risk') }} as is_suppressed,
        {{ suppress_small('at_risk') }} as at_risk,
        {{ suppress_small('voluntary_exits', 'at_risk') }} as voluntary_exits,
        {{ suppress_small('involuntary_exits', 'at_risk') }} as involuntary_exits,
        {{ suppress_small('other_exits', 'at_risk') }} as other_exits,
        {{ suppress_small('censored', 'at_risk') }} as censored,
        {{ suppress_small('km_survival_voluntary', 'at_risk') }} as km_survival_voluntary,
        {{ suppress_small('km_survival_any', 'at_risk') }} as km_survival_any
    from survival

)

select * from final
