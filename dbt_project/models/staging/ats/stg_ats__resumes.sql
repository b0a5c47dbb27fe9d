{#- Resume text stays in staging (a view, never published): it can hold a name or an e-mail, so marts carry
    only counts derived from it. -#}
with

source as (

    select * from {{ source('ats', 'resumes') }}

),

latest as (

    {{ latest_by_key('source', ['resume_id']) }}

),

renamed as (

    select
        cast(resume_id as varchar) as resume_id,
        cast(candidate_id as varchar) as candidate_key,
        received_at,
        format as resume_format,
        coalesce(extracted_text, text) as resume_text,
        file_path is not null as is_document,
        _partition_date as landed_on,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
