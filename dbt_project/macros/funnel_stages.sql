{#- The hiring funnel in order. Each stage is an application event; reaching a later stage implies the
    earlier ones (a missing screened_in row does not make a hire vanish from the funnel). -#}
{% macro funnel_stage_names() -%}
    {{ return(['applied', 'screened_in', 'interview_invited', 'interview_completed', 'offer_made',
               'offer_accepted', 'hired']) }}
{%- endmacro %}

{% macro funnel_stages_relation() -%}
    {%- for stage in funnel_stage_names() %}
    select '{{ stage }}' as stage_name, {{ loop.index }} as stage_order
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- A case expression giving the furthest funnel stage order reached from per-stage timestamp columns. -#}
{% macro furthest_stage_order(prefix='') -%}
    case
    {%- for stage in funnel_stage_names() | reverse %}
        when {{ prefix }}{{ stage }}_at is not null then {{ funnel_stage_names() | length - loop.index0 }}
    {%- endfor %}
    end
{%- endmacro %}
