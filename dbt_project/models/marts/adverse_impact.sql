{#- Adverse impact, one row per job family (or 'all') x stage x metric x dimension x group, under the bias
    audit's rule (ml/fairness.py, which the integration tests hold this model to):
    - funnel steps (stage_name = a funnel stage or 'overall', metric 'selection'): counts from
      int_selections_counted;
    - scored applicants (stage_name 'scored'): applicant_pool, one row per candidate x job family with their
      latest completed, scored interview (the weight model's pool too); metric 'selection' = hired in the family,
      'scoring' = composite strictly above the median composite of the family's scored applicants.
    The reference is the highest-rate group with n >= floor_n = max(var('reference_floor_n'),
    ceil(var('reference_floor_share') x the pool)) and no 'unknown' part in its label (ties: larger n, then label).
    Every group is reported with its count; groups under the floor and 'unknown' never are the reference.
    Counts and rates of fewer than var('min_cell_size') people are suppressed. -#}
{%- set floor_n = var('reference_floor_n', 30) -%}
{%- set floor_share = var('reference_floor_share', 0.02) -%}
{#- Katz interval at 95%: scipy.stats.norm.ppf(0.975), the z of ml/fairness.py's CI_LEVEL. -#}
{%- set katz_z = 1.959963984540054 -%}
with

step_counts as (

    select * from {{ ref('int_selections_counted') }}

),

applicant_pool as (

    select * from {{ ref('applicant_pool') }}

),

scored_applicants as (

    select
        job_family,
        composite_score,
        hired as is_hired,
        coalesce(nullif(trim(gender), ''), 'unknown') as sex,
        coalesce(nullif(trim(ethnicity), ''), 'unknown') as ethnicity
    from applicant_pool

),

scored_families as (

    select
        job_family,
        composite_score,
        is_hired,
        sex,
        ethnicity
    from scored_applicants
    union all
    select
        'all' as job_family,
        composite_score,
        is_hired,
        sex,
        ethnicity
    from scored_applicants

),

family_medians as (

    select
        job_family,
        percentile_cont(0.5) within group (order by composite_score) as median_composite
    from scored_families
    group by job_family

),

scored_outcomes as (

    select
        job_family,
        'selection' as metric,
        sex,
        ethnicity,
        case when is_hired then 1 else 0 end as is_passed
    from scored_families
    union all
    select
        scored_families.job_family,
        'scoring' as metric,
        scored_families.sex,
        scored_families.ethnicity,
        case when scored_families.composite_score > family_medians.median_composite then 1 else 0 end as is_passed
    from scored_families
    inner join family_medians
        on scored_families.job_family = family_medians.job_family

),

scored_grouped as (

    select
        job_family,
        metric,
        'sex' as dimension,
        sex as group_label,
        sex = 'unknown' as is_unknown,
        is_passed
    from scored_outcomes
    union all
    select
        job_family,
        metric,
        'ethnicity' as dimension,
        ethnicity as group_label,
        ethnicity = 'unknown' as is_unknown,
        is_passed
    from scored_outcomes
    union all
    select
        job_family,
        metric,
        'sex × ethnicity' as dimension,
        {{ dbt.concat(["sex", "' × '", "ethnicity"]) }} as group_label,
        sex = 'unknown' or ethnicity = 'unknown' as is_unknown,
        is_passed
    from scored_outcomes

),

scored_counts as (

    select
        job_family,
        'scored' as stage_name,
        cast(null as integer) as stage_order,
        metric,
        dimension,
        group_label,
        is_unknown,
        count(*) as n,
        sum(is_passed) as n_passed
    from scored_grouped
    group by job_family, metric, dimension, group_label, is_unknown

),

all_counts as (

    select
        job_family,
        stage_name,
        stage_order,
        'selection' as metric,
        dimension,
        group_label,
        -- An intersection label is unknown when either of its parts is (ml.fairness._is_unknown).
        (
            group_label = 'unknown'
            or group_label like 'unknown × %'
            or group_label like '% × unknown'
        ) as is_unknown,
        n,
        n_passed
    from step_counts
    union all
    select
        job_family,
        stage_name,
        stage_order,
        metric,
        dimension,
        group_label,
        is_unknown,
        n,
        n_passed
    from scored_counts

),

pooled as (

    select
        *,
        cast(n_passed as double) / n as rate,
        sum(n) over (partition by job_family, stage_name, metric, dimension) as n_pool
    from all_counts

),

floored as (

    select
        *,
        -- The 1e-9 keeps 2% of 1,500 at 30 rather than 31 after floating-point rounding (as ml.fairness does).
        greatest(
            {{ floor_n }},
            cast(ceil(cast({{ floor_share }} as double) * n_pool - 1e-9) as integer)
        ) as floor_n
    from pooled

),

eligible as (

    select
        *,
        n < floor_n as is_excluded_small,
        not is_unknown and n >= floor_n as is_eligible
    from floored

),

references_ranked as (

    select
        job_family,
        stage_name,
        metric,
        dimension,
        group_label as reference_group,
        rate as reference_rate,
        n as reference_n,
        n_passed as reference_passed,
        row_number() over (
            partition by job_family, stage_name, metric, dimension
            order by rate desc, n desc, group_label asc
        ) as reference_rank
    from eligible
    where is_eligible

),

reference_groups as (

    select * from references_ranked
    where reference_rank = 1

),

compared as (

    select
        eligible.*,
        reference_groups.reference_group,
        reference_groups.reference_rate,
        reference_groups.reference_n,
        reference_groups.reference_passed,
        eligible.rate / nullif(reference_groups.reference_rate, 0) as raw_impact_ratio,
        -- Haldane-Anscombe: 0.5 added to every cell of a 2x2 table with a zero cell, for the interval only.
        case
            when
                least(
                    eligible.n_passed,
                    eligible.n - eligible.n_passed,
                    reference_groups.reference_passed,
                    reference_groups.reference_n - reference_groups.reference_passed
                ) = 0
                then cast(0.5 as double)
            else cast(0.0 as double)
        end as zero_cell_correction
    from eligible
    left join reference_groups
        on
            eligible.job_family = reference_groups.job_family
            and eligible.stage_name = reference_groups.stage_name
            and eligible.metric = reference_groups.metric
            and eligible.dimension = reference_groups.dimension

),

katz as (

    select
        *,
        case
            when raw_impact_ratio is not null and group_label != reference_group
                then
                    ln(
                        ((n_passed + zero_cell_correction) / (n + 2 * zero_cell_correction))
                        / (
                            (reference_passed + zero_cell_correction)
                            / (reference_n + 2 * zero_cell_correction)
                        )
                    )
        end as log_ratio,
        case
            when raw_impact_ratio is not null and group_label != reference_group
                then
                    sqrt(
                        1.0 / (n_passed + zero_cell_correction)
                        - 1.0 / (n + 2 * zero_cell_correction)
                        + 1.0 / (reference_passed + zero_cell_correction)
                        - 1.0 / (reference_n + 2 * zero_cell_correction)
                    )
        end as log_ratio_se
    from compared

),

final as (

    select
        {{ dbt.hash(dbt.concat(["job_family", "'|'", "stage_name", "'|'", "metric", "'|'", "dimension", "'|'",
                                "group_label"])) }} as adverse_impact_id,
        job_family,
        stage_name,
        stage_order,
        metric,
        dimension,
        group_label,
        {{ is_small_cell('n') }} as is_suppressed,
        {{ suppress_small('n') }} as n,
        {{ suppress_small('n_passed', 'n') }} as n_passed,
        case when metric = 'selection' then {{ suppress_small('rate', 'n') }} end as selection_rate,
        {{ suppress_small('rate', 'n') }} as rate,
        reference_group,
        reference_rate,
        {{ suppress_small('raw_impact_ratio', 'n') }} as impact_ratio,
        coalesce(
            {{ suppress_small('raw_impact_ratio < ' ~ var('four_fifths_ratio'), 'n') }},
            false
        ) as is_below_four_fifths,
        {{ suppress_small('exp(log_ratio - ' ~ katz_z ~ ' * log_ratio_se)', 'n') }} as ci_low,
        {{ suppress_small('exp(log_ratio + ' ~ katz_z ~ ' * log_ratio_se)', 'n') }} as ci_high,
        case
            when log_ratio is not null and n >= {{ var('min_cell_size') }}
                then case when zero_cell_correction > 0 then 'katz_log_haldane_0.5' else 'katz_log' end
        end as ci_method,
        n_pool,
        floor_n,
        is_unknown,
        is_excluded_small,
        is_eligible,
        group_label = coalesce(reference_group, '') as is_reference,
        reference_n,
        reference_passed
    from katz

)

select * from final
