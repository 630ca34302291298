-- The accountable holder of each quarter a KK is in force: the latest responsibility row that
-- starts in or before the quarter (a composite period is attributed to its last quarter's holder).
with contracts as (
    select contract_id, start_quarter, end_quarter from {{ ref('int_contracts') }}
),

contract_quarters as (
    select c.contract_id, q.quarter
    from contracts as c
    inner join range(1, 5) as q(quarter)
        on q.quarter between c.start_quarter and c.end_quarter
)

select
    cq.contract_id,
    cq.quarter,
    r.holder_nip,
    r.role,
    r.event_id as responsibility_event_id
from contract_quarters as cq
inner join {{ ref('int_responsibility') }} as r
    on cq.contract_id = r.contract_id
    and r.from_quarter <= cq.quarter
qualify row_number() over (partition by cq.contract_id, cq.quarter order by r.fold_seq desc) = 1
