-- Parent IKU -> child IKU links at the as-of date (DOMAIN.md section 7). A child names its parent
-- KK through parent_contract_id; a parent replaced by a komplemen resolves to its successor, and a
-- child KK that was replaced is represented by its successor's lines. Links whose parent line is
-- not in force are CASCADE_ORPHAN findings, not edges.
with current_contracts as (
    select c.*
    from {{ ref('int_contracts') }} as c
    where c.successor_contract_id is null
),

child_lines as (
    select l.*, c.parent_contract_id, c.unit_id as child_unit_id
    from {{ ref('contract_lines') }} as l
    inner join current_contracts as c on l.contract_id = c.contract_id
    where l.cascade_type in ('direct', 'indirect') and l.parent_iku_code is not null
)

select
    ch.year,
    cur.current_contract_id as parent_contract_id,
    ch.parent_iku_code,
    ch.contract_id as child_contract_id,
    ch.iku_code as child_iku_code,
    ch.cascade_type,
    parent.unit_id as parent_unit_id,
    ch.child_unit_id
from child_lines as ch
inner join {{ ref('int_contract_current') }} as cur
    on ch.parent_contract_id = cur.contract_id
inner join {{ ref('contract_lines') }} as parent
    on cur.current_contract_id = parent.contract_id
    and ch.parent_iku_code = parent.iku_code
    and ch.year = parent.year
