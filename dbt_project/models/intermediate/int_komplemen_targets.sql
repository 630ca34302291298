-- Remaining targets (sisa target) of every komplemen KK line, DOMAIN.md section 6.
-- T: the predecessor's line with the same iku_code as it stood (each quarter before the handover
-- quarter h with the version in force then; later quarters and T_Y from the version in force at
-- h - 1, or at Q1 when h = 1). R_prev: the predecessor's latest realisations of quarters 1..h-1.
-- Declared targets (the komplemen event's own lines) are kept beside the computed ones; the
-- effective target is declared-else-computed.
with contracts as (
    select * from {{ ref('int_contracts') }}
),

versions as (
    select * from {{ ref('int_line_versions') }}
),

successor_lines as (
    select
        k.year,
        k.contract_id,
        k.replaces_contract_id,
        k.handover_quarter as h,
        v.iku_code,
        v.consolidation,
        v.progress,
        v.event_id,
        v.target_q1 as declared_q1,
        v.target_q2 as declared_q2,
        v.target_q3 as declared_q3,
        v.target_q4 as declared_q4,
        v.target_y as declared_y
    from contracts as k
    inner join versions as v
        on k.contract_id = v.contract_id and k.creating_event_id = v.event_id
    where k.kind = 'komplemen' and not v.is_removed
),

-- the predecessor's lines quarter by quarter, ignoring the cut at the handover
predecessor_quarters as (
    select
        v.contract_id,
        v.iku_code,
        q.quarter,
        v.version,
        v.event_id,
        case q.quarter when 1 then v.target_q1 when 2 then v.target_q2
            when 3 then v.target_q3 else v.target_q4 end as target_in_quarter,
        v.target_q1,
        v.target_q2,
        v.target_q3,
        v.target_q4,
        v.target_y
    from versions as v
    inner join range(1, 5) as q(quarter)
        on q.quarter between v.from_quarter and v.uncut_to_quarter
    where not v.is_removed
),

trajectories as (
    select
        s.*,
        anchor.iku_code is not null as has_predecessor_line,
        anchor.event_id as predecessor_event_id,
        case when s.h > 1 then p1.target_in_quarter else anchor.target_q1 end as t1,
        case when s.h > 2 then p2.target_in_quarter else anchor.target_q2 end as t2,
        case when s.h > 3 then p3.target_in_quarter else anchor.target_q3 end as t3,
        anchor.target_q4 as t4,
        anchor.target_y as t_y
    from successor_lines as s
    left join predecessor_quarters as anchor
        on s.replaces_contract_id = anchor.contract_id
        and s.iku_code = anchor.iku_code
        and anchor.quarter = greatest(s.h - 1, 1)
    left join predecessor_quarters as p1
        on s.replaces_contract_id = p1.contract_id and s.iku_code = p1.iku_code and p1.quarter = 1
    left join predecessor_quarters as p2
        on s.replaces_contract_id = p2.contract_id and s.iku_code = p2.iku_code and p2.quarter = 2
    left join predecessor_quarters as p3
        on s.replaces_contract_id = p3.contract_id and s.iku_code = p3.iku_code and p3.quarter = 3
),

prior_realisations as (
    select
        s.contract_id,
        s.iku_code,
        -- ordered lists: floats added in quarter order, the same on every rebuild
        list_sum(list(r.value order by r.quarter)) as r_sum,
        list_avg(list(r.value order by r.quarter)) as r_avg,
        arg_max(r.value, r.quarter) as r_last
    from successor_lines as s
    inner join {{ ref('int_realisations_latest') }} as r
        on s.replaces_contract_id = r.contract_id
        and s.iku_code = r.iku_code
        and r.quarter < s.h
    group by s.contract_id, s.iku_code
),

basis as (
    select
        t.*,
        case
            when t.h = 1 then 0
            when t.consolidation = 'sum' then coalesce(pr.r_sum, 0)
            when t.consolidation = 'average' then pr.r_avg
            else pr.r_last
        end as r_prev,
        -- C: the predecessor's cumulative target before h; L: its level at h - 1
        coalesce(case when t.h > 1 then t.t1 end, 0)
        + coalesce(case when t.h > 2 then t.t2 end, 0)
        + coalesce(case when t.h > 3 then t.t3 end, 0) as c_before,
        case t.h when 1 then 0 when 2 then t.t1 when 3 then t.t2 else t.t3 end as l_before
    from trajectories as t
    left join prior_realisations as pr
        on t.contract_id = pr.contract_id and t.iku_code = pr.iku_code
),

rule_inputs as (
    select
        *,
        greatest(0, coalesce(r_prev, 0) - c_before) as excess,
        -- max() ignores a null R_prev
        coalesce(greatest(r_prev, l_before), 0) as level_reached,
        greatest(r_prev, c_before) as sum_reached
    from basis
),

successor_quarters as (
    select
        i.*,
        q.quarter,
        case q.quarter when 1 then i.t1 when 2 then i.t2 when 3 then i.t3 else i.t4 end as t_k,
        case q.quarter when 1 then i.declared_q1 when 2 then i.declared_q2
            when 3 then i.declared_q3 else i.declared_q4 end as declared_target
    from rule_inputs as i
    inner join range(1, 5) as q(quarter)
        on q.quarter >= i.h
),

computed_quarters as (
    select
        *,
        case
            when not has_predecessor_line or t_k is null then null
            when consolidation = 'sum' then greatest(0, t_k - greatest(0, excess - coalesce(sum(coalesce(t_k, 0)) over (
                partition by contract_id, iku_code order by quarter
                rows between unbounded preceding and 1 preceding
            ), 0)))
            when consolidation = 'take_last_known' and progress then greatest(0, t_k - level_reached)
            else greatest(0, t_k)
        end as computed_target
    from successor_quarters
),

quarter_rows as (
    select
        *,
        'Q' || quarter as period,
        quarter as period_last_quarter,
        coalesce(declared_target, computed_target) as effective_target
    from computed_quarters
),

composite_periods as (
    select * from (values ('S1', 2), ('SDQ3', 3)) as p(period, period_last_quarter)
),

-- S1 / SDQ3 of the successor consolidate only the successor's own quarters
composite_rows as (
    select
        q.year,
        q.contract_id,
        q.replaces_contract_id,
        q.iku_code,
        q.h,
        q.r_prev,
        p.period,
        p.period_last_quarter,
        case any_value(q.consolidation)
            when 'sum' then list_sum(list(q.computed_target order by q.quarter))
            when 'average' then list_avg(list(q.computed_target order by q.quarter))
            else arg_max(q.computed_target, q.quarter) filter (where q.computed_target is not null)
        end as computed_target,
        cast(null as double) as declared_target,
        case any_value(q.consolidation)
            when 'sum' then list_sum(list(q.effective_target order by q.quarter))
            when 'average' then list_avg(list(q.effective_target order by q.quarter))
            else arg_max(q.effective_target, q.quarter) filter (where q.effective_target is not null)
        end as effective_target
    from quarter_rows as q
    inner join composite_periods as p
        on q.quarter <= p.period_last_quarter
    group by q.year, q.contract_id, q.replaces_contract_id, q.iku_code, q.h, q.r_prev, p.period,
        p.period_last_quarter
),

year_rows as (
    select
        year,
        contract_id,
        replaces_contract_id,
        iku_code,
        h,
        r_prev,
        'Y' as period,
        4 as period_last_quarter,
        case
            when not has_predecessor_line then null
            when consolidation = 'average' then greatest(0, (
                coalesce(case when h <= 1 then t1 end, 0) + coalesce(case when h <= 2 then t2 end, 0)
                + coalesce(case when h <= 3 then t3 end, 0) + coalesce(t4, 0)
            ) / nullif(
                (case when h <= 1 and t1 is not null then 1 else 0 end)
                + (case when h <= 2 and t2 is not null then 1 else 0 end)
                + (case when h <= 3 and t3 is not null then 1 else 0 end)
                + (case when t4 is not null then 1 else 0 end), 0))
            when consolidation = 'sum' then greatest(0, t_y - sum_reached)
            when consolidation = 'take_last_known' and progress then greatest(0, t_y - level_reached)
            else greatest(0, t_y)
        end as computed_target,
        declared_y as declared_target
    from rule_inputs
)

select
    year, contract_id, replaces_contract_id, iku_code, h as handover_quarter, r_prev,
    period, period_last_quarter, computed_target, declared_target, effective_target,
    has_predecessor_line, event_id, predecessor_event_id
from quarter_rows

union all

select
    c.year, c.contract_id, c.replaces_contract_id, c.iku_code, c.h, c.r_prev,
    c.period, c.period_last_quarter, c.computed_target, c.declared_target, c.effective_target,
    i.has_predecessor_line, i.event_id, i.predecessor_event_id
from composite_rows as c
inner join rule_inputs as i
    on c.contract_id = i.contract_id and c.iku_code = i.iku_code

union all

select
    y.year, y.contract_id, y.replaces_contract_id, y.iku_code, y.h, y.r_prev,
    y.period, y.period_last_quarter, y.computed_target, y.declared_target,
    coalesce(y.declared_target, y.computed_target) as effective_target,
    i.has_predecessor_line, i.event_id, i.predecessor_event_id
from year_rows as y
inner join rule_inputs as i
    on y.contract_id = i.contract_id and y.iku_code = i.iku_code
