{#- One row per application with the time of each event. Incremental: an application is recomputed from all
    its events whenever any of its events, or its candidate, landed after the last build; the post-hook drops
    applications whose candidate has since left the analysable set (consent withdrawn, erasure). -#}
{{
    config(
        materialized='incremental',
        unique_key='application_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=[
            "delete from {{ this }} where candidate_key not in
             (select candidate_key from {{ ref('int_candidates_filtered') }})"
        ]
    )
}}

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
            when events.loaded_at > candidates.loaded_at then events.loaded_at
            else candidates.loaded_at
        end as loaded_at
    from events
    inner join candidates
        on events.candidate_key = candidates.candidate_key

),

scoped_events as (

    -- Incremental: only applications with an event or candidate row newer than the newest already built.
    select consented_events.*
    from consented_events
    {% if is_incremental() %}
        where consented_events.application_id in (
            select changed.application_id
            from consented_events as changed
            where changed.loaded_at > (
                select coalesce(max(built._loaded_at_max), {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }})
                from {{ this }} as built
            )
        )
    {% endif %}

),

terminal_ranked as (

    select
        application_id,
        event_name,
        event_at,
        row_number() over (
            partition by application_id
            order by event_at, event_name
        ) as terminal_rank
    from scoped_events
    where
        event_name in (
            {{ in_list(var('terminal_events')) }}
        )

),

terminal as (

    select
        application_id,
        event_name as terminal_event,
        event_at as terminal_at
    from terminal_ranked
    where terminal_rank = 1

),

pivoted as (

    select
        application_id,
        min(candidate_key) as candidate_key,
        min(requisition_id) as requisition_id,
        min(case when event_name = 'applied' then event_at end) as applied_at,
        min(case when event_name = 'screened_in' then event_at end) as screened_in_at,
        min(case when event_name = 'screened_out' then event_at end) as screened_out_at,
        min(case when event_name = 'interview_invited' then event_at end) as interview_invited_at,
        max(case when event_name = 'interview_completed' then event_at end) as interview_completed_at,
        max(case when event_name = 'offer_made' then event_at end) as offer_made_at,
        max(case when event_name = 'offer_accepted' then event_at end) as offer_accepted_at,
        max(case when event_name = 'offer_declined' then event_at end) as offer_declined_at,
        min(case when event_name = 'hired' then event_at end) as hired_at,
        min(case when event_name = 'rejected' then event_at end) as rejected_at,
        min(case when event_name = 'withdrawn' then event_at end) as withdrawn_at,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        count(*) as count_events,
        sum(case when event_name = 'offer_made' then 1 else 0 end) as count_offers,
        max(loaded_at) as _loaded_at_max
    from scoped_events
    group by application_id

),

joined as (

    select
        pivoted.application_id,
        pivoted.candidate_key,
        pivoted.requisition_id,
        pivoted.applied_at,
        pivoted.screened_in_at,
        pivoted.screened_out_at,
        pivoted.interview_invited_at,
        pivoted.interview_completed_at,
        pivoted.offer_made_at,
        pivoted.offer_accepted_at,
        pivoted.offer_declined_at,
        pivoted.hired_at,
        pivoted.rejected_at,
        pivoted.withdrawn_at,
        pivoted.first_event_at,
        pivoted.last_event_at,
        terminal.terminal_event,
        terminal.terminal_at,
        coalesce({{ furthest_stage_order('pivoted.') }}, 1) as furthest_stage_order,
        pivoted.count_events,
        pivoted.count_offers,
        pivoted._loaded_at_max
    from pivoted
    left join terminal
        on pivoted.application_id = terminal.application_id

)

select * from joined
