{#- Latest version of each key wins: later landing day, then later load, then later row of the same file.
    Earlier versions stay in raw as history. Written with row_number() in a subquery (not QUALIFY) so the
    SQL runs on engines other than DuckDB. -#}
{% macro latest_by_key(relation_sql, key_columns) -%}
    select * from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _partition_date desc, _loaded_at desc, _row_number desc
            ) as _version_rank
        from {{ relation_sql }}
    ) as versions
    where _version_rank = 1
{%- endmacro %}
