{#
  Deadlines of DOMAIN.md section 6. "Within N working days of X": the signature falls on or before
  the N-th working day after day X (day X itself is not counted). "Within N days": the same with
  calendar days, i.e. on or before X + N.
  working_days_after returns that N-th working day as a scalar subquery on the calendar model; it
  is null only when X lies outside the calendar (2000..2101).
#}
{% macro working_days_after(date_expr, n) -%}
    (
        select min(wd_target.calendar_date)
        from {{ ref('int_calendar_working_days') }} as wd_start
        inner join {{ ref('int_calendar_working_days') }} as wd_target
            on wd_target.working_day_seq = wd_start.working_day_seq + {{ n }}
            and wd_target.is_working_day
        where wd_start.calendar_date = {{ date_expr }}
    )
{%- endmacro %}

{% macro calendar_days_after(date_expr, n) -%}
    (cast({{ date_expr }} as date) + {{ n }})
{%- endmacro %}

{# true when signed_expr is within N working days of X (null signed date: not judged) #}
{% macro within_working_days(signed_expr, date_expr, n) -%}
    ({{ signed_expr }} <= {{ working_days_after(date_expr, n) }})
{%- endmacro %}

{% macro within_days(signed_expr, date_expr, n) -%}
    ({{ signed_expr }} <= {{ calendar_days_after(date_expr, n) }})
{%- endmacro %}

{# 18 October of the year: the cutoff for new KKs, komplemen and late addenda #}
{% macro cutoff_date(year_expr) -%}
    make_date({{ year_expr }}, 10, 18)
{%- endmacro %}

{# A quarter's realisation report is due on the 15th calendar day after the quarter's last day. #}
{% macro realisation_due_date(year_expr, quarter_expr) -%}
    (cast(make_date({{ year_expr }}, 1, 1) + to_months(3 * {{ quarter_expr }}) as date) - 1 + 15)
{%- endmacro %}

{# 20 July of the year: the deadline of ordinary addenda, after which ADDENDUM_REQUIRED is judged #}
{% macro addendum_deadline_date(year_expr) -%}
    make_date({{ year_expr }}, 7, 20)
{%- endmacro %}

{# Every date of a year on which a rule that compares the as-of date itself changes its verdict
   (REALISATION_MISSING after each quarter's due date, ADDENDUM_REQUIRED after 20 July). An
   incremental build whose as-of moves past one of them recomputes that whole year. #}
{% macro as_of_rule_dates(year_expr) -%}
    [{{ realisation_due_date(year_expr, 1) }}, {{ realisation_due_date(year_expr, 2) }},
     {{ realisation_due_date(year_expr, 3) }}, {{ realisation_due_date(year_expr, 4) }},
     {{ addendum_deadline_date(year_expr) }}]
{%- endmacro %}
