{#- One row per analysable candidate never hired who has a completed, scored interview: the latest such
    interview's per-competency scores and composite, where they applied and when they were last active, and
    strong_<competency> tags for scores at or above var('strong_score_threshold'). Candidate-level: access-
    controlled, not suppressed. Transcript keyword tags come from ML and join on candidate_key. -#}
with

candidates as (

    select * from {{ ref('candidates') }}

),

interviews as (

    select * from {{ ref('int_interviews_scored') }}

),

applications as (

    select * from {{ ref('int_applications_pivoted') }}

),

links as (

    select * from {{ ref('candidate_employee_links') }}

),

employed as (

    select distinct candidate_key from links
    where candidate_key is not null

),

latest_interviews_ranked as (

    select
        interviews.*,
        row_number() over (
            partition by interviews.candidate_key
            order by interviews.started_at desc, interviews.interview_id desc
        ) as interview_rank
    from interviews
    where interviews.interview_status = 'completed' and interviews.count_competencies_scored > 0

),

latest_interviews as (

    select * from latest_interviews_ranked
    where interview_rank = 1

),

latest_outcomes_ranked as (

    select
        candidate_key,
        coalesce(terminal_event, 'open') as last_outcome,
        row_number() over (
            partition by candidate_key
            order by last_event_at desc, application_id desc
        ) as application_rank
    from applications

),

latest_outcomes as (

    select * from latest_outcomes_ranked
    where application_rank = 1

),

strengths as (

    {%- for competency in var('competencies') %}
        select
            candidate_key,
            '{{ competency }}' as competency_code,
            {{ loop.index }} as competency_order
        from latest_interviews
        where score_{{ competency }} >= {{ var('strong_score_threshold') }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

tags as (

    select
        candidate_key,
        count(*) as count_strong_competencies,
        {{ dbt.listagg(dbt.concat(["'strong_'", "competency_code"]), "','", "order by competency_order") }} as tags
    from strengths
    group by candidate_key

),

final as (

    select
        candidates.candidate_key,
        latest_interviews.interview_id as latest_interview_id,
        latest_interviews.started_at as latest_interview_at,
        latest_interviews.application_id as latest_application_id,
        latest_interviews.requisition_id,
        latest_interviews.job_family,
        latest_interviews.department,
        candidates.region,
        candidates.source_channel,
        {%- for competency in var('competencies') %}
            latest_interviews.score_{{ competency }},
            coalesce(
                latest_interviews.score_{{ competency }} >= {{ var('strong_score_threshold') }}, false
            ) as is_strong_{{ competency }},
        {%- endfor %}
        latest_interviews.composite_score,
        latest_interviews.composite_quintile,
        coalesce(tags.count_strong_competencies, 0) as count_strong_competencies,
        coalesce(tags.tags, '') as tags,
        latest_outcomes.last_outcome,
        candidates.last_activity_at,
        cast(candidates.last_activity_at as date) as last_activity_date
    from candidates
    inner join latest_interviews
        on candidates.candidate_key = latest_interviews.candidate_key
    left join latest_outcomes
        on candidates.candidate_key = latest_outcomes.candidate_key
    left join tags
        on candidates.candidate_key = tags.candidate_key
    left join employed
        on candidates.candidate_key = employed.candidate_key
    where not candidates.is_hired and employed.candidate_key is null

)

select * from final
