{#- A row-level arithmetic rule (the dbt_utils test of the same name; packages cannot be fetched here). -#}
{% test expression_is_true(model, expression, column_name=none, where=none) %}
select * from {{ model }}
where not ({{ expression }}){% if where %} and ({{ where }}){% endif %}
{% endtest %}
