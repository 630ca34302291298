{# End of the as-of day (exclusive), UTC: the knowledge-time cut of WAREHOUSE.md. #}
{% macro as_of_date() -%}
    cast('{{ var("as_of") }}' as date)
{%- endmacro %}

{% macro knowledge_cutoff() -%}
    (cast('{{ var("as_of") }}' as date) + interval 1 day)
{%- endmacro %}
