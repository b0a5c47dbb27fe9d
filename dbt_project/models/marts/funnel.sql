{#- The hiring funnel, one row per period x breakdown x group x stage.
    period_grain 'all' (applied_month null) or 'month' (the month the application was made);
    dimension 'all' (dimension_value 'all'), 'job_family', 'source_channel' or 'region' (the candidate's).
    A stage is entered by every application that reached it or any later stage; n_passed reached the next one.
    Stage-specific measures sit on the stage they describe: interview attempts, completion and technical-
    failure rates on interview_invited; days to offer and offer acceptance on offer_made. Counts and rates about
    fewer than var('min_cell_size') applications are suppressed (is_suppressed marks the row). -#}
with

applications as (

    select * from {{ ref('applications') }}

),

stage_history as (

    select * from {{ ref('application_stage_history') }}

),

stages as (

    {{ funnel_stages_relation() }}

),

dimensions as (

    select 'all' as dimension
    union all
    select 'job_family' as dimension
    union all
    select 'source_channel' as dimension
    union all
    select 'region' as dimension

),

period_grains as (

    select 'all' as period_grain
    union all
    select 'month' as period_grain

),

expanded as (

    select
        applications.application_id,
        period_grains.period_grain,
        case when period_grains.period_grain = 'month' then applications.applied_month end as applied_month,
        dimensions.dimension,
        coalesce(
            case dimensions.dimension
                when 'all' then 'all'
                when 'job_family' then applications.job_family
                when 'source_channel' then applications.source_channel
                when 'region' then applications.candidate_region
            end,
            'unknown'
        ) as dimension_value,
        applications.furthest_stage_order,
        applications.count_interviews,
        applications.count_interviews_completed,
        applications.count_technical_failures,
        applications.days_to_offer,
        applications.offer_made_at,
        case
            when applications.offer_accepted_at >= applications.offer_made_at then 1
            else 0
        end as is_offer_accepted,
        case
            when applications.offer_declined_at >= applications.offer_made_at then 1
            else 0
        end as is_offer_declined
    from applications
    cross join dimensions
    cross join period_grains

),

reach as (

    select
        expanded.period_grain,
        expanded.applied_month,
        expanded.dimension,
        expanded.dimension_value,
        stages.stage_name,
        stages.stage_order,
        sum(case when expanded.furthest_stage_order >= stages.stage_order then 1 else 0 end) as n_entered,
        sum(case when expanded.furthest_stage_order >= stages.stage_order + 1 then 1 else 0 end) as n_passed
    from expanded
    cross join stages
    group by
        expanded.period_grain,
        expanded.applied_month,
        expanded.dimension,
        expanded.dimension_value,
        stages.stage_name,
        stages.stage_order

),

group_measures as (

    select
        period_grain,
        applied_month,
        dimension,
        dimension_value,
        sum(count_interviews) as n_interviews,
        sum(count_interviews_completed) as n_interviews_completed,
        sum(count_technical_failures) as n_technical_failures,
        sum(case when offer_made_at is not null then 1 else 0 end) as n_offers,
        avg(days_to_offer) as avg_days_to_offer,
        sum(is_offer_accepted) as n_offers_accepted,
        sum(is_offer_declined) as n_offers_declined
    from expanded
    group by period_grain, applied_month, dimension, dimension_value

),

time_in_stage as (

    select
        expanded.period_grain,
        expanded.applied_month,
        expanded.dimension,
        expanded.dimension_value,
        stage_history.stage_name,
        avg(stage_history.days_in_stage) as avg_days_in_stage,
        count(*) as n_stage_closed
    from stage_history
    inner join expanded
        on stage_history.application_id = expanded.application_id
    where not stage_history.is_terminal and stage_history.valid_until is not null
    group by
        expanded.period_grain,
        expanded.applied_month,
        expanded.dimension,
        expanded.dimension_value,
        stage_history.stage_name

),

joined as (

    select
        reach.*,
        time_in_stage.avg_days_in_stage,
        time_in_stage.n_stage_closed,
        case when reach.stage_name = 'interview_invited' then group_measures.n_interviews end as n_interviews,
        case when reach.stage_name = 'interview_invited' then group_measures.n_interviews_completed end
            as n_interviews_completed,
        case when reach.stage_name = 'interview_invited' then group_measures.n_technical_failures end
            as n_technical_failures,
        case when reach.stage_name = 'offer_made' then group_measures.n_offers end as n_offers,
        case when reach.stage_name = 'offer_made' then group_measures.avg_days_to_offer end as avg_days_to_offer,
        case when reach.stage_name = 'offer_made' then group_measures.n_offers_accepted end as n_offers_accepted,
        case when reach.stage_name = 'offer_made' then group_measures.n_offers_declined end as n_offers_declined
    from reach
    inner join group_measures
        on
            reach.period_grain = group_measures.period_grain
            and reach.dimension = group_measures.dimension
            and reach.dimension_value = group_measures.dimension_value
            and (
                reach.applied_month = group_measures.applied_month
                or (reach.applied_month is null and group_measures.applied_month is null)
            )
    left join time_in_stage
        on
            reach.period_grain = time_in_stage.period_grain
            and reach.dimension = time_in_stage.dimension
            and reach.dimension_value = time_in_stage.dimension_value
            and reach.stage_name = time_in_stage.stage_name
            and (
                reach.applied_month = time_in_stage.applied_month
                or (reach.applied_month is null and time_in_stage.applied_month is null)
            )

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "period_grain", "'|'", "coalesce(" ~ dbt.cast("applied_month", dbt.type_string()) ~ ", 'all')", "'|'",
            "dimension", "'|'", "dimension_value", "'|'", "stage_name"])) }} as funnel_id,
        period_grain,
        applied_month,
        dimension,
        dimension_value,
        stage_name,
        stage_order,
        {{ is_small_cell('n_entered') }} as is_suppressed,
        {{ suppress_small('n_entered') }} as n_entered,
        {%- set last_stage = funnel_stage_names() | length %}
        case
            when stage_order < {{ last_stage }} then {{ suppress_small('n_passed', 'n_entered') }}
        end as n_passed,
        case
            when stage_order < {{ last_stage }} then {{ suppress_small('1.0 * n_passed / n_entered', 'n_entered') }}
        end as pass_through_rate,
        {{ suppress_small('avg_days_in_stage', 'n_stage_closed') }} as avg_days_in_stage,
        {{ suppress_small('n_interviews', 'n_entered') }} as n_interviews,
        {{ suppress_small('n_interviews_completed', 'n_entered') }} as n_interviews_completed,
        {{ suppress_small('n_technical_failures', 'n_entered') }} as n_technical_failures,
        {{ suppress_small('1.0 * n_interviews_completed / nullif(n_interviews, 0)', 'n_interviews') }}
            as interview_completion_rate,
        {{ suppress_small('1.0 * n_technical_failures / nullif(n_interviews, 0)', 'n_interviews') }}
            as technical_failure_rate,
        {{ suppress_small('n_offers', 'n_entered') }} as n_offers,
        {{ suppress_small('avg_days_to_offer', 'n_offers') }} as avg_days_to_offer,
        {{ suppress_small('n_offers_accepted', 'n_entered') }} as n_offers_accepted,
        {{ suppress_small('n_offers_declined', 'n_entered') }} as n_offers_declined,
        {{ suppress_small(
            '1.0 * n_offers_accepted / nullif(n_offers_accepted + n_offers_declined, 0)',
            'n_offers_accepted + n_offers_declined') }} as offer_acceptance_rate
    from joined
    where n_entered > 0

)

select * from final
