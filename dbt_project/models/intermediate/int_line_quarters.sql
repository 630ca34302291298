-- One row per (KK, IKU, quarter) in which the line is in force, with the version in force that
-- quarter and the target it sets. For the lines a komplemen KK signs, targets are the effective
-- remaining targets (int_komplemen_targets); `target_event_id` names the event behind every target.
with versions as (
    select * from {{ ref('int_line_versions') }}
    where in_force_from_quarter is not null
),

contracts as (
    select contract_id, unit_id, position_id, creating_event_id, kind from {{ ref('int_contracts') }}
),

remaining as (
    select * from {{ ref('int_komplemen_targets') }}
    where period in ('Q1', 'Q2', 'Q3', 'Q4', 'Y')
),

line_quarters as (
    select
        v.*,
        q.quarter,
        c.unit_id,
        c.position_id,
        c.kind = 'komplemen' and v.event_id = c.creating_event_id as is_komplemen_line,
        case q.quarter when 1 then v.target_q1 when 2 then v.target_q2
            when 3 then v.target_q3 else v.target_q4 end as given_target
    from versions as v
    inner join contracts as c on v.contract_id = c.contract_id
    inner join range(1, 5) as q(quarter)
        on q.quarter between v.in_force_from_quarter and v.in_force_to_quarter
)

select
    l.year,
    l.contract_id,
    l.unit_id,
    l.position_id,
    l.iku_code,
    l.quarter,
    l.version,
    l.event_id,
    l.iku_name,
    l.ss_code,
    l.ss_name,
    l.perspective,
    l.polarity,
    l.consolidation,
    l.progress,
    l.aspect,
    l.unit_of_measure,
    l.weight,
    l.tolerance,
    l.target_is_max,
    l.parent_iku_code,
    l.cascade_type,
    case when l.is_komplemen_line then rq.effective_target else l.given_target end as target,
    case when l.is_komplemen_line then ry.effective_target else l.target_y end as target_y,
    l.event_id as target_event_id,
    coalesce(l.is_komplemen_line and rq.has_predecessor_line, false) as is_komplemen_remaining
from line_quarters as l
left join remaining as rq
    on l.is_komplemen_line
    and l.contract_id = rq.contract_id
    and l.iku_code = rq.iku_code
    and rq.period = 'Q' || l.quarter
left join remaining as ry
    on l.is_komplemen_line
    and l.contract_id = ry.contract_id
    and l.iku_code = ry.iku_code
    and ry.period = 'Y'
