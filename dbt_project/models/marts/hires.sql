{#- One row per hire (HRIS employee), linked to the candidate they were when the crosswalk can tell: the
    hiring interview's scores, resume size, 3/6/12-month ratings, probation, tenure, exit and complaints.
    Unlinked hires stay, with null candidate-side columns. Tenure and exposure run to the termination date or
    the warehouse's as-of day, whichever is first. Candidate-level: access-controlled, not suppressed. -#}
with

employees as (

    select * from {{ ref('stg_hris__employees') }}

),

links as (

    select * from {{ ref('candidate_employee_links') }}

),

interviews as (

    select * from {{ ref('int_interviews_scored') }}

),

reviews as (

    select * from {{ ref('int_employee_reviews_pivoted') }}

),

complaints as (

    select * from {{ ref('stg_complaints_desk__complaints') }}

),

resumes as (

    select * from {{ ref('stg_ats__resumes') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

hiring_interviews_ranked as (

    -- The interview that scored the hire: the latest completed, scored attempt of the hiring application,
    -- else the candidate's latest completed, scored interview before the hire date.
    select
        links.employee_key,
        interviews.*,
        row_number() over (
            partition by links.employee_key
            order by
                case when interviews.application_id = links.application_id then 0 else 1 end,
                interviews.started_at desc,
                interviews.interview_id desc
        ) as interview_rank
    from links
    inner join interviews
        on links.candidate_key = interviews.candidate_key
    where
        interviews.interview_status = 'completed'
        and interviews.composite_score is not null
        and cast(interviews.started_at as date) <= links.hire_date

),

hiring_interviews as (

    select * from hiring_interviews_ranked
    where interview_rank = 1

),

resumes_ranked as (

    select
        links.employee_key,
        resumes.resume_text,
        row_number() over (
            partition by links.employee_key
            order by resumes.received_at desc, resumes.resume_id desc
        ) as resume_rank
    from links
    inner join resumes
        on links.candidate_key = resumes.candidate_key
    where cast(resumes.received_at as date) <= links.hire_date

),

resume_features as (

    select
        employee_key,
        {{ dbt.length('resume_text') }} as resume_characters,
        -- Words = runs of non-spaces; a rough size, the ML text features hold the parsed fields.
        {{ dbt.length('trim(resume_text)') }}
        - {{ dbt.length(dbt.replace('trim(resume_text)', "' '", "''")) }} + 1 as resume_words
    from resumes_ranked
    where resume_rank = 1 and resume_text is not null

),

complaint_counts as (

    select
        complaints.employee_key,
        count(*) as count_complaints,
        sum(case when complaints.is_substantiated then 1 else 0 end) as count_substantiated_complaints
    from complaints
    cross join as_of
    where cast(complaints.received_at as date) < as_of.as_of_date
    group by complaints.employee_key

),

tenure as (

    select
        employees.employee_key,
        as_of.as_of_date,
        case
            when employees.termination_date is not null and employees.termination_date < as_of.as_of_date
                then employees.termination_date
        end as observed_termination_date,
        {{ dbt.datediff(
            'employees.hire_date',
            'case when employees.termination_date is not null and employees.termination_date < as_of.as_of_date
                then employees.termination_date else as_of.as_of_date end',
            'day') }} as tenure_days
    from employees
    cross join as_of

),

joined as (

    select
        employees.employee_key,
        links.candidate_key,
        links.match_method,
        links.is_linked,
        links.application_id,
        coalesce(links.requisition_id, hiring_interviews.requisition_id) as requisition_id,
        employees.job_family,
        employees.department,
        employees.region,
        employees.manager_key,
        employees.hire_date,
        cast({{ dbt.date_trunc('quarter', 'employees.hire_date') }} as date) as hire_quarter,
        cast({{ dbt.date_trunc('month', 'employees.hire_date') }} as date) as hire_month,
        hiring_interviews.interview_id,
        hiring_interviews.started_at as interview_started_at,
        hiring_interviews.composite_score,
        hiring_interviews.composite_quintile,
        {%- for competency in var('competencies') %}
            hiring_interviews.score_{{ competency }},
        {%- endfor %}
        resume_features.resume_characters,
        resume_features.resume_words,
        reviews.rating_3m,
        reviews.rating_6m,
        reviews.rating_12m,
        reviews.probation_passed,
        reviews.probation_review_date,
        tenure.observed_termination_date as termination_date,
        case when tenure.observed_termination_date is not null then employees.termination_type end
            as termination_type,
        case when tenure.observed_termination_date is not null then employees.termination_reason end
            as termination_reason,
        tenure.observed_termination_date is null as is_active,
        tenure.tenure_days,
        -- Only hires whose first year is over count: an early leaver is known sooner than a stayer, so counting
        -- open years would bias retention down.
        case
            when {{ dbt.dateadd('day', 365, 'employees.hire_date') }} <= tenure.as_of_date
                then tenure.tenure_days >= 365
        end as is_retained_12m,
        coalesce(complaint_counts.count_complaints, 0) as count_complaints,
        coalesce(complaint_counts.count_substantiated_complaints, 0) as count_substantiated_complaints,
        case
            when tenure.tenure_days > 0
                then 1000.0 * coalesce(complaint_counts.count_complaints, 0) / tenure.tenure_days
        end as complaints_per_1000_days,
        tenure.as_of_date
    from employees
    inner join links
        on employees.employee_key = links.employee_key
    inner join tenure
        on employees.employee_key = tenure.employee_key
    left join hiring_interviews
        on employees.employee_key = hiring_interviews.employee_key
    left join resume_features
        on employees.employee_key = resume_features.employee_key
    left join reviews
        on employees.employee_key = reviews.employee_key
    left join complaint_counts
        on employees.employee_key = complaint_counts.employee_key
    where employees.hire_date < tenure.as_of_date

),

banded as (

    select
        *,
        -- Terciles among the family's scored hires: hires are range-restricted, so applicant quintiles would
        -- put almost all of them in the top two bands.
        case
            when composite_score is null then 'unscored'
            else
                case ntile(3)
                    over (
                        partition by job_family, case when composite_score is null then 1 else 0 end
                        order by composite_score, employee_key
                    )
                    when 1 then 'low'
                    when 2 then 'medium'
                    else 'high'
                end
        end as score_band
    from joined

)

select * from banded
