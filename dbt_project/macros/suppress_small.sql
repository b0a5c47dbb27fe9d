{#- A count or rate about fewer than var('min_cell_size') people becomes null, so a small group cannot be
    re-identified from a dashboard. `people` is the group size the value describes (the value itself when
    omitted). -#}
{% macro suppress_small(value_expression, people_expression=none) -%}
    case
        when {{ people_expression if people_expression is not none else value_expression }}
            >= {{ var('min_cell_size') }}
            then {{ value_expression }}
    end
{%- endmacro %}

{% macro is_small_cell(people_expression) -%}
    (coalesce({{ people_expression }}, 0) < {{ var('min_cell_size') }})
{%- endmacro %}
