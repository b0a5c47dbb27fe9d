{#- One row per interview of an analysable candidate, with its job family, the per-competency mean scores
    (all raters) as columns, and the composite under the weights in force on the interview's start day for
    its job family: sum(weight x score) / sum(weight) over the competencies scored, so an interview missing a
    competency is not pulled toward 0. Before a family's first effective weights there is no composite. -#}
with

interviews as (

    select * from {{ ref('stg_interview_vendor__interviews') }}

),

candidates as (

    select * from {{ ref('int_candidates_filtered') }}

),

requisitions as (

    select * from {{ ref('stg_ats__requisitions') }}

),

competency_scores as (

    select * from {{ ref('int_interview_competencies_aggregated') }}

),

weights as (

    select * from {{ ref('int_scorecard_weights_history') }}

),

analysable_interviews as (

    select
        interviews.interview_id,
        interviews.application_id,
        interviews.candidate_key,
        interviews.requisition_id,
        requisitions.job_family,
        requisitions.department,
        requisitions.region as requisition_region,
        interviews.started_at,
        interviews.ended_at,
        interviews.interview_mode,
        interviews.interview_status,
        interviews.vendor,
        interviews.jurisdiction
    from interviews
    inner join candidates
        on interviews.candidate_key = candidates.candidate_key
    left join requisitions
        on interviews.requisition_id = requisitions.requisition_id

),

weighted as (

    select
        competency_scores.interview_id,
        weights.valid_from as weights_valid_from,
        weights.weight * competency_scores.score_mean as weighted_score,
        weights.weight
    from competency_scores
    inner join analysable_interviews
        on competency_scores.interview_id = analysable_interviews.interview_id
    inner join weights
        on
            analysable_interviews.job_family = weights.job_family
            and competency_scores.competency_code = weights.competency_code
            and cast(analysable_interviews.started_at as date) >= weights.valid_from
            and (
                weights.valid_until is null
                or cast(analysable_interviews.started_at as date) < weights.valid_until
            )

),

composites as (

    select
        interview_id,
        max(weights_valid_from) as weights_valid_from,
        case
            when sum(weight) > 0 then sum(weighted_score) / sum(weight)
        end as composite_score
    from weighted
    group by interview_id

),

scores_wide as (

    select
        interview_id,
        {%- for competency in var('competencies') %}
            max(case when competency_code = '{{ competency }}' then score_mean end) as score_{{ competency }},
        {%- endfor %}
        count(*) as count_competencies_scored
    from competency_scores
    group by interview_id

),

joined as (

    select
        analysable_interviews.*,
        {%- for competency in var('competencies') %}
            scores_wide.score_{{ competency }},
        {%- endfor %}
        coalesce(scores_wide.count_competencies_scored, 0) as count_competencies_scored,
        composites.composite_score,
        composites.weights_valid_from
    from analysable_interviews
    left join scores_wide
        on analysable_interviews.interview_id = scores_wide.interview_id
    left join composites
        on analysable_interviews.interview_id = composites.interview_id

),

banded as (

    select
        *,
        -- Quintile of the applicant pool (every scored interview of the family), 5 = strongest.
        case
            when composite_score is not null
                then ntile(5) over (
                    partition by job_family, case when composite_score is null then 1 else 0 end
                    order by composite_score, interview_id
                )
        end as composite_quintile
    from joined

)

select * from banded
