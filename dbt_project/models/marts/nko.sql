-- Nilai Kinerja Organisasi per KK and period (DOMAIN.md 5): the weighted mean of the ICIs of the
-- lines in force in the period's last quarter that have an ICI, with the weights of that quarter.
-- Where reference.perspective_weights configures the year, a configured perspective's weight
-- replaces the sum of its IKU weights: NKO = sum_p W_p * N_p / sum_p W_p, N_p the IKU-weighted
-- mean of perspective p. Without configuration this is the plain weighted mean.
with periods as not materialized (
    select * from {{ ref('int_iku_periods') }}
),

perspective_weights as (
    select * from {{ ref('perspective_weights') }}
),

-- N_p and the scored IKU weight per perspective. The terms are added as decimals (each rounded
-- to 12 places, far below any meaningful precision): a decimal sum is exact, so it is the same in
-- whatever order DuckDB's parallel sum() adds, and a rebuild reproduces the published NKO to the
-- last bit. (A float sum depends on the order; fixing the order costs a sorted list per group.)
by_perspective as (
    select
        contract_id,
        period,
        perspective,
        sum((weight * ici)::decimal(38, 12))::double as weighted_ici,
        (sum(weight::decimal(38, 12)) filter (where ici is not null))::double as scored_weight,
        count(ici) as iku_scored
    from periods
    group by contract_id, period, perspective
),

kk_periods as (
    select distinct
        year,
        contract_id,
        position_id,
        unit_id,
        is_unit_head,
        period
    from periods
),

weighted as (
    select
        bp.contract_id,
        bp.period,
        bp.perspective,
        bp.iku_scored,
        bp.weighted_ici / bp.scored_weight as perspective_nko,
        -- a configured perspective weight replaces the perspective's IKU weight sum; unconfigured,
        -- W_p x N_p is the perspective's sum(weight x ICI) itself (no needless division)
        coalesce(pw.weight, bp.scored_weight) as perspective_weight,
        case
            when pw.weight is null then bp.weighted_ici
            else pw.weight * bp.weighted_ici / bp.scored_weight
        end as perspective_contribution
    from by_perspective as bp
    inner join kk_periods as k
        on k.contract_id = bp.contract_id
        and k.period = bp.period
    left join perspective_weights as pw
        on pw.year = k.year
        and pw.perspective = bp.perspective
),

nko as (
    select
        contract_id,
        period,
        {{ achievement_round(
            '(sum(perspective_contribution::decimal(38, 12)) filter (where perspective_nko is not null))::double
             / nullif((sum(perspective_weight::decimal(38, 12)) filter (where perspective_nko is not null))::double, 0)') }} as nko,
        sum(iku_scored) as iku_scored
    from weighted
    group by contract_id, period
)

select
    k.year,
    k.contract_id,
    k.position_id,
    k.unit_id,
    k.is_unit_head,
    k.period,
    n.nko,
    {{ nko_grade('n.nko') }} as grade,
    cast(n.iku_scored as integer) as iku_scored
from kk_periods as k
inner join nko as n
    on n.contract_id = k.contract_id
    and n.period = k.period
