-- Cascading consistency (DOMAIN.md section 7), judged on the state at the as-of date where a KK
-- replaced by a komplemen is represented by its successor: a child's parent_contract_id resolves
-- through the chain of successors to the KK that holds the position now (for realisations: to
-- the KK of the chain that covers the quarter compared).
-- CASCADE_ORPHAN, CASCADE_TARGET_MISMATCH (per child line), CASCADE_DIRECT_MULTI (per parent
-- line), CASCADE_REALISATION_MISMATCH (per child line and quarter).
with contracts as (
    select * from {{ ref('int_contracts') }}
),

-- the KK that represents a KK at the as-of date: the last of its chain of komplemen successors
current_of as (
    select contract_id as root_contract_id, current_contract_id
    from {{ ref('int_contract_current') }}
),

lines as (
    select l.*, c.kind, c.parent_contract_id, c.start_quarter
    from {{ ref('contract_lines') }} as l
    inner join contracts as c on l.contract_id = c.contract_id
    -- the state at the as-of date: KKs that have not been replaced
    where c.successor_contract_id is null
),

children as (
    select
        l.*,
        cur.current_contract_id as resolved_parent_contract_id,
        pc.year as parent_year,
        pc.kind as parent_kind,
        -- quarters both KKs cover (a KK signed mid-year has no target before its start)
        greatest(l.start_quarter, pc.start_quarter) as common_from_quarter,
        p.iku_code as found_parent_iku_code,
        p.consolidation as parent_consolidation,
        p.unit_of_measure as parent_unit_of_measure,
        p.target_q1 as parent_q1,
        p.target_q2 as parent_q2,
        p.target_q3 as parent_q3,
        p.target_q4 as parent_q4,
        p.target_y as parent_y,
        p.last_event_id as parent_last_event_id
    from lines as l
    left join current_of as cur on l.parent_contract_id = cur.root_contract_id
    left join contracts as pc
        on cur.current_contract_id = pc.contract_id
        and pc.year = l.year
    left join lines as p
        on pc.contract_id = p.contract_id
        and l.parent_iku_code = p.iku_code
    where l.cascade_type in ('direct', 'indirect')
),

orphan as (
    select
        'CASCADE_ORPHAN' as rule,
        year,
        contract_id,
        iku_code,
        cast(null as varchar) as period,
        last_event_id as event_id,
        iku_code as natural_key,
        'KK ' || contract_id || ' line ' || iku_code || ' (' || cascade_type || ', event '
            || last_event_id || ') cascades from '
            || case
                when parent_contract_id is null then 'no parent KK (parent_contract_id is empty)'
                when parent_iku_code is null then 'KK ' || parent_contract_id || ' but names no parent IKU'
                when parent_year is null then 'KK ' || parent_contract_id
                    || ', which does not exist in ' || cast(year as varchar)
                else parent_iku_code || ' of KK ' || resolved_parent_contract_id
                    || case when resolved_parent_contract_id <> parent_contract_id
                        then ' (successor of ' || parent_contract_id || ')' else '' end
                    || ', which has no such IKU in force'
            end
            || '. Correct the parent reference.' as detail
    from children
    where found_parent_iku_code is null
),

linked as (
    select * from children where found_parent_iku_code is not null
),

direct_multi as (
    select
        'CASCADE_DIRECT_MULTI' as rule,
        max(year) as year,
        resolved_parent_contract_id as contract_id,
        parent_iku_code as iku_code,
        cast(null as varchar) as period,
        max(parent_last_event_id) as event_id,
        parent_iku_code as natural_key,
        'KK ' || resolved_parent_contract_id || ' line ' || parent_iku_code || ' has '
            || cast(count(*) as varchar) || ' direct children ('
            || string_agg(contract_id || ' ' || iku_code, ', ' order by contract_id, iku_code)
            || '); a direct cascade goes to exactly one subordinate KK, use indirect for a split.'
            as detail
    from linked
    where cascade_type = 'direct'
    group by resolved_parent_contract_id, parent_iku_code
    having count(*) > 1
),

-- lines of komplemen KKs carry remaining targets: never compared for targets
comparable as (
    select * from linked where kind = 'signed' and parent_kind = 'signed'
),

direct_target as (
    select
        'CASCADE_TARGET_MISMATCH' as rule,
        year,
        contract_id,
        iku_code,
        cast(null as varchar) as period,
        last_event_id as event_id,
        iku_code as natural_key,
        'KK ' || contract_id || ' line ' || iku_code || ' (direct, event ' || last_event_id
            || ') has trajectory ' || {{ audit_trajectory_text('target_q1', 'target_q2', 'target_q3', 'target_q4', 'target_y') }}
            || ' but its parent ' || parent_iku_code || ' of KK ' || resolved_parent_contract_id
            || ' has ' || {{ audit_trajectory_text('parent_q1', 'parent_q2', 'parent_q3', 'parent_q4', 'parent_y') }}
            || '; a direct cascade hands down the same targets.' as detail
    from comparable
    where cascade_type = 'direct'
        and (
            (common_from_quarter <= 1 and {{ audit_values_differ('target_q1', 'parent_q1') }})
            or (common_from_quarter <= 2 and {{ audit_values_differ('target_q2', 'parent_q2') }})
            or (common_from_quarter <= 3 and {{ audit_values_differ('target_q3', 'parent_q3') }})
            or {{ audit_values_differ('target_q4', 'parent_q4') }}
            or {{ audit_values_differ('target_y', 'parent_y') }}
        )
),

-- indirect children of a sum IKU that share its unit of measure: their annual targets together
-- must reach the parent's. Judged only when none of those children is a komplemen line.
indirect_groups as (
    select
        resolved_parent_contract_id,
        parent_iku_code,
        any_value(parent_y) as parent_y,
        sum(coalesce(target_y, coalesce(target_q1, 0) + coalesce(target_q2, 0)
            + coalesce(target_q3, 0) + coalesce(target_q4, 0))) as children_y,
        count(*) as children,
        bool_or(kind <> 'signed' or parent_kind <> 'signed') as has_komplemen
    from linked
    where cascade_type = 'indirect'
        and parent_consolidation = 'sum'
        and unit_of_measure is not distinct from parent_unit_of_measure
    group by resolved_parent_contract_id, parent_iku_code
),

indirect_target as (
    select
        'CASCADE_TARGET_MISMATCH' as rule,
        l.year,
        l.contract_id,
        l.iku_code,
        cast(null as varchar) as period,
        l.last_event_id as event_id,
        l.iku_code as natural_key,
        'KK ' || l.contract_id || ' line ' || l.iku_code || ' (indirect, event ' || l.last_event_id
            || ') is one of ' || cast(g.children as varchar) || ' indirect children of '
            || g.parent_iku_code || ' of KK ' || g.resolved_parent_contract_id
            || ' whose annual targets sum to ' || cast(g.children_y as varchar)
            || ', short of the parent''s ' || cast(g.parent_y as varchar) || '.' as detail
    from linked as l
    inner join indirect_groups as g
        on l.resolved_parent_contract_id = g.resolved_parent_contract_id
        and l.parent_iku_code = g.parent_iku_code
    where l.cascade_type = 'indirect'
        and l.parent_consolidation = 'sum'
        and l.unit_of_measure is not distinct from l.parent_unit_of_measure
        and not g.has_komplemen
        and g.parent_y is not null
        and g.children_y < g.parent_y - 1e-6 * abs(g.parent_y)
),

-- realisations: each quarter compares the child KK covering it with the parent KK of the chain
-- covering the same quarter
child_quarters as (
    select
        lq.year,
        lq.contract_id,
        lq.iku_code,
        lq.quarter,
        lq.parent_iku_code,
        lq.event_id,
        c.parent_contract_id
    from {{ ref('int_line_quarters') }} as lq
    inner join contracts as c on lq.contract_id = c.contract_id
    where lq.cascade_type = 'direct'
),

-- the parent KK in force in the quarter: the member of the parent's chain (same current KK) that
-- covers it
parent_at_quarter as (
    select
        cq.*,
        min(member.contract_id) as parent_member_contract_id
    from child_quarters as cq
    inner join current_of as parent_cur on cq.parent_contract_id = parent_cur.root_contract_id
    inner join current_of as member_cur on parent_cur.current_contract_id = member_cur.current_contract_id
    inner join contracts as member
        on member_cur.root_contract_id = member.contract_id
        and member.year = cq.year
        and cq.quarter between member.start_quarter and member.end_quarter
    group by all
),

realisation_mismatch as (
    select
        'CASCADE_REALISATION_MISMATCH' as rule,
        p.year,
        p.contract_id,
        p.iku_code,
        'Q' || cast(p.quarter as varchar) as period,
        cr.report_id as event_id,
        p.iku_code || '|Q' || cast(p.quarter as varchar) as natural_key,
        'KK ' || p.contract_id || ' line ' || p.iku_code || ' (direct) reports Q' || cast(p.quarter as varchar)
            || ' = ' || cast(cr.value as varchar) || ' (report ' || cr.report_id || ') but its parent '
            || p.parent_iku_code || ' of KK ' || p.parent_member_contract_id || ' reports '
            || cast(pr.value as varchar) || ' (report ' || pr.report_id
            || '); a direct cascade shares the same realisation.' as detail
    from parent_at_quarter as p
    inner join {{ ref('int_realisations_latest') }} as cr
        on p.contract_id = cr.contract_id and p.iku_code = cr.iku_code and p.quarter = cr.quarter
    inner join {{ ref('int_realisations_latest') }} as pr
        on p.parent_member_contract_id = pr.contract_id
        and p.parent_iku_code = pr.iku_code
        and p.quarter = pr.quarter
    where {{ audit_values_differ('cr.value', 'pr.value') }}
)

select * from orphan
union all
select * from direct_multi
union all
select * from direct_target
union all
select * from indirect_target
union all
select * from realisation_mismatch
