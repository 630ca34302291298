-- TARGET_NOT_SCORABLE (DOMAIN.md section 4), one finding per line and period whose target is 0
-- or negative, so no ICI can be computed. int_iku_periods already applies the exception (a 0
-- that is a komplemen's computed remaining target, the predecessor having met it, is no defect).
select
    'TARGET_NOT_SCORABLE' as rule,
    p.year,
    p.contract_id,
    p.iku_code,
    p.period,
    p.target_event_id as event_id,
    p.iku_code || '|' || p.period as natural_key,
    'KK ' || p.contract_id || ' line ' || p.iku_code || ' has a ' || p.period || ' target of '
        || cast(p.target as varchar) || ' (event ' || coalesce(p.target_event_id, '?')
        || '): no achievement index can be computed; set a positive target by an addendum.' as detail
from {{ ref('int_iku_periods') }} as p
where p.target_not_scorable
