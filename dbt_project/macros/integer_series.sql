{#- The integers 0 .. upper_bound - 1 (a literal) as a one-column relation named n, from digit cross joins:
    no engine-specific generator, and callers filter it down to the range their data needs. -#}
{% macro integer_series(upper_bound) -%}
    {%- set digits = [] -%}
    {%- set ns = namespace(size=1) -%}
    {%- for _ in range(6) -%}{%- if ns.size < upper_bound -%}{%- do digits.append(1) -%}{%- set ns.size = ns.size * 10 -%}{%- endif -%}{%- endfor -%}
    select n
    from (
        select
            {% for _ in digits -%}
            d{{ loop.index0 }}.digit * {{ 10 ** loop.index0 }}{% if not loop.last %} + {% endif %}
            {%- endfor %} as n
        from
            {% for _ in digits -%}
            ({%- for d in range(10) %}select {{ d }} as digit{% if not loop.last %} union all {% endif %}{% endfor -%})
            as d{{ loop.index0 }}{% if not loop.last %} cross join {% endif %}
            {% endfor %}
    ) as series
    where n < {{ upper_bound }}
{%- endmacro %}
