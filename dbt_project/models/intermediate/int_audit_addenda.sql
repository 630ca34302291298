-- Audit findings about addenda (DOMAIN.md section 6 "addendum"):
-- ADDENDUM_LATE / ADDENDUM_NOT_ALLOWED per addendum event, ADDENDUM_REVISES_PAST per addendum
-- line and earlier quarter it tries to change, ADDENDUM_REQUIRED per cumulative line whose S1
-- realisation reached the annual target without an addendum raising it (judged after 20 July).
with deadlines as (
    select * from {{ ref('int_audit_event_deadlines') }}
    where event_type = 'addendum'
),

late as (
    select
        'ADDENDUM_LATE' as rule,
        year,
        contract_id,
        cast(null as varchar) as iku_code,
        cast(null as varchar) as period,
        event_id,
        event_id as natural_key,
        'Addendum ' || event_id || ' of KK ' || contract_id || ' (reason ' || coalesce(reason, 'none')
            || ', effective ' || coalesce(effective_period, '?') || ') was signed on '
            || cast(signed_date as varchar) || ', after its deadline ' || cast(deadline_date as varchar)
            || ' (' || deadline_rule || case when reason = 'staffing_change'
                then '; change on ' || cast(effective_date as varchar) else '' end
            || ').' as detail
    from deadlines
    -- an addendum that is not allowed at all is reported as ADDENDUM_NOT_ALLOWED only
    where is_late and is_allowed
),

not_allowed as (
    select
        'ADDENDUM_NOT_ALLOWED' as rule,
        year,
        contract_id,
        cast(null as varchar) as iku_code,
        cast(null as varchar) as period,
        event_id,
        event_id as natural_key,
        'Addendum ' || event_id || ' of KK ' || contract_id || ' has reason staffing_change, which is '
            || 'allowed only for level 5 (pelaksana / fungsional) KKs; this KK is level '
            || cast(position_level as varchar) || '. Use another reason or withdraw it.' as detail
    from deadlines
    where not is_allowed
),

-- every quarter an addendum's upsert line gives a target for, before the addendum's effective
-- quarter, within the quarters the KK covers
addendum_line_quarters as (
    select
        v.event_id,
        v.contract_id,
        v.year,
        v.iku_code,
        v.fold_seq,
        e.effective_period,
        q.quarter,
        q.target
    from {{ ref('int_line_versions') }} as v
    inner join {{ ref('stg_contract_events') }} as e on v.event_id = e.event_id
    inner join {{ ref('int_contracts') }} as c on v.contract_id = c.contract_id,
        unnest([
            {'quarter': 1, 'target': v.target_q1},
            {'quarter': 2, 'target': v.target_q2},
            {'quarter': 3, 'target': v.target_q3},
            {'quarter': 4, 'target': v.target_q4}
        ]) as u(q)
    where v.event_type = 'addendum'
        and not v.is_removed
        and q.quarter < e.effective_quarter
        and q.quarter >= c.start_quarter
        and q.quarter <= c.end_quarter
),

-- the state of the line in that quarter just before the addendum: the latest earlier version (in
-- fold order) that applies from that quarter or before; a komplemen's own line sets its
-- effective remaining target
state_before as (
    select
        a.event_id,
        a.iku_code,
        a.quarter,
        arg_max(p.version, p.fold_seq) as prior_version
    from addendum_line_quarters as a
    inner join {{ ref('int_line_versions') }} as p
        on a.contract_id = p.contract_id
        and a.iku_code = p.iku_code
        and p.fold_seq < a.fold_seq
        and p.from_quarter <= a.quarter
    group by all
),

judged_quarters as (
    select
        a.*,
        p.version is not null and not p.is_removed as was_in_force,
        case
            when p.event_type = 'komplemen' then kt.effective_target
            when a.quarter = 1 then p.target_q1
            when a.quarter = 2 then p.target_q2
            when a.quarter = 3 then p.target_q3
            else p.target_q4
        end as target_before
    from addendum_line_quarters as a
    left join state_before as sb
        on a.event_id = sb.event_id and a.iku_code = sb.iku_code and a.quarter = sb.quarter
    left join {{ ref('int_line_versions') }} as p
        on a.contract_id = p.contract_id
        and a.iku_code = p.iku_code
        and sb.prior_version = p.version
    left join {{ ref('int_komplemen_targets') }} as kt
        on p.event_type = 'komplemen'
        and a.contract_id = kt.contract_id
        and a.iku_code = kt.iku_code
        and kt.period = 'Q' || cast(a.quarter as varchar)
),

revises_past as (
    select
        'ADDENDUM_REVISES_PAST' as rule,
        year,
        contract_id,
        iku_code,
        'Q' || cast(quarter as varchar) as period,
        event_id,
        iku_code || '|Q' || cast(quarter as varchar) || '|' || event_id as natural_key,
        'Addendum ' || event_id || ' (effective ' || effective_period || ') of KK ' || contract_id
            || ' gives line ' || iku_code || ' a Q' || cast(quarter as varchar) || ' target of '
            || coalesce(cast(target as varchar), 'none') || ' where '
            || case when not was_in_force then 'the line was not in force'
                else 'the target in force was ' || coalesce(cast(target_before as varchar), 'none') end
            || '; an addendum never revises earlier quarters, so it applies from '
            || effective_period || ' only.' as detail
    from judged_quarters
    where
        case
            -- a line not in force in that quarter: any target there tries to create a past target
            when not was_in_force then target is not null
            else {{ audit_values_differ('target', 'target_before') }}
        end
),

-- ADDENDUM_REQUIRED: cumulative IKUs (maximize; sum, or take_last_known with progress)
q2_lines as (
    select *
    from {{ ref('int_line_quarters') }}
    where quarter = 2
        and polarity = 'maximize'
        and (consolidation = 'sum' or (consolidation = 'take_last_known' and coalesce(progress, false)))
),

s1 as (
    select contract_id, iku_code, realisation
    from {{ ref('int_iku_periods') }}
    where period = 'S1'
),

required as (
    select
        'ADDENDUM_REQUIRED' as rule,
        q2.year,
        q2.contract_id,
        q2.iku_code,
        'S1' as period,
        q2.event_id,
        q2.iku_code as natural_key,
        'KK ' || q2.contract_id || ' line ' || q2.iku_code || ': the S1 realisation '
            || cast(s1.realisation as varchar) || ' already reaches the annual target '
            || cast(q2.target_y as varchar) || ' in force in Q2 (event ' || q2.event_id
            || '), but no addendum raises target_y above it; it was due by '
            || cast({{ addendum_deadline_date('q2.year') }} as varchar) || '.' as detail
    from q2_lines as q2
    inner join s1 on q2.contract_id = s1.contract_id and q2.iku_code = s1.iku_code
    where {{ as_of_date() }} > {{ addendum_deadline_date('q2.year') }}
        and s1.realisation is not null
        and q2.target_y is not null
        and s1.realisation >= q2.target_y
        -- the line is still in force in Q3 of this KK
        and exists (
            select 1 from {{ ref('int_line_quarters') }} as q3
            where q3.contract_id = q2.contract_id and q3.iku_code = q2.iku_code and q3.quarter = 3
        )
        and not exists (
            select 1 from {{ ref('int_line_versions') }} as v
            where v.contract_id = q2.contract_id
                and v.iku_code = q2.iku_code
                and v.event_type = 'addendum'
                and not v.is_removed
                and v.target_y > s1.realisation
        )
)

select * from late
union all
select * from not_allowed
union all
select * from revises_past
union all
select * from required
