-- The raw-SQL floor of the benchmark: marts.iku_achievement computed by ONE DuckDB statement
-- straight from the event store (wh.raw.*), as of {{as_of}}: the same rules as the dbt models
-- (staging -> int_contracts, int_line_versions, int_komplemen_targets (Q1..Q4 and Y only),
-- int_line_quarters, int_realisations_latest, int_quarter_holders -> int_iku_periods) without the
-- intermediate tables, the audit rules, the other marts and the data tests. The nested lines are
-- unnested once. The benchmark compares its rows with marts.iku_achievement.
create or replace table iku_achievement as
with events as (
    select
        event_id, event_type, contract_id, year, position_id, unit_id, holder_nip,
        replaces_contract_id,
        effective_date, recorded_at, lines,
        cast(substr(effective_period, 2, 1) as integer) as effective_quarter,
        case when effective_date < make_date(year, 1, 1) then 1
             when effective_date > make_date(year, 12, 31) then 4
             else quarter(effective_date) end as effective_date_quarter,
        event_type in ('signed', 'komplemen') as is_creating_type,
        row_number() over (
            partition by contract_id
            order by case when event_type in ('signed', 'komplemen') then 0 else 1 end,
                effective_date, recorded_at, event_id) as fold_seq
    from wh.raw.contract_events
    where recorded_at < cast('{{as_of}}' as date) + interval 1 day
),

creating as (
    select * from events where is_creating_type
    qualify row_number() over (partition by contract_id order by fold_seq) = 1
),

successors as (
    select replaces_contract_id as contract_id, contract_id as successor_contract_id,
        effective_date_quarter as successor_handover_quarter, effective_date as successor_start_date
    from creating
    where event_type = 'komplemen' and replaces_contract_id is not null
    qualify row_number() over (partition by replaces_contract_id
        order by effective_date, recorded_at, event_id) = 1
),

contracts as (
    select c.year, c.contract_id, c.event_type as kind, c.event_id as creating_event_id,
        c.position_id, c.unit_id, c.holder_nip, c.replaces_contract_id, c.effective_date_quarter as start_quarter,
        coalesce(s.successor_handover_quarter - 1, 4) as end_quarter,
        s.successor_contract_id, s.successor_start_date,
        case when c.event_type = 'komplemen' then c.effective_date_quarter end as handover_quarter
    from creating as c left join successors as s on c.contract_id = s.contract_id
),

lines as (
    select e.event_id, e.event_type, e.contract_id, e.fold_seq, e.effective_quarter,
        unnest(e.lines) as line
    from events as e
    where e.event_type in ('signed', 'komplemen', 'addendum')
),

versioned as (
    select
        l.event_id, l.event_type, l.contract_id, l.fold_seq,
        l.line.iku_code as iku_code,
        coalesce(l.line.op, 'upsert') = 'remove' as is_removed,
        l.line.iku_name as iku_name, l.line.ss_code as ss_code,
        l.line.perspective as perspective, l.line.polarity as polarity,
        l.line.consolidation as consolidation, coalesce(l.line.progress, false) as progress,
        l.line.weight as weight, coalesce(l.line.tolerance, 0) as tolerance,
        coalesce(l.line.target_is_max, false) as target_is_max,
        l.line.target_q1 as target_q1, l.line.target_q2 as target_q2,
        l.line.target_q3 as target_q3, l.line.target_q4 as target_q4,
        l.line.target_y as target_y,
        c.end_quarter,
        greatest(case when l.event_type = 'addendum' then l.effective_quarter
                      else c.start_quarter end, c.start_quarter) as from_quarter,
        row_number() over (partition by l.contract_id, l.line.iku_code order by l.fold_seq) as version
    from lines as l
    inner join contracts as c on l.contract_id = c.contract_id
),

versions as (
    select *,
        least(4, coalesce(min(from_quarter) over (
            partition by contract_id, iku_code order by version
            rows between 1 following and unbounded following) - 1, 4)) as uncut_to_quarter
    from versioned
),

-- komplemen remaining targets (int_komplemen_targets), the periods Q1..Q4 and Y
successor_lines as (
    select k.contract_id, k.replaces_contract_id, k.handover_quarter as h, v.iku_code,
        v.consolidation, v.progress,
        v.target_q1 as declared_q1, v.target_q2 as declared_q2, v.target_q3 as declared_q3,
        v.target_q4 as declared_q4, v.target_y as declared_y
    from contracts as k
    inner join versions as v on k.contract_id = v.contract_id and k.creating_event_id = v.event_id
    where k.kind = 'komplemen' and not v.is_removed
),

predecessor_quarters as (
    select v.contract_id, v.iku_code, q.quarter,
        case q.quarter when 1 then v.target_q1 when 2 then v.target_q2
            when 3 then v.target_q3 else v.target_q4 end as target_in_quarter,
        v.target_q1, v.target_q2, v.target_q3, v.target_q4, v.target_y
    from versions as v
    inner join range(1, 5) as q(quarter) on q.quarter between v.from_quarter and v.uncut_to_quarter
    where not v.is_removed
        and v.contract_id in (select replaces_contract_id from successor_lines)
),

realisations as (
    select contract_id, iku_code, cast(substr(quarter, 2, 1) as integer) as quarter, value,
        report_id
    from wh.raw.realisations
    where reported_at < cast('{{as_of}}' as date) + interval 1 day
    qualify row_number() over (partition by contract_id, iku_code, quarter
        order by reported_at desc, report_id desc) = 1
),

trajectories as (
    select s.*,
        anchor.iku_code is not null as has_predecessor_line,
        case when s.h > 1 then p1.target_in_quarter else anchor.target_q1 end as t1,
        case when s.h > 2 then p2.target_in_quarter else anchor.target_q2 end as t2,
        case when s.h > 3 then p3.target_in_quarter else anchor.target_q3 end as t3,
        anchor.target_q4 as t4, anchor.target_y as t_y
    from successor_lines as s
    left join predecessor_quarters as anchor on s.replaces_contract_id = anchor.contract_id
        and s.iku_code = anchor.iku_code and anchor.quarter = greatest(s.h - 1, 1)
    left join predecessor_quarters as p1 on s.replaces_contract_id = p1.contract_id
        and s.iku_code = p1.iku_code and p1.quarter = 1
    left join predecessor_quarters as p2 on s.replaces_contract_id = p2.contract_id
        and s.iku_code = p2.iku_code and p2.quarter = 2
    left join predecessor_quarters as p3 on s.replaces_contract_id = p3.contract_id
        and s.iku_code = p3.iku_code and p3.quarter = 3
),

prior_realisations as (
    select s.contract_id, s.iku_code, sum(r.value) as r_sum, avg(r.value) as r_avg,
        arg_max(r.value, r.quarter) as r_last
    from successor_lines as s
    inner join realisations as r on s.replaces_contract_id = r.contract_id
        and s.iku_code = r.iku_code and r.quarter < s.h
    group by s.contract_id, s.iku_code
),

rule_inputs as (
    select *,
        greatest(0, coalesce(r_prev, 0) - c_before) as excess,
        coalesce(greatest(r_prev, l_before), 0) as level_reached,
        greatest(r_prev, c_before) as sum_reached
    from (
        select t.*,
            case when t.h = 1 then 0 when t.consolidation = 'sum' then coalesce(pr.r_sum, 0)
                 when t.consolidation = 'average' then pr.r_avg else pr.r_last end as r_prev,
            coalesce(case when t.h > 1 then t.t1 end, 0) + coalesce(case when t.h > 2 then t.t2 end, 0)
                + coalesce(case when t.h > 3 then t.t3 end, 0) as c_before,
            case t.h when 1 then 0 when 2 then t.t1 when 3 then t.t2 else t.t3 end as l_before
        from trajectories as t
        left join prior_realisations as pr on t.contract_id = pr.contract_id and t.iku_code = pr.iku_code
    )
),

remaining_quarters as (
    select contract_id, iku_code, quarter, has_predecessor_line,
        coalesce(declared_target, case
            when not has_predecessor_line or t_k is null then null
            when consolidation = 'sum' then greatest(0, t_k - greatest(0, excess - coalesce(sum(coalesce(t_k, 0)) over (
                partition by contract_id, iku_code order by quarter
                rows between unbounded preceding and 1 preceding), 0)))
            when consolidation = 'take_last_known' and progress then greatest(0, t_k - level_reached)
            else greatest(0, t_k) end) as effective_target
    from (
        select i.*, q.quarter,
            case q.quarter when 1 then i.t1 when 2 then i.t2 when 3 then i.t3 else i.t4 end as t_k,
            case q.quarter when 1 then i.declared_q1 when 2 then i.declared_q2
                when 3 then i.declared_q3 else i.declared_q4 end as declared_target
        from rule_inputs as i inner join range(1, 5) as q(quarter) on q.quarter >= i.h
    )
),

remaining_years as (
    select contract_id, iku_code, coalesce(declared_y, case
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
            else greatest(0, t_y) end) as effective_target
    from rule_inputs
),

line_quarters as (
    select v.contract_id, v.iku_code, q.quarter, v.version, v.iku_name, v.ss_code, v.perspective,
        v.polarity, v.consolidation, v.progress, v.weight, v.tolerance, v.target_is_max,
        case when is_k then rq.effective_target else case q.quarter when 1 then v.target_q1
            when 2 then v.target_q2 when 3 then v.target_q3 else v.target_q4 end end as target,
        case when is_k then ry.effective_target else v.target_y end as target_y,
        coalesce(is_k and rq.has_predecessor_line, false) as is_komplemen_remaining
    from (
        select v.*, c.kind = 'komplemen' and v.event_id = c.creating_event_id as is_k
        from versions as v inner join contracts as c on v.contract_id = c.contract_id
        where not v.is_removed and v.from_quarter <= least(v.uncut_to_quarter, v.end_quarter)
    ) as v
    inner join range(1, 5) as q(quarter)
        on q.quarter between v.from_quarter and least(v.uncut_to_quarter, v.end_quarter)
    left join remaining_quarters as rq on v.is_k and v.contract_id = rq.contract_id
        and v.iku_code = rq.iku_code and rq.quarter = q.quarter
    left join remaining_years as ry on v.is_k and v.contract_id = ry.contract_id
        and v.iku_code = ry.iku_code
),

-- the accountable holder of each quarter (int_responsibility -> int_quarter_holders)
holder_events as (
    select e.contract_id, e.fold_seq, e.holder_nip,
        case when e.effective_date < make_date(e.year, 1, 1) then 1
             when e.effective_date > make_date(e.year, 12, 31) then 4
             else quarter(e.effective_date) end as from_quarter
    from events as e inner join contracts as c on e.contract_id = c.contract_id
    where e.event_id = c.creating_event_id or e.event_type = 'plt_transfer'
),

holders as (
    select c.contract_id, q.quarter, h.holder_nip
    from contracts as c
    inner join range(1, 5) as q(quarter) on q.quarter between c.start_quarter and c.end_quarter
    inner join holder_events as h on h.contract_id = c.contract_id and h.from_quarter <= q.quarter
    qualify row_number() over (partition by c.contract_id, q.quarter order by h.fold_seq desc) = 1
),

periods as (
    select * from (values ('Q1', 1, 1, 1), ('Q2', 2, 2, 2), ('S1', 3, 1, 2), ('Q3', 4, 3, 3),
        ('SDQ3', 5, 1, 3), ('Q4', 6, 4, 4), ('Y', 7, 1, 4))
        as p (period, period_order, period_first_quarter, period_last_quarter)
),

anchors as (
    select lq.*, p.period, p.period_order, p.period_first_quarter, p.period_last_quarter
    from line_quarters as lq inner join periods as p on lq.quarter = p.period_last_quarter
),

members as (
    select a.contract_id, a.iku_code, a.period, lq.quarter, lq.target, r.value as realisation,
        max(case when lq.target is not null then lq.quarter end)
            over (partition by a.contract_id, a.iku_code, a.period) as last_target_quarter
    from anchors as a
    inner join line_quarters as lq on lq.contract_id = a.contract_id and lq.iku_code = a.iku_code
        and lq.quarter between a.period_first_quarter and a.period_last_quarter
    left join realisations as r on r.contract_id = lq.contract_id and r.iku_code = lq.iku_code
        and r.quarter = lq.quarter
    where a.period_first_quarter < a.period_last_quarter
),

aggregates as (
    select contract_id, iku_code, period,
        count(*) filter (where target is not null) as quarters_with_target,
        count(*) filter (where target is not null and realisation is null) as quarters_missing,
        sum(target) filter (where target is not null) as target_sum,
        avg(target) filter (where target is not null) as target_avg,
        max(target) filter (where quarter = last_target_quarter) as target_last,
        sum(realisation) filter (where target is not null) as realisation_sum,
        avg(realisation) filter (where target is not null) as realisation_avg,
        max(realisation) filter (where quarter = last_target_quarter) as realisation_last
    from members
    group by contract_id, iku_code, period
),

consolidated as (
    select a.*,
        case
            when a.period_first_quarter = a.period_last_quarter then a.target
            when a.period = 'Y' and a.target_y is not null then a.target_y
            else case a.consolidation when 'sum' then g.target_sum when 'average' then g.target_avg
                when 'take_last_known' then g.target_last end
        end as period_target,
        case
            when a.period_first_quarter = a.period_last_quarter then qr.value
            when g.quarters_with_target = 0 then null
            when a.consolidation in ('sum', 'average') and g.quarters_missing > 0 then null
            else case a.consolidation when 'sum' then g.realisation_sum
                when 'average' then g.realisation_avg
                when 'take_last_known' then g.realisation_last end
        end as period_realisation
    from anchors as a
    left join aggregates as g on g.contract_id = a.contract_id and g.iku_code = a.iku_code
        and g.period = a.period
    left join realisations as qr on a.period_first_quarter = a.period_last_quarter
        and qr.contract_id = a.contract_id and qr.iku_code = a.iku_code
        and qr.quarter = a.period_last_quarter
),

scored as (
    select *,
        case when period_realisation is null or period_target is null or period_target <= 0 then null
        else round(greatest(0.0, least(120.0, case
            when target_is_max and case polarity
                when 'maximize' then period_realisation >= period_target - 1e-9 * abs(period_target)
                when 'minimize' then period_realisation <= period_target + 1e-9 * abs(period_target)
                when 'stabilize' then abs(period_realisation - period_target) <= 1e-9 * abs(period_target)
                end then 120.0
            when polarity = 'maximize' then 100.0 * period_realisation / period_target
            when polarity = 'minimize' then 100.0 * (2 - period_realisation / period_target)
            when polarity = 'stabilize' then case
                when abs(period_realisation - period_target) <= tolerance then 100.0
                else 100.0 * (1 - (abs(period_realisation - period_target) - tolerance)
                    / abs(period_target)) end
            end)), 12) end as ici
    from consolidated
)

select c.year, s.contract_id, c.position_id, c.unit_id, h.holder_nip, s.iku_code, s.iku_name,
    s.perspective, s.polarity, s.consolidation, s.weight, s.period, s.period_target as target,
    s.period_realisation as realisation, s.ici,
    case when s.ici is null then null when s.ici >= 100 then 'green' when s.ici >= 80 then 'yellow'
        else 'red' end as colour
from scored as s
inner join contracts as c on c.contract_id = s.contract_id
left join holders as h on h.contract_id = s.contract_id and h.quarter = s.period_last_quarter
order by s.contract_id, s.iku_code, s.period_order;
