-- TRAJECTORY_INCONSISTENT (DOMAIN.md section 3), one finding per line version in force:
-- target_y differs from the consolidation of the quarterly targets that are given (relative
-- tolerance 1e-6), or a take_last_known progress line has a decreasing quarterly target.
-- The trajectory judged is the one in force after the version's event: an addendum never revises
-- quarters before its effective quarter, so those keep the target in force there (a line that
-- tried raises ADDENDUM_REVISES_PAST as well); from the effective quarter on, the version's own.
-- Komplemen KKs are exempt (their targets are remaining targets by rule). A version that is in
-- force in no quarter (superseded before it took effect) is not judged. With no quarterly target
-- or no target_y there is nothing to compare.
with versions as (
    select v.*
    from {{ ref('int_line_versions') }} as v
    inner join {{ ref('int_contracts') }} as c on v.contract_id = c.contract_id
    where c.kind = 'signed'
        and not v.is_removed
        and v.in_force_from_quarter is not null
),

given as (
    select
        v.contract_id,
        v.iku_code,
        v.version,
        v.from_quarter,
        q.quarter,
        q.target
    from versions as v,
        unnest([
            {'quarter': 1, 'target': v.target_q1},
            {'quarter': 2, 'target': v.target_q2},
            {'quarter': 3, 'target': v.target_q3},
            {'quarter': 4, 'target': v.target_q4}
        ]) as u(q)
),

quarters as (
    select
        g.contract_id,
        g.iku_code,
        g.version,
        g.quarter,
        case when g.quarter < g.from_quarter and lq.quarter is not null then lq.target else g.target end
            as target
    from given as g
    left join {{ ref('int_line_quarters') }} as lq
        on g.contract_id = lq.contract_id
        and g.iku_code = lq.iku_code
        and g.quarter = lq.quarter
),

per_version as (
    select
        contract_id,
        iku_code,
        version,
        sum(target) as q_sum,
        avg(target) as q_avg,
        arg_max(target, quarter) as q_last,
        -- a decrease between two consecutive quarters that have a target
        bool_or(target < prev_target) as has_decrease,
        string_agg('Q' || cast(quarter as varchar) || ' ' || cast(target as varchar), ', ' order by quarter)
            as trajectory_text
    from (
        select *, lag(target) over (partition by contract_id, iku_code, version order by quarter) as prev_target
        from quarters
        where target is not null
    )
    group by contract_id, iku_code, version
),

judged as (
    select
        v.year,
        v.contract_id,
        v.iku_code,
        v.version,
        v.event_id,
        v.event_type,
        v.target_y,
        v.consolidation,
        v.progress,
        p.trajectory_text,
        case v.consolidation
            when 'sum' then p.q_sum
            when 'average' then p.q_avg
            else p.q_last
        end as consolidated,
        v.consolidation = 'take_last_known' and coalesce(v.progress, false) and p.has_decrease as progress_decreases
    from versions as v
    inner join per_version as p
        on v.contract_id = p.contract_id and v.iku_code = p.iku_code and v.version = p.version
),

flagged as (
    select
        *,
        target_y is not null
            and abs(target_y - consolidated) > 1e-6 * greatest(abs(target_y), abs(consolidated))
            as y_mismatch
    from judged
)

select
    'TRAJECTORY_INCONSISTENT' as rule,
    year,
    contract_id,
    iku_code,
    cast(null as varchar) as period,
    event_id,
    iku_code || '|' || event_id as natural_key,
    'KK ' || contract_id || ' line ' || iku_code || ' version ' || cast(version as varchar)
        || ' (' || event_type || ' event ' || event_id || '): trajectory in force ' || trajectory_text
        || case when y_mismatch
            then '; target_y ' || cast(target_y as varchar) || ' differs from the ' || consolidation
                || ' of the quarters (' || cast(round(consolidated, 6) as varchar) || ')'
            else '' end
        || case when progress_decreases
            then '; a cumulative (take_last_known, progress) target decreases between quarters'
            else '' end
        || '. Correct the trajectory by an addendum.' as detail
from flagged
where y_mismatch or progress_decreases
