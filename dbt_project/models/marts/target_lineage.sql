-- Which event set this target? One row per (KK, IKU, quarter) in force and per (KK, IKU) for Y,
-- naming the line version and the event behind the target (for a komplemen line, the komplemen
-- event; its computed part also names the predecessor event whose trajectory it starts from).
with quarters as (
    select
        q.year, q.contract_id, q.iku_code, 'Q' || q.quarter as period, q.target, q.version,
        q.target_event_id, q.is_komplemen_remaining
    from {{ ref('int_line_quarters') }} as q
),

years as (
    select
        l.year, l.contract_id, l.iku_code, 'Y' as period, l.target_y as target, l.version,
        l.last_event_id as target_event_id,
        k.contract_id is not null as is_komplemen_remaining
    from {{ ref('contract_lines') }} as l
    left join {{ ref('int_komplemen_targets') }} as k
        on l.contract_id = k.contract_id and l.iku_code = k.iku_code and k.period = 'Y'
        and l.last_event_id = k.event_id and k.has_predecessor_line
),

unioned as (
    select * from quarters
    union all
    select * from years
)

select
    u.*,
    e.event_type as target_event_type,
    e.recorded_at as target_event_recorded_at,
    k.predecessor_event_id
from unioned as u
left join {{ ref('stg_contract_events') }} as e
    on u.target_event_id = e.event_id
left join {{ ref('int_komplemen_targets') }} as k
    on u.is_komplemen_remaining
    and u.contract_id = k.contract_id and u.iku_code = k.iku_code and u.period = k.period
