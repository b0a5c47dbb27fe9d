{#- One rating on the 0-1 scale: numbers from their own row's scale, words through the rating seed, labels
    through the competency seed. Ingestion already quarantined unknown labels and words, so the inner
    joins drop nothing that passed the contract. Ratings of candidates without analytics consent drop out
    with the consent-filtered candidate staging model. -#}
with

scores as (

    select * from {{ ref('stg_interview_vendor__interview_scores') }}

),

interviews as (

    select * from {{ ref('stg_interview_vendor__interviews') }}

),

candidates as (

    select * from {{ ref('stg_ats__candidates') }}

),

labels as (

    -- "Communication" and "COMMUNICATION" are one label once normalised: distinct keeps the join 1:1.
    select distinct
        lower(trim(label)) as competency_label_normalised,
        competency_code
    from {{ ref('competency_labels') }}

),

words as (

    select distinct
        lower(trim(word)) as word,
        value_0_1
    from {{ ref('rating_words') }}

),

joined as (

    select
        scores.interview_id,
        scores.rater_id,
        scores.rater_type,
        labels.competency_code,
        scores.competency_label,
        scores.score_raw,
        scores.scale_min,
        scores.scale_max,
        {{ try_to_double('scores.score_raw') }} as score_number,
        words.value_0_1 as word_value,
        scores.scored_at,
        scores.model_version,
        interviews.candidate_key,
        interviews.requisition_id,
        interviews.application_id
    from scores
    inner join labels
        on scores.competency_label_normalised = labels.competency_label_normalised
    inner join interviews
        on scores.interview_id = interviews.interview_id
    inner join candidates
        on interviews.candidate_key = candidates.candidate_key
    left join words
        on lower(trim(scores.score_raw)) = words.word

),

normalised as (

    select
        *,
        case
            when score_number is not null
                then (score_number - scale_min) / (scale_max - scale_min)
            else word_value
        end as score_normalised
    from joined

)

select * from normalised
