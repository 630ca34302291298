-- Realisation reports known at the as-of date (every report, corrections included).
select
    report_id,
    contract_id,
    iku_code,
    quarter as period,
    {{ quarter_number('quarter') }} as quarter,
    value,
    reported_at,
    reporter_nip
from {{ source('raw', 'realisations') }}
where reported_at < {{ knowledge_cutoff() }}
