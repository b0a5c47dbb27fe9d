{#- Scorecard weights as validity intervals per job family x competency: the seed's starting weights, then
    every approved or edited review decision from its effective_from day. A decision replaces the family's
    whole weight set (a competency it leaves out weighs 0); two decisions effective the same day resolve to
    the later decided. valid_until is the next version's valid_from (exclusive); the current version has none. -#}
with

initial_weights as (

    select * from {{ ref('scorecard_weights_initial') }}

),

competencies as (

    select * from {{ ref('competencies') }}

),

decisions as (

    select * from {{ ref('stg_app_state__review_decisions') }}
    where
        decision in ('approved', 'edited')
        and effective_from is not null
        and weights_json is not null

),

initial_versions as (

    select distinct
        job_family,
        cast(effective_from as date) as valid_from,
        'initial' as weights_source,
        cast(null as {{ dbt.type_string() }}) as decision_id,
        cast(null as {{ dbt.type_timestamp() }}) as decided_at
    from initial_weights

),

decision_versions as (

    select
        job_family,
        cast(effective_from as date) as valid_from,
        decision as weights_source,
        decision_id,
        decided_at
    from decisions

),

candidate_versions as (

    select * from initial_versions
    union all
    select * from decision_versions

),

ranked_versions as (

    select
        *,
        row_number() over (
            partition by job_family, valid_from
            order by
                case when decision_id is null then 0 else 1 end desc,
                decided_at desc,
                decision_id desc
        ) as version_rank
    from candidate_versions

),

versions as (

    select
        job_family,
        valid_from,
        lead(valid_from) over (partition by job_family order by valid_from) as valid_until,
        weights_source,
        decision_id,
        decided_at
    from ranked_versions
    where version_rank = 1

),

initial_rows as (

    select
        versions.job_family,
        initial_weights.competency_code,
        cast(initial_weights.weight as {{ dbt.type_float() }}) as weight,
        versions.valid_from,
        versions.valid_until,
        versions.weights_source,
        versions.decision_id,
        versions.decided_at
    from versions
    inner join initial_weights
        on
            versions.job_family = initial_weights.job_family
            and versions.valid_from = cast(initial_weights.effective_from as date)
    where versions.decision_id is null

),

decision_rows as (

    select
        versions.job_family,
        competencies.competency_code,
        coalesce({{ json_number('decisions.weights_json', 'competencies.competency_code') }}, 0) as weight,
        versions.valid_from,
        versions.valid_until,
        versions.weights_source,
        versions.decision_id,
        versions.decided_at
    from versions
    inner join decisions
        on versions.decision_id = decisions.decision_id
    cross join competencies

),

unioned as (

    select * from initial_rows
    union all
    select * from decision_rows

),

keyed as (

    select
        *,
        {{ dbt.cast("valid_from", dbt.type_string()) }} as valid_from_text
    from unioned

),

final as (

    select
        {{ dbt.hash(dbt.concat(["job_family", "'|'", "competency_code", "'|'", "valid_from_text"])) }}
            as weight_version_id,
        job_family,
        competency_code,
        weight,
        valid_from,
        valid_until,
        valid_until is null as is_current,
        weights_source,
        decision_id,
        decided_at
    from keyed

)

select * from final
