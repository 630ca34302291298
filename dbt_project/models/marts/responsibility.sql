-- Who is accountable for each KK when (WAREHOUSE.md marts.responsibility).
select
    year,
    contract_id,
    position_id,
    holder_nip,
    role,
    from_date,
    to_date,
    from_quarter,
    to_quarter,
    event_id
from {{ ref('int_responsibility') }}
