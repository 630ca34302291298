-- One row per contract event known at the as-of date, with its position in the contract's fold
-- order (EVENTS.md: the creating event first, then effective_date, recorded_at, event_id).
with known_events as (
    select *
    from {{ source('raw', 'contract_events') }}
    where recorded_at < {{ knowledge_cutoff() }}
)

select
    event_id,
    event_type,
    contract_id,
    year,
    position_id,
    position_level,
    unit_id,
    is_unit_head,
    holder_nip,
    supervisor_nip,
    parent_contract_id,
    replaces_contract_id,
    effective_date,
    signed_date,
    effective_period,
    {{ quarter_number('effective_period') }} as effective_quarter,
    {{ quarter_in_year('effective_date', 'year') }} as effective_date_quarter,
    reason,
    recorded_at,
    len(lines) as line_count,
    event_type in ('signed', 'komplemen') as is_creating_type,
    row_number() over (
        partition by contract_id
        order by
            case when event_type in ('signed', 'komplemen') then 0 else 1 end,
            effective_date,
            recorded_at,
            event_id
    ) as fold_seq
from known_events
