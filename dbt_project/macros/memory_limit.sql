{# DuckDB's memory limit for this dbt command (kinerja.build_state.dbt_memory_limit picks it per
   build and passes it as KINERJA_DBT_MEMORY_LIMIT), set by the project's on-run-start hook.

   Not a `settings:` entry of profiles.yml: the profile's settings are part of the hash dbt keys
   its partial parse on, so a full build (3 GB per year of the store) followed by a night (3 GB)
   made the night parse the whole project again (2.2 s of a five-year night). memory_limit is a
   global DuckDB setting: set once, it bounds every thread's connection. #}
{% macro apply_memory_limit() -%}
    {#- parse time: an env_var() read here would be recorded for partial parsing -#}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set limit = env_var('KINERJA_DBT_MEMORY_LIMIT', '3GB') -%}
    {%- do run_query("set memory_limit = '" ~ limit | replace("'", "''") ~ "'") -%}
    {%- set now = run_query("select current_setting('memory_limit')").columns[0].values()[0] -%}
    {%- do log("DuckDB memory_limit " ~ limit ~ " (" ~ now ~ ")", info=True) -%}
{%- endmacro %}
