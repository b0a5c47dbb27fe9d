with

source as (

    select * from {{ source('interview_vendor', 'interview_scores') }}

),

latest as (

    {{ latest_by_key('source', ['interview_id', 'rater_id', 'competency']) }}

),

renamed as (

    select
        cast(interview_id as varchar) as interview_id,
        cast(rater_id as varchar) as rater_id,
        rater_type,
        competency as competency_label,
        lower(trim(competency)) as competency_label_normalised,
        score as score_raw,
        cast(scale_min as double) as scale_min,
        cast(scale_max as double) as scale_max,
        scored_at,
        model_version,
        _partition_date as landed_on,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
