-- WEIGHTS_NOT_100 (DOMAIN.md section 2), one finding per KK and quarter in which the weights of
-- the lines in force do not sum to 100 (tolerance 0.01). event_id names the latest event (in the
-- KK's fold order) that set a line in force in that quarter: the event to correct.
with line_quarters as (
    select
        lq.year,
        lq.contract_id,
        lq.iku_code,
        lq.quarter,
        lq.weight,
        lq.event_id,
        e.fold_seq
    from {{ ref('int_line_quarters') }} as lq
    left join {{ ref('stg_contract_events') }} as e on lq.event_id = e.event_id
),

per_quarter as (
    select
        year,
        contract_id,
        quarter,
        sum(coalesce(weight, 0)) as weight_sum,
        count(*) as line_count,
        arg_max(event_id, fold_seq) as last_event_id
    from line_quarters
    group by year, contract_id, quarter
)

select
    'WEIGHTS_NOT_100' as rule,
    year,
    contract_id,
    cast(null as varchar) as iku_code,
    'Q' || cast(quarter as varchar) as period,
    last_event_id as event_id,
    'Q' || cast(quarter as varchar) as natural_key,
    'KK ' || contract_id || ': in Q' || cast(quarter as varchar) || ' the weights of the '
        || cast(line_count as varchar) || ' lines in force sum to ' || cast(round(weight_sum, 4) as varchar)
        || ', expected 100 (latest change: event ' || coalesce(last_event_id, '?')
        || '). Rebalance the weights by an addendum.' as detail
from per_quarter
where abs(weight_sum - 100) > 0.01
