-- marts.audit_findings (WAREHOUSE.md): every audit finding of DOMAIN.md section 9 at the as-of
-- date. Each rule family is one intermediate model; the rule's severity comes from the seed
-- audit_rules, and finding_id hashes the rule with the finding's natural key so it is stable
-- across rebuilds.
-- Incremental: the cascading rules are recomputed for whole years (int_audit_cascading), the
-- others for the changed contracts (the pre-hook of dbt_project.yml).
{{ config(pre_hook="{% if incremental_run() %}delete from {{ this }} where rule like 'CASCADE_%'
    and {{ changed_years_condition() }}{% endif %}") }}

with findings as (
    select * from {{ ref('int_audit_trajectory') }}
    union all by name
    select * from {{ ref('int_audit_weights') }}
    union all by name
    select * from {{ ref('int_audit_scoring') }}
    union all by name
    select * from {{ ref('int_audit_signing') }}
    union all by name
    select * from {{ ref('int_audit_addenda') }}
    union all by name
    select * from {{ ref('int_audit_komplemen') }}
    union all by name
    select * from {{ ref('int_audit_cascading') }}
    union all by name
    select * from {{ ref('int_audit_realisations') }}
)

select
    {{ audit_finding_id('f.rule', 'f.contract_id', 'f.natural_key') }} as finding_id,
    f.rule,
    r.severity,
    f.year,
    f.contract_id,
    f.iku_code,
    f.period,
    f.event_id,
    f.detail
from findings as f
left join {{ ref('audit_rules') }} as r on f.rule = r.rule
