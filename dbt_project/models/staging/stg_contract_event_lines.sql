-- One row per IKU line of a known contract event; defaults of EVENTS.md applied
-- (op upsert, progress false, tolerance 0, target_is_max false).
with known_events as (
    select event_id, lines
    from {{ source('raw', 'contract_events') }}
    where recorded_at < {{ knowledge_cutoff() }}
),

unnested as (
    select
        event_id,
        generate_subscripts(lines, 1) as line_index,
        unnest(lines) as line
    from known_events
)

select
    e.event_id,
    e.event_type,
    e.contract_id,
    e.year,
    e.fold_seq,
    u.line_index,
    coalesce(u.line.op, 'upsert') as op,
    u.line.iku_code as iku_code,
    u.line.iku_name as iku_name,
    u.line.ss_code as ss_code,
    u.line.ss_name as ss_name,
    u.line.perspective as perspective,
    u.line.polarity as polarity,
    u.line.consolidation as consolidation,
    coalesce(u.line.progress, false) as progress,
    u.line.aspect as aspect,
    u.line.unit_of_measure as unit_of_measure,
    u.line.weight as weight,
    coalesce(u.line.tolerance, 0) as tolerance,
    coalesce(u.line.target_is_max, false) as target_is_max,
    u.line.target_q1 as target_q1,
    u.line.target_q2 as target_q2,
    u.line.target_q3 as target_q3,
    u.line.target_q4 as target_q4,
    u.line.target_y as target_y,
    u.line.parent_iku_code as parent_iku_code,
    u.line.cascade_type as cascade_type
from unnested as u
inner join {{ ref('stg_contract_events') }} as e
    on u.event_id = e.event_id
