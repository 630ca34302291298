-- The realisation fold (DOMAIN.md section 8): a later report for the same (contract, IKU, quarter)
-- corrects an earlier one; the latest by reported_at wins (tie: the larger report_id). Every report
-- stays in stg_realisations for the audit trail.
select
    contract_id,
    iku_code,
    quarter,
    period,
    value,
    report_id,
    reported_at,
    count(*) over (partition by contract_id, iku_code, quarter) as reports_count
from {{ ref('stg_realisations') }}
qualify row_number() over (
    partition by contract_id, iku_code, quarter
    order by reported_at desc, report_id desc
) = 1
