-- One row per KK and unit with its rows of marts.iku_achievement: the publication's list of KKs
-- and the sizes it plans its files by (kinerja/publish). Kept by the build, contract by contract,
-- so a night's publication reads ~80,000 rows a year instead of grouping every achievement row
-- of every year kept (seconds in a five-year warehouse). marts.nko is computed from the same
-- int_iku_periods rows, so its KKs are these.
select
    year,
    contract_id,
    unit_id,
    bool_or(is_unit_head) as is_unit_head,
    count(*) as achievement_rows
from {{ ref('int_iku_periods') }}
group by year, contract_id, unit_id
