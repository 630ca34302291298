{# Every listed column of a model has a value in every row: dbt's not_null for several columns as
   one test, one scan and one dbt node (a node costs ~30 ms of dbt's own work per build, and a
   model has up to eight such columns). One failing row per column with nulls: the column and
   how many rows lack it. #}
{% test not_null_columns(model, columns) %}
select column_name, null_rows
from (
    select
        {%- for column in columns %}
        count(*) filter (where "{{ column }}" is null) as "{{ column }}"{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
) unpivot (null_rows for column_name in (
    {%- for column in columns %}"{{ column }}"{{ ', ' if not loop.last }}{% endfor -%}
))
where null_rows > 0
{% endtest %}
