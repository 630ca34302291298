-- The line history: one version per change of a line (DOMAIN.md section 6, addendum). Version 1 is
-- the line as signed or as first added; every later upsert or remove of the same iku_code is +1.
-- A version applies from its requested quarter (an addendum's effective_period; never earlier
-- than the KK's start) until the next version's, so an addendum never revises earlier quarters.
-- `uncut_to_quarter` ignores a komplemen handover (the predecessor's trajectory as it stood);
-- `in_force_to_quarter` stops at the KK's end.
with lines as (
    select * from {{ ref('stg_contract_event_lines') }}
    where event_type in ('signed', 'komplemen', 'addendum')
),

events as (
    select event_id, effective_quarter, recorded_at from {{ ref('stg_contract_events') }}
),

contracts as (
    select contract_id, start_quarter, end_quarter from {{ ref('int_contracts') }}
),

placed as (
    select
        l.*,
        e.recorded_at,
        c.start_quarter,
        c.end_quarter,
        l.op = 'remove' as is_removed,
        case when l.event_type = 'addendum' then e.effective_quarter else c.start_quarter end
            as requested_quarter
    from lines as l
    inner join events as e on l.event_id = e.event_id
    inner join contracts as c on l.contract_id = c.contract_id
),

-- from_quarter first, so that the version number and the bound below are one window (one sort of
-- the lines by fold order).
placed_from as (
    select *, greatest(requested_quarter, start_quarter) as from_quarter
    from placed
),

bounded as (
    select
        *,
        row_number() over line_history as version,
        -- a later version takes over from its own from_quarter; the earliest such start bounds this one
        least(4, coalesce(min(from_quarter) over (
            line_history rows between 1 following and unbounded following
        ) - 1, 4)) as uncut_to_quarter
    from placed_from
    window line_history as (partition by contract_id, iku_code order by fold_seq)
)

select
    year,
    contract_id,
    iku_code,
    version,
    event_id,
    event_type,
    fold_seq,
    recorded_at,
    op,
    is_removed,
    requested_quarter,
    from_quarter,
    uncut_to_quarter,
    case when not is_removed and from_quarter <= least(uncut_to_quarter, end_quarter)
        then from_quarter end as in_force_from_quarter,
    case when not is_removed and from_quarter <= least(uncut_to_quarter, end_quarter)
        then least(uncut_to_quarter, end_quarter) end as in_force_to_quarter,
    iku_name,
    ss_code,
    ss_name,
    perspective,
    polarity,
    consolidation,
    progress,
    aspect,
    unit_of_measure,
    weight,
    tolerance,
    target_is_max,
    target_q1,
    target_q2,
    target_q3,
    target_q4,
    target_y,
    parent_iku_code,
    cascade_type
from bounded
