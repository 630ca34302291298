{# Two numbers differ for an audit rule: one null and the other not, or beyond the relative
   tolerance 1e-6 of DOMAIN.md (an exact 0 must match exactly). #}
{% macro audit_values_differ(a, b) -%}
    (case
        when {{ a }} is null or {{ b }} is null then ({{ a }} is null) <> ({{ b }} is null)
        else abs({{ a }} - {{ b }}) > 1e-6 * greatest(abs({{ a }}), abs({{ b }}))
    end)
{%- endmacro %}

{# "Q1 10, Q2 20, Q3 -, Q4 40, Y 70" for a finding's detail #}
{% macro audit_trajectory_text(q1, q2, q3, q4, y) -%}
    ('Q1 ' || coalesce(cast({{ q1 }} as varchar), '-') || ', Q2 ' || coalesce(cast({{ q2 }} as varchar), '-')
        || ', Q3 ' || coalesce(cast({{ q3 }} as varchar), '-') || ', Q4 ' || coalesce(cast({{ q4 }} as varchar), '-')
        || ', Y ' || coalesce(cast({{ y }} as varchar), '-'))
{%- endmacro %}

{# The stable id of a finding: a hash of the rule and the finding's natural key (never a row
   number), so a rebuild from the same events gives the same id. #}
{% macro audit_finding_id(rule, contract_id, natural_key) -%}
    md5(concat_ws('|', {{ rule }}, coalesce({{ contract_id }}, ''), coalesce({{ natural_key }}, '')))
{%- endmacro %}
