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
