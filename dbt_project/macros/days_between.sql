{#- Elapsed days between two timestamps, with the fraction: datediff in days counts midnights crossed,
    which would make 23:59 -> 00:01 a whole day in stage. -#}
{% macro days_between(start_expression, end_expression) -%}
    ({{ dbt.datediff(start_expression, end_expression, 'second') }} / 86400.0)
{%- endmacro %}
