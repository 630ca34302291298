-- The state of every IKU line at the as-of date: its latest version, unless that removed it.
-- Quarterly targets are the ones in force in each quarter (an addendum never rewrites a quarter
-- before its effective_period; a komplemen KK has null targets before its handover quarter).
with latest_versions as (
    select *
    from {{ ref('int_line_versions') }}
    qualify row_number() over (partition by contract_id, iku_code order by version desc) = 1
),

quarter_targets as (
    select
        contract_id,
        iku_code,
        max(target) filter (where quarter = 1) as target_q1,
        max(target) filter (where quarter = 2) as target_q2,
        max(target) filter (where quarter = 3) as target_q3,
        max(target) filter (where quarter = 4) as target_q4
    from {{ ref('int_line_quarters') }}
    group by contract_id, iku_code
),

komplemen_year_targets as (
    select contract_id, iku_code, event_id, effective_target
    from {{ ref('int_komplemen_targets') }}
    where period = 'Y'
)

select
    v.year,
    v.contract_id,
    c.position_id,
    c.unit_id,
    v.iku_code,
    v.iku_name,
    v.ss_code,
    v.perspective,
    v.polarity,
    v.consolidation,
    v.progress,
    v.aspect,
    v.unit_of_measure,
    v.weight,
    v.tolerance,
    v.target_is_max,
    t.target_q1,
    t.target_q2,
    t.target_q3,
    t.target_q4,
    case when k.event_id is not null then k.effective_target else v.target_y end as target_y,
    v.parent_iku_code,
    v.cascade_type,
    v.version,
    v.event_id as last_event_id
from latest_versions as v
inner join {{ ref('int_contracts') }} as c
    on v.contract_id = c.contract_id
left join quarter_targets as t
    on v.contract_id = t.contract_id and v.iku_code = t.iku_code
left join komplemen_year_targets as k
    on v.contract_id = k.contract_id and v.iku_code = k.iku_code and v.event_id = k.event_id
where not v.is_removed
