-- Each KK mapped to the KK that represents it at the as-of date: itself, or the end of its chain
-- of komplemen successors (DOMAIN.md section 7: a replaced parent KK resolves to its successor).
with recursive chain(contract_id, current_contract_id, depth) as (
    select contract_id, contract_id, 0
    from {{ ref('int_contracts') }}

    union all

    select chain.contract_id, c.successor_contract_id, chain.depth + 1
    from chain
    inner join {{ ref('int_contracts') }} as c
        on chain.current_contract_id = c.contract_id
    where c.successor_contract_id is not null
        -- a cycle of komplemen events is bad data, never an endless loop
        and chain.depth < 20
)

select contract_id, current_contract_id, depth as successor_steps
from chain
qualify row_number() over (partition by contract_id order by depth desc) = 1
