{#- The one day every tenure, exposure and censoring is measured to: the day after the last landed day of any
    source (the night the export was taken), or var('as_of_date'). Never the wall clock, so a rerun on the same
    files gives the same numbers. -#}
with

requisitions as (

    select max(landed_on) as landed_on from {{ ref('stg_ats__requisitions') }}

),

candidates as (

    select max(landed_on) as landed_on from {{ ref('stg_ats__candidates') }}

),

application_events as (

    select max(landed_on) as landed_on from {{ ref('stg_ats__application_events') }}

),

resumes as (

    select max(landed_on) as landed_on from {{ ref('stg_ats__resumes') }}

),

interviews as (

    select max(landed_on) as landed_on from {{ ref('stg_interview_vendor__interviews') }}

),

interview_scores as (

    select max(landed_on) as landed_on from {{ ref('stg_interview_vendor__interview_scores') }}

),

transcript_segments as (

    select max(landed_on) as landed_on from {{ ref('stg_interview_vendor__transcript_segments') }}

),

employees as (

    select max(landed_on) as landed_on from {{ ref('stg_hris__employees') }}

),

performance_reviews as (

    select max(landed_on) as landed_on from {{ ref('stg_review_tool__performance_reviews') }}

),

complaints as (

    select max(landed_on) as landed_on from {{ ref('stg_complaints_desk__complaints') }}

),

erasure_requests as (

    select max(landed_on) as landed_on from {{ ref('stg_privacy__erasure_requests') }}

),

landed as (

    select landed_on from requisitions
    union all
    select landed_on from candidates
    union all
    select landed_on from application_events
    union all
    select landed_on from resumes
    union all
    select landed_on from interviews
    union all
    select landed_on from interview_scores
    union all
    select landed_on from transcript_segments
    union all
    select landed_on from employees
    union all
    select landed_on from performance_reviews
    union all
    select landed_on from complaints
    union all
    select landed_on from erasure_requests

),

final as (

    select
        {%- if var('as_of_date') %}
            cast('{{ var("as_of_date") }}' as date) as as_of_date,
        {%- else %}
            cast({{ dbt.dateadd('day', 1, 'max(landed_on)') }} as date) as as_of_date,
        {%- endif %}
        max(landed_on) as last_landed_on
    from landed

)

select * from final
