-- Fails when var('competencies') in dbt_project.yml and seeds/competencies.csv disagree: the wide score
-- columns (score_<competency>) would then miss a competency or invent one.
with

seeded as (

    select competency_code from {{ ref('competencies') }}

),

configured as (

    {%- for competency in var('competencies') %}
        select '{{ competency }}' as competency_code
        {%- if not loop.last %} union all{% endif %}
    {%- endfor %}

),

missing_from_var as (

    select seeded.competency_code from seeded
    where seeded.competency_code not in (select configured.competency_code from configured)

),

missing_from_seed as (

    select configured.competency_code from configured
    where configured.competency_code not in (select seeded.competency_code from seeded)

)

select * from missing_from_var
union all
select * from missing_from_seed
