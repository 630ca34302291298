{# The batch's knowledge date (WAREHOUSE.md --as-of), as 'YYYY-MM-DD'. kinerja.dbt_build passes
   it in the environment (KINERJA_AS_OF): a `--vars` value that changes every night would make
   dbt parse the whole project again, a changed environment variable only the models that read
   it, and only when dbt runs a model, not when it parses. A var `as_of` (the Airflow DAG's tasks, unit tests' overrides, dbt by hand) wins. #}
{% macro as_of_value() -%}
    {#- parse time: the date shapes no ref or config, and an env_var() read here would make dbt
        parse the models that read it again whenever it changes -#}
    {%- if not execute -%}{{ return(var('as_of', '2026-12-31')) }}{%- endif -%}
    {{ return(var('as_of', none) or env_var('KINERJA_AS_OF', '2026-12-31')) }}
{%- endmacro %}

{% macro as_of_date() -%}
    cast('{{ as_of_value() }}' as date)
{%- endmacro %}

{# End of the as-of day (exclusive), UTC: the knowledge-time cut of WAREHOUSE.md. #}
{% macro knowledge_cutoff() -%}
    (cast('{{ as_of_value() }}' as date) + interval 1 day)
{%- endmacro %}
