-- One row per KK known at the as-of date, from its creating event (signed or komplemen), with
-- the quarters it is in force: a komplemen KK starts at its handover quarter h and ends its
-- predecessor at h - 1 (DOMAIN.md section 6).
with events as (
    select * from {{ ref('stg_contract_events') }}
),

creating_events as (
    select *
    from events
    where is_creating_type
    qualify row_number() over (partition by contract_id order by fold_seq) = 1
),

-- several komplemen naming one predecessor: the earliest handover takes over
successors as (
    select
        replaces_contract_id as contract_id,
        contract_id as successor_contract_id,
        effective_date_quarter as successor_handover_quarter,
        effective_date as successor_start_date
    from creating_events
    where event_type = 'komplemen' and replaces_contract_id is not null
    qualify row_number() over (
        partition by replaces_contract_id order by effective_date, recorded_at, event_id
    ) = 1
)

select
    c.year,
    c.contract_id,
    c.event_type as kind,
    c.event_id as creating_event_id,
    c.position_id,
    c.position_level,
    c.unit_id,
    c.is_unit_head,
    c.holder_nip,
    c.supervisor_nip,
    c.parent_contract_id,
    c.replaces_contract_id,
    c.effective_date,
    c.signed_date,
    c.reason,
    c.recorded_at,
    c.effective_date_quarter as start_quarter,
    coalesce(s.successor_handover_quarter - 1, 4) as end_quarter,
    s.successor_contract_id,
    s.successor_start_date,
    case when c.event_type = 'komplemen' then c.effective_date_quarter end as handover_quarter
from creating_events as c
left join successors as s
    on c.contract_id = s.contract_id
