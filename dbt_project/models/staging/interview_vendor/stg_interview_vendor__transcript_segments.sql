with

source as (

    select * from {{ source('interview_vendor', 'transcript_segments') }}

),

latest as (

    {{ latest_by_key('source', ['interview_id', 'segment_no']) }}

),

renamed as (

    select
        cast(interview_id as varchar) as interview_id,
        segment_no,
        question_id,
        speaker,
        start_s as start_seconds,
        end_s as end_seconds,
        text as segment_text,
        language,
        _partition_date as landed_on,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
