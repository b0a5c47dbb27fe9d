{#- Month x job family x department workforce flows, with rollups (department 'all'; job family and department
    'all'). A person counts in headcount_start when hired before the month and not yet gone on its first day,
    in headcount_end when still employed after its last day (the last, partial month ends the day before the
    as-of day); so headcount_end = headcount_start + hires - exits. Retention_12m: of those employed on the
    same day a year earlier, the share still employed at month end. Cells about fewer than var('min_cell_size')
    people are suppressed. -#}
with

hires as (

    select * from {{ ref('hires') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

bounds as (

    select
        cast({{ dbt.date_trunc('month', 'min(hires.hire_date)') }} as date) as first_month,
        cast({{ dbt.dateadd('day', -1, 'as_of.as_of_date') }} as date) as last_day
    from hires
    cross join as_of
    group by as_of.as_of_date

),

series as (

    {{ integer_series(1200) }}

),

months as (

    select
        cast({{ dbt.dateadd('month', 'series.n', 'bounds.first_month') }} as date) as month_start,
        bounds.last_day
    from bounds
    cross join series
    where series.n <= {{ dbt.datediff('bounds.first_month', 'bounds.last_day', 'month') }}

),

month_bounds as (

    select
        month_start,
        case
            when cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'month_start')) }} as date) < last_day
                then cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'month_start')) }} as date)
            else last_day
        end as month_end
    from months

),

month_windows as (

    select
        month_start,
        month_end,
        cast({{ dbt.dateadd('month', -12, 'month_end') }} as date) as year_before
    from month_bounds

),

grouped_hires as (

    select
        hire_date,
        termination_date,
        termination_type,
        job_family,
        department
    from hires
    union all
    select
        hire_date,
        termination_date,
        termination_type,
        job_family,
        'all' as department
    from hires
    union all
    select
        hire_date,
        termination_date,
        termination_type,
        'all' as job_family,
        'all' as department
    from hires

),

person_months as (

    select
        month_windows.month_start,
        month_windows.month_end,
        grouped_hires.job_family,
        grouped_hires.department,
        case
            when
                grouped_hires.hire_date < month_windows.month_start
                and (
                    grouped_hires.termination_date is null
                    or grouped_hires.termination_date >= month_windows.month_start
                )
                then 1
            else 0
        end as is_in_start,
        case
            when grouped_hires.hire_date between month_windows.month_start and month_windows.month_end
                then 1
            else 0
        end as is_hire,
        case
            when grouped_hires.termination_date between month_windows.month_start and month_windows.month_end
                then 1
            else 0
        end as is_exit,
        case
            when
                grouped_hires.termination_date between month_windows.month_start and month_windows.month_end
                and grouped_hires.termination_type = 'voluntary'
                then 1
            else 0
        end as is_voluntary_exit,
        case
            when
                grouped_hires.termination_date between month_windows.month_start and month_windows.month_end
                and grouped_hires.termination_type = 'involuntary'
                then 1
            else 0
        end as is_involuntary_exit,
        case
            when
                grouped_hires.hire_date <= month_windows.month_end
                and (
                    grouped_hires.termination_date is null
                    or grouped_hires.termination_date > month_windows.month_end
                )
                then 1
            else 0
        end as is_in_end,
        {{ dbt.datediff('grouped_hires.hire_date', 'month_windows.month_end', 'day') }}
            as tenure_days_at_end,
        case
            when
                grouped_hires.hire_date <= month_windows.year_before
                and (
                    grouped_hires.termination_date is null
                    or grouped_hires.termination_date > month_windows.year_before
                )
                then 1
            else 0
        end as is_in_year_before
    from grouped_hires
    inner join month_windows
        on
            grouped_hires.hire_date <= month_windows.month_end
            and (
                grouped_hires.termination_date is null
                or grouped_hires.termination_date >= month_windows.year_before
            )

),

aggregated as (

    select
        month_start,
        month_end,
        job_family,
        department,
        sum(is_in_start) as headcount_start,
        sum(is_hire) as hires,
        sum(is_exit) as exits,
        sum(is_voluntary_exit) as voluntary_exits,
        sum(is_involuntary_exit) as involuntary_exits,
        sum(is_in_end) as headcount_end,
        sum(case when is_in_end = 1 then tenure_days_at_end end) as tenure_days_total,
        sum(is_in_year_before) as headcount_year_before,
        sum(case when is_in_year_before = 1 and is_in_end = 1 then 1 else 0 end) as retained_from_year_before
    from person_months
    group by month_start, month_end, job_family, department

),

keyed as (

    select
        *,
        {{ dbt.cast("month_start", dbt.type_string()) }} as month_start_text,
        case when headcount_start > headcount_end then headcount_start else headcount_end end as people,
        1.0 * retained_from_year_before / nullif(headcount_year_before, 0) as retention_rate_12m,
        1.0 * tenure_days_total / nullif(headcount_end, 0) as avg_tenure_days
    from aggregated

),

final as (

    select
        {{ dbt.hash(dbt.concat(["month_start_text", "'|'", "job_family", "'|'", "department"])) }}
            as workforce_month_id,
        month_start,
        month_end,
        job_family,
        department,
        case
            when job_family = 'all' then 'company'
            when department = 'all' then 'job_family'
            else 'department'
        end as rollup_level,
        {{ is_small_cell('people') }} as is_suppressed,
        {{ suppress_small('headcount_start', 'people') }} as headcount_start,
        {{ suppress_small('hires', 'people') }} as hires,
        {{ suppress_small('exits', 'people') }} as exits,
        {{ suppress_small('voluntary_exits', 'people') }} as voluntary_exits,
        {{ suppress_small('involuntary_exits', 'people') }} as involuntary_exits,
        {{ suppress_small('headcount_end', 'people') }} as headcount_end,
        {{ suppress_small('avg_tenure_days', 'people') }} as avg_tenure_days,
        {{ suppress_small('headcount_year_before') }} as headcount_year_before,
        {{ suppress_small('retention_rate_12m', 'headcount_year_before') }} as retention_rate_12m
    from keyed

)

select * from final
