{#- A number when the text is one, else null. dbt's safe_cast falls back to a plain cast on DuckDB, which
    errors on 'strong_yes'; each engine gets its own null-on-failure cast here. -#}
{% macro try_to_double(expression) -%}
    {{ return(adapter.dispatch('try_to_double', 'talentloop')(expression)) }}
{%- endmacro %}

{% macro duckdb__try_to_double(expression) -%}
    try_cast({{ expression }} as double)
{%- endmacro %}

{% macro default__try_to_double(expression) -%}
    {{ dbt.safe_cast(expression, dbt.type_float()) }}
{%- endmacro %}
