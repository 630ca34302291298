{# Generic tests of the audit models (own, so the audit layer does not depend on other files). #}

{# No two findings of a model share rule + contract + natural key (finding_id would collide). #}
{% test audit_unique_finding_key(model) %}
select rule, contract_id, natural_key, count(*) as findings
from {{ model }}
group by rule, contract_id, natural_key
having count(*) > 1
{% endtest %}

{# Every rule a model emits belongs to the audit_rules seed and to the model's family. #}
{% test audit_rules_of_family(model, family) %}
select f.rule
from {{ model }} as f
left join {{ ref('audit_rules') }} as r on f.rule = r.rule
where r.rule is null or r.family <> '{{ family }}'
{% endtest %}
