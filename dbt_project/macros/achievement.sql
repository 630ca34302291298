{#
  Achievement rules of DOMAIN.md sections 3-5, each defined once and used by every model
  (int_iku_periods, marts.iku_achievement, marts.nko). docs/ACHIEVEMENT.md explains the choices.
#}

{# Relative slack for float noise in the one discontinuous comparison of R with T (target met ->
   konversi 120): a sum 0.1 + 0.2 must "meet" a target of 0.3. #}
{% macro achievement_epsilon() -%}
    1e-9
{%- endmacro %}

{# Published ICI and NKO are rounded to 12 decimals: far below any meaningful precision, but it
   removes binary noise (99.99999999999999 for a met target with weights like 33.33) so that the
   colour and grade bands can be compared exactly, here and by every reader of the marts. #}
{% macro achievement_round(expr) -%}
    round({{ expr }}, 12)
{%- endmacro %}

{# The seven report periods (DOMAIN.md 3) with their order and quarter span, as a relation. #}
{% macro achievement_periods() -%}
    (
        select *
        from (
            values
                ('Q1', 1, 1, 1),
                ('Q2', 2, 2, 2),
                ('S1', 3, 1, 2),
                ('Q3', 4, 3, 3),
                ('SDQ3', 5, 1, 3),
                ('Q4', 6, 4, 4),
                ('Y', 7, 1, 4)
        ) as p (period, period_order, period_first_quarter, period_last_quarter)
    )
{%- endmacro %}

{# Composite value of a period from the aggregates of its quarters that have a target
   (DOMAIN.md 3): sum, arithmetic mean, or the value of the latest such quarter. #}
{% macro consolidate(consolidation, sum_expr, avg_expr, last_expr) -%}
    (case {{ consolidation }}
        when 'sum' then {{ sum_expr }}
        when 'average' then {{ avg_expr }}
        when 'take_last_known' then {{ last_expr }}
    end)
{%- endmacro %}

{# Has the realisation met the target (konversi 120 condition, DOMAIN.md 4)? #}
{% macro target_met(polarity, realisation, target) -%}
    (case {{ polarity }}
        when 'maximize' then {{ realisation }} >= {{ target }} - {{ achievement_epsilon() }} * abs({{ target }})
        when 'minimize' then {{ realisation }} <= {{ target }} + {{ achievement_epsilon() }} * abs({{ target }})
        when 'stabilize' then abs({{ realisation }} - {{ target }}) <= {{ achievement_epsilon() }} * abs({{ target }})
    end)
{%- endmacro %}

{# Indeks Capaian IKU in percent (DOMAIN.md 4). Null when R or T is null or T <= 0 (not
   scorable); konversi 120 for a met maximal target; clamped to [0, 120]. #}
{% macro ici(polarity, realisation, target, tolerance, target_is_max) -%}
    {%- set deviation = 'abs(' ~ realisation ~ ' - ' ~ target ~ ')' -%}
    {%- set tol = 'coalesce(' ~ tolerance ~ ', 0)' -%}
    {%- set raw_index -%}
        case
            when coalesce({{ target_is_max }}, false)
                and {{ target_met(polarity, realisation, target) }} then 120.0
            when {{ polarity }} = 'maximize' then 100.0 * {{ realisation }} / {{ target }}
            when {{ polarity }} = 'minimize' then 100.0 * (2 - {{ realisation }} / {{ target }})
            when {{ polarity }} = 'stabilize' then
                case
                    when {{ deviation }} <= {{ tol }} then 100.0
                    else 100.0 * (1 - ({{ deviation }} - {{ tol }}) / abs({{ target }}))
                end
        end
    {%- endset -%}
    (case
        when {{ realisation }} is null or {{ target }} is null or {{ target }} <= 0 then null
        else {{ achievement_round('greatest(0.0, least(120.0, ' ~ raw_index ~ '))') }}
    end)
{%- endmacro %}

{# Colour of an ICI: green >= 100, yellow 80 to < 100, red < 80; null ICI, null colour. #}
{% macro ici_colour(ici) -%}
    (case
        when {{ ici }} is null then null
        when {{ ici }} >= 100 then 'green'
        when {{ ici }} >= 80 then 'yellow'
        else 'red'
    end)
{%- endmacro %}

{# Grade of an NKO (DOMAIN.md 5). #}
{% macro nko_grade(nko) -%}
    (case
        when {{ nko }} is null then null
        when {{ nko }} >= 110 then 'sangat_baik'
        when {{ nko }} >= 100 then 'baik'
        when {{ nko }} >= 90 then 'cukup'
        when {{ nko }} >= 80 then 'kurang'
        else 'buruk'
    end)
{%- endmacro %}

{# A line's quarters as four columns <prefix>1..<prefix>4 of an aggregate over its
   (line, quarter) rows (one row per quarter, so max() picks that quarter's value; a quarter
   without a row is null). Used to pivot int_line_quarters per line instead of windows or joins. #}
{% macro quarter_slots(expr, prefix) -%}
    {%- for q in range(1, 5) %}
        max({{ expr }}) filter (where quarter = {{ q }}) as {{ prefix }}{{ q }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
