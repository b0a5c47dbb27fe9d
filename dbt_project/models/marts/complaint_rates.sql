{#- Customer complaints per 1,000 days of exposure, one row per job family (or 'all') x score band (or 'all').
    Exposure = days employed from the hire date to the termination date or the as-of day (hires.tenure_days);
    the rate pools the group: 1000 x complaints / exposure days. Groups of fewer than var('min_cell_size') hires
    are suppressed. -#}
with

hires as (

    select * from {{ ref('hires') }}

),

families as (

    select
        job_family,
        score_band,
        tenure_days,
        count_complaints,
        count_substantiated_complaints
    from hires
    union all
    select
        'all' as job_family,
        score_band,
        tenure_days,
        count_complaints,
        count_substantiated_complaints
    from hires

),

bands as (

    select * from families
    union all
    select
        job_family,
        'all' as score_band,
        tenure_days,
        count_complaints,
        count_substantiated_complaints
    from families

),

aggregated as (

    select
        job_family,
        score_band,
        count(*) as n_hires,
        sum(tenure_days) as exposure_days,
        sum(count_complaints) as n_complaints,
        sum(count_substantiated_complaints) as n_substantiated_complaints,
        sum(case when count_complaints > 0 then 1 else 0 end) as n_hires_with_complaints
    from bands
    group by job_family, score_band

),

final as (

    select
        {{ dbt.hash(dbt.concat(["job_family", "'|'", "score_band"])) }} as complaint_rate_id,
        job_family,
        score_band,
        {{ is_small_cell('n_hires') }} as is_suppressed,
        {{ suppress_small('n_hires') }} as n_hires,
        {{ suppress_small('exposure_days', 'n_hires') }} as exposure_days,
        {{ suppress_small('n_complaints', 'n_hires') }} as n_complaints,
        {{ suppress_small('n_substantiated_complaints', 'n_hires') }} as n_substantiated_complaints,
        {{ suppress_small('n_hires_with_complaints', 'n_hires') }} as n_hires_with_complaints,
        {{ suppress_small('1000.0 * n_complaints / nullif(exposure_days, 0)', 'n_hires') }}
            as complaints_per_1000_days,
        {{ suppress_small('1000.0 * n_substantiated_complaints / nullif(exposure_days, 0)', 'n_hires') }}
            as substantiated_per_1000_days
    from aggregated

)

select * from final
