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

-- The targets in force before a version's effective quarter, one row per line with quarters as
-- slots (in force: p, target: t).
line_slots as (
    select
        contract_id,
        iku_code,
        {{ quarter_slots('true', 'p') }},
        {{ quarter_slots('target', 't') }}
    from {{ ref('int_line_quarters') }}
    group by contract_id, iku_code
),

-- The trajectory judged per version: the quarters that have a target, in quarter order (a list,
-- so sums run Q1 + Q2 + ... and the text and the decrease test read consecutive quarters).
per_version as (
    select
        *,
        list_sum(list_transform(trajectory, lambda x: x.target)) as q_sum,
        list_avg(list_transform(trajectory, lambda x: x.target)) as q_avg,
        trajectory[-1].target as q_last,
        -- a decrease between two consecutive quarters that have a target
        list_bool_or(list_transform(range(1, len(trajectory)),
            lambda i: trajectory[i + 1].target < trajectory[i].target)) as has_decrease,
        array_to_string(list_transform(trajectory,
            lambda x: 'Q' || cast(x.quarter as varchar) || ' ' || cast(x.target as varchar)), ', ')
            as trajectory_text
    from (
        select
            v.*,
            list_filter([
                {%- for q in range(1, 5) %}
                {'quarter': {{ q }}, 'target': case when {{ q }} < v.from_quarter and coalesce(s.p{{ q }}, false)
                    then s.t{{ q }} else v.target_q{{ q }} end}{{ ',' if not loop.last }}
                {%- endfor %}
            ], lambda x: x.target is not null) as trajectory
        from versions as v
        left join line_slots as s
            on v.contract_id = s.contract_id and v.iku_code = s.iku_code
    )
    where len(trajectory) > 0
),

judged as (
    select
        *,
        case consolidation
            when 'sum' then q_sum
            when 'average' then q_avg
            else q_last
        end as consolidated,
        consolidation = 'take_last_known' and coalesce(progress, false) and has_decrease as progress_decreases
    from per_version
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
