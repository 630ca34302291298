-- Remaining targets of every komplemen KK line: computed by the rule, declared in the event, and
-- the effective one (declared, else computed). Rows for the successor's quarters, the composite
-- periods containing one of them, and Y.
select
    year,
    contract_id,
    replaces_contract_id,
    iku_code,
    handover_quarter,
    r_prev,
    period,
    computed_target,
    declared_target,
    effective_target
from {{ ref('int_komplemen_targets') }}
order by
    contract_id,
    iku_code,
    case period when 'Q1' then 1 when 'Q2' then 2 when 'S1' then 3 when 'Q3' then 4
        when 'SDQ3' then 5 when 'Q4' then 6 else 7 end
