{#- One row per application x stage it entered, as validity intervals built with lead(): a stage lasts from
    its event to the application's next event. The application's terminal event (the earliest of
    var('terminal_events')) is the last row, with valid_until = valid_from; the stage before it closes there,
    not at "now", so reruns agree. Events after the terminal one are left out. A stage of a still-open
    application has no valid_until yet. -#}
with

events as (

    select * from {{ ref('stg_ats__application_events') }}

),

candidates as (

    select * from {{ ref('int_candidates_filtered') }}

),

consented_events as (

    select
        events.application_id,
        events.candidate_key,
        events.requisition_id,
        events.event_name,
        events.event_at,
        case
            when
                events.event_name in (
                    {{ in_list(var('terminal_events')) }}
                )
                then 1
            else 0
        end as is_terminal_event,
        case events.event_name
            {%- for stage in funnel_stage_names() %}
                when '{{ stage }}' then {{ loop.index }}
            {%- endfor %}
            else 99
        end as event_precedence
    from events
    inner join candidates
        on events.candidate_key = candidates.candidate_key

),

terminals_ranked as (

    select
        application_id,
        event_name as terminal_event,
        event_at as terminal_at,
        row_number() over (partition by application_id order by event_at, event_name) as terminal_rank
    from consented_events
    where is_terminal_event = 1

),

terminals as (

    select * from terminals_ranked
    where terminal_rank = 1

),

until_terminal as (

    select
        consented_events.*,
        terminals.terminal_at
    from consented_events
    left join terminals
        on consented_events.application_id = terminals.application_id
    where
        terminals.terminal_at is null
        or consented_events.event_at < terminals.terminal_at
        or (consented_events.event_at = terminals.terminal_at and consented_events.is_terminal_event = 0)
        or (
            consented_events.event_at = terminals.terminal_at
            and consented_events.event_name = terminals.terminal_event
        )

),

ordered as (

    select
        *,
        row_number() over (
            partition by application_id
            order by event_at, is_terminal_event, event_precedence, event_name
        ) as stage_order
    from until_terminal

),

intervals as (

    select
        application_id,
        candidate_key,
        requisition_id,
        event_name as stage_name,
        stage_order,
        is_terminal_event = 1 as is_terminal,
        event_at as valid_from,
        case
            when is_terminal_event = 1 then event_at
            else lead(event_at) over (partition by application_id order by stage_order)
        end as valid_until
    from ordered

),

final as (

    select
        {{ dbt.hash(dbt.concat(["application_id", "'|'", dbt.cast("stage_order", dbt.type_string())])) }}
            as application_stage_id,
        application_id,
        candidate_key,
        requisition_id,
        stage_name,
        stage_order,
        is_terminal,
        valid_from,
        valid_until,
        valid_until is null as is_current,
        {{ days_between('valid_from', 'valid_until') }} as days_in_stage
    from intervals

)

select * from final
