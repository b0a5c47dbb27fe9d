{#- The hire-to-candidate crosswalk, one row per HRIS employee, linked or not. In order of trust:
    1 candidate_key: the HRIS row carries the candidate id;
    2 email: the e-mail match key equals one candidate's;
    3 name_hire_date: the full-name match key equals a candidate's and the HRIS hire date falls within
      var('link_window_days_before'/'_after') days of that candidate's latest offer_accepted (else hired) event;
      the closest in time wins, and count_name_matches says how many fitted.
    A row naming a candidate who is not analysable (no consent, erased, unknown) is candidate_key_not_eligible
    and is not matched any other way; a row no rule links is 'unlinked'. Both are kept and reported. -#}
with

employees as (

    select * from {{ ref('stg_hris__employees') }}

),

candidates as (

    select * from {{ ref('int_candidates_filtered') }}

),

applications as (

    select * from {{ ref('int_applications_pivoted') }}

),

hiring_applications as (

    -- The application a candidate was hired through: the latest hired, else the latest accepted offer.
    select
        candidate_key,
        application_id,
        requisition_id,
        coalesce(offer_accepted_at, hired_at) as anchor_at,
        cast(coalesce(offer_accepted_at, hired_at) as date) as anchor_on,
        hired_at,
        row_number() over (
            partition by candidate_key
            order by coalesce(hired_at, offer_accepted_at) desc, application_id desc
        ) as hiring_rank
    from applications
    where offer_accepted_at is not null or hired_at is not null

),

anchors as (

    select * from hiring_applications
    where hiring_rank = 1

),

by_candidate_key as (

    select
        employees.employee_key,
        candidates.candidate_key
    from employees
    inner join candidates
        on employees.candidate_key = candidates.candidate_key

),

by_email_ranked as (

    select
        employees.employee_key,
        candidates.candidate_key,
        row_number() over (
            partition by employees.employee_key
            order by
                case when anchors.anchor_at is null then 1 else 0 end, anchors.anchor_at desc,
                candidates.candidate_key asc
        ) as match_rank
    from employees
    inner join candidates
        on employees.email_key = candidates.email_key
    left join anchors
        on candidates.candidate_key = anchors.candidate_key
    where employees.candidate_key is null and employees.email_key is not null

),

by_email as (

    select
        employee_key,
        candidate_key
    from by_email_ranked
    where match_rank = 1

),

by_name_ranked as (

    select
        employees.employee_key,
        candidates.candidate_key,
        count(*) over (partition by employees.employee_key) as count_name_matches,
        row_number() over (
            partition by employees.employee_key
            order by
                abs({{ dbt.datediff('cast(coalesce(anchors.hired_at, anchors.anchor_at) as date)',
                                    'employees.hire_date', 'day') }}),
                candidates.candidate_key
        ) as match_rank
    from employees
    inner join candidates
        on employees.full_name_key = candidates.full_name_key
    inner join anchors
        on candidates.candidate_key = anchors.candidate_key
    where
        employees.candidate_key is null
        and employees.full_name_key is not null
        and employees.hire_date
        >= {{ dbt.dateadd('day', -1 * var('link_window_days_before'), 'anchors.anchor_on') }}
        and employees.hire_date
        <= {{ dbt.dateadd('day', var('link_window_days_after'), 'anchors.anchor_on') }}

),

by_name as (

    select
        employee_key,
        candidate_key,
        count_name_matches
    from by_name_ranked
    where match_rank = 1

),

linked as (

    select
        employees.employee_key,
        employees.hire_date,
        employees.job_family,
        case
            when by_candidate_key.candidate_key is not null then by_candidate_key.candidate_key
            when employees.candidate_key is not null then null
            when by_email.candidate_key is not null then by_email.candidate_key
            else by_name.candidate_key
        end as candidate_key,
        case
            when by_candidate_key.candidate_key is not null then 'candidate_key'
            when employees.candidate_key is not null then 'candidate_key_not_eligible'
            when by_email.candidate_key is not null then 'email'
            when by_name.candidate_key is not null then 'name_hire_date'
            else 'unlinked'
        end as match_method,
        by_name.count_name_matches
    from employees
    left join by_candidate_key
        on employees.employee_key = by_candidate_key.employee_key
    left join by_email
        on employees.employee_key = by_email.employee_key
    left join by_name
        on employees.employee_key = by_name.employee_key

),

final as (

    select
        linked.employee_key,
        linked.candidate_key,
        linked.match_method,
        linked.candidate_key is not null as is_linked,
        anchors.application_id,
        anchors.requisition_id,
        linked.hire_date,
        linked.job_family,
        cast(anchors.anchor_at as date) as offer_accepted_on,
        cast(anchors.hired_at as date) as ats_hired_on,
        case
            when anchors.anchor_at is not null
                then {{ dbt.datediff('cast(anchors.anchor_at as date)', 'linked.hire_date', 'day') }}
        end as days_offer_to_hire,
        case when linked.match_method = 'name_hire_date' then linked.count_name_matches end as count_name_matches
    from linked
    left join anchors
        on linked.candidate_key = anchors.candidate_key

)

select * from final
