{#- Adverse impact at each funnel step, one row per job family (or 'all') x stage x dimension x group (counts
    from int_selections_counted). The reference is the highest-rate group with at least var('min_cell_size')
    people and no 'unknown' in its label; impact_ratio = selection rate / reference rate, flagged below
    var('four_fifths_ratio'). Groups of fewer than var('min_cell_size') are suppressed (and never the
    reference). -#}
with

counts as (

    select * from {{ ref('int_selections_counted') }}

),

rated as (

    select
        *,
        1.0 * n_passed / n as selection_rate,
        case
            when n >= {{ var('min_cell_size') }} and {{ dbt.position("'unknown'", 'group_label') }} = 0
                then 1.0 * n_passed / n
        end as eligible_reference_rate
    from counts

),

references_ranked as (

    select
        job_family,
        stage_name,
        dimension,
        group_label as reference_group,
        selection_rate as reference_rate,
        row_number() over (
            partition by job_family, stage_name, dimension
            order by eligible_reference_rate desc, n desc, group_label asc
        ) as reference_rank
    from rated
    where eligible_reference_rate is not null

),

reference_groups as (

    select * from references_ranked
    where reference_rank = 1

),

final as (

    select
        {{ dbt.hash(dbt.concat(["rated.job_family", "'|'", "rated.stage_name", "'|'", "rated.dimension", "'|'",
                                "rated.group_label"])) }} as adverse_impact_id,
        rated.job_family,
        rated.stage_name,
        rated.stage_order,
        rated.dimension,
        rated.group_label,
        {{ is_small_cell('rated.n') }} as is_suppressed,
        {{ suppress_small('rated.n') }} as n,
        {{ suppress_small('rated.n_passed', 'rated.n') }} as n_passed,
        {{ suppress_small('rated.selection_rate', 'rated.n') }} as selection_rate,
        reference_groups.reference_group,
        reference_groups.reference_rate,
        {{ suppress_small('rated.selection_rate / nullif(reference_groups.reference_rate, 0)', 'rated.n') }}
            as impact_ratio,
        coalesce(
            {{ suppress_small(
                'rated.selection_rate / nullif(reference_groups.reference_rate, 0) < ' ~ var('four_fifths_ratio'),
                'rated.n') }},
            false
        ) as is_below_four_fifths
    from rated
    left join reference_groups
        on
            rated.job_family = reference_groups.job_family
            and rated.stage_name = reference_groups.stage_name
            and rated.dimension = reference_groups.dimension

)

select * from final
