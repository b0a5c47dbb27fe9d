{#- The number stored under one key of a JSON object held as text (null when absent or not a number).
    JSON functions differ by engine, so each gets its own spelling. -#}
{% macro json_number(json_expression, key_expression) -%}
    {{ return(adapter.dispatch('json_number', 'talentloop')(json_expression, key_expression)) }}
{%- endmacro %}

{% macro duckdb__json_number(json_expression, key_expression) -%}
    try_cast(json_extract_string({{ json_expression }}, {{ dbt.concat(["'$.\"'", key_expression, "'\"'"]) }}) as double)
{%- endmacro %}

{% macro default__json_number(json_expression, key_expression) -%}
    {{ dbt.safe_cast("json_extract_path_text(" ~ json_expression ~ ", " ~ key_expression ~ ")", dbt.type_float()) }}
{%- endmacro %}
