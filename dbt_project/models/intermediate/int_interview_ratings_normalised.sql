{#- One rating on the 0-1 scale: numbers from their own row's scale, words through the rating seed, labels
    through the competency seed. Ingestion already quarantined unknown labels and words, so the inner
    joins drop nothing that passed the contract. Ratings of candidates without analytics consent, or who asked
    for erasure, drop out with int_candidates_filtered. A view: the incremental marts above it read only the
    interviews that changed. -#}
{{ config(materialized='view') }}

with

scores as (

    select * from {{ ref('stg_interview_vendor__interview_scores') }}

),

interviews as (

    select * from {{ ref('stg_interview_vendor__interviews') }}

),

candidates as (

    select * from {{ ref('int_candidates_filtered') }}

),

requisitions as (

    select * from {{ ref('stg_ats__requisitions') }}

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
        interviews.application_id,
        requisitions.job_family,
        requisitions.department,
        requisitions.region,
        scores.landed_on,
        scores.loaded_at,
        -- The newest input behind this rating: an incremental build recomputes the interview when it moves.
        greatest(
            scores.loaded_at,
            interviews.loaded_at,
            candidates.loaded_at,
            coalesce(requisitions.loaded_at, scores.loaded_at)
        ) as _loaded_at_max
    from scores
    inner join labels
        on scores.competency_label_normalised = labels.competency_label_normalised
    inner join interviews
        on scores.interview_id = interviews.interview_id
    inner join candidates
        on interviews.candidate_key = candidates.candidate_key
    left join requisitions
        on interviews.requisition_id = requisitions.requisition_id
    left join words
        on lower(trim(scores.score_raw)) = words.word

),

deduplicated as (

    -- One rater scoring one competency under two labels (a vendor re-export with new spellings): the later
    -- landing wins, so interview x rater x competency stays a key.
    select
        *,
        row_number() over (
            partition by interview_id, rater_id, competency_code
            order by landed_on desc, loaded_at desc, competency_label desc
        ) as _label_rank
    from joined

),

normalised as (

    select
        interview_id,
        rater_id,
        rater_type,
        competency_code,
        competency_label,
        score_raw,
        scale_min,
        scale_max,
        score_number,
        word_value,
        case
            when score_number is not null
                then (score_number - scale_min) / (scale_max - scale_min)
            else word_value
        end as score_normalised,
        scored_at,
        model_version,
        candidate_key,
        requisition_id,
        application_id,
        job_family,
        department,
        region,
        _loaded_at_max
    from deduplicated
    where _label_rank = 1

)

select * from normalised
