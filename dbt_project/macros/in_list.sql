{#- A quoted, comma-separated list of values for an `in (...)` test. -#}
{% macro in_list(values) -%}
    {%- for value in values -%}
        '{{ value }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}
