-- Public IKU achievement per report period (WAREHOUSE.md): the columns of the contract, taken
-- from int_iku_periods where the rules of DOMAIN.md sections 3-4 are computed.
select
    year,
    contract_id,
    position_id,
    unit_id,
    holder_nip,
    iku_code,
    iku_name,
    perspective,
    polarity,
    consolidation,
    weight,
    period,
    target,
    realisation,
    ici,
    colour
from {{ ref('int_iku_periods') }}
