-- The organisation tree (reference data); a reorganisation closes a version with valid_to.
select
    unit_id,
    parent_unit_id,
    name as unit_name,
    level as unit_level,
    valid_from,
    valid_to
from {{ source('raw', 'units') }}
