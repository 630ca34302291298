{# The quarter (1..4) of a date inside a performance year; dates before or after the year clamp to it. #}
{% macro quarter_in_year(date_expr, year_expr) -%}
    (case
        when {{ date_expr }} < make_date({{ year_expr }}, 1, 1) then 1
        when {{ date_expr }} > make_date({{ year_expr }}, 12, 31) then 4
        else quarter({{ date_expr }})
    end)
{%- endmacro %}

{# 'Q3' -> 3 #}
{% macro quarter_number(period_expr) -%}
    cast(substr({{ period_expr }}, 2, 1) as integer)
{%- endmacro %}
