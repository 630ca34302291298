-- Who is accountable for each KK when (DOMAIN.md section 6, plt_transfer): the signer from the
-- creating event, then every Plt transfer in fold order. A komplemen closes the predecessor's last
-- row the day before the successor starts.
with contracts as (
    select * from {{ ref('int_contracts') }}
),

holder_events as (
    select
        e.year,
        e.contract_id,
        e.event_id,
        e.fold_seq,
        e.holder_nip,
        e.effective_date as from_date,
        -- a transfer back to the KK's signer returns definitive accountability
        case when e.event_type = 'plt_transfer' and e.holder_nip <> c.holder_nip
            then 'acting' else 'definitive' end as role
    from {{ ref('stg_contract_events') }} as e
    inner join contracts as c
        on e.contract_id = c.contract_id
    where e.event_id = c.creating_event_id or e.event_type = 'plt_transfer'
),

sequenced as (
    select
        h.*,
        c.position_id,
        c.successor_start_date,
        c.successor_contract_id,
        c.end_quarter,
        {{ quarter_in_year('h.from_date', 'h.year') }} as from_quarter,
        lead(h.from_date) over (partition by h.contract_id order by h.fold_seq) as next_from_date
    from holder_events as h
    inner join contracts as c on h.contract_id = c.contract_id
)

select
    year,
    contract_id,
    position_id,
    holder_nip,
    role,
    from_date,
    -- a next holder dated before this one's start (bad data, e.g. a komplemen starting before
    -- the KK it replaces) leaves this holder accountable for no day and no quarter, never less;
    -- an open row (no next holder) stays null
    case when coalesce(next_from_date, successor_start_date) is not null then
        greatest(coalesce(next_from_date, successor_start_date) - 1, from_date - 1)
    end as to_date,
    from_quarter,
    case
        when next_from_date is not null
            then greatest({{ quarter_in_year('next_from_date', 'year') }} - 1, from_quarter - 1)
        when successor_contract_id is not null then greatest(end_quarter, from_quarter - 1)
    end as to_quarter,
    event_id,
    fold_seq
from sequenced
