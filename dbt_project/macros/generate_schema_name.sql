{# Public schema names are fixed by WAREHOUSE.md (`marts`, not `main_marts`): use the custom schema as is. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
