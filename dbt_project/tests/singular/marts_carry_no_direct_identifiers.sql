-- Fails when a published mart has a column that looks like a direct identifier (name, e-mail, phone,
-- resume or transcript text). Marts hold pseudonymous keys only; raw PII lives in the restricted store.
with

mart_columns as (

    select
        table_name,
        lower(column_name) as column_name
    from information_schema.columns
    where table_schema = 'marts'

)

select * from mart_columns
where
    column_name in (
        'full_name', 'name', 'first_name', 'last_name', 'email', 'phone', 'resume_text',
        'segment_text', 'extracted_text', 'email_key', 'full_name_key'
    )
    or column_name like '%phone%'
    or column_name like '%e_mail%'
