-- Achievement of every IKU line per report period (DOMAIN.md sections 3, 4, 8): one row per
-- (contract_id, iku_code, period) for the periods whose last quarter the line is in force.
-- Each quarter of a period counts with the version in force in that quarter (addenda never
-- revise earlier quarters); the row's attributes (name, polarity, consolidation, weight, ...)
-- are those of the version in force in the period's last quarter.
with line_quarters as (
    select * from {{ ref('int_line_quarters') }}
),

realisations as (
    select * from {{ ref('int_realisations_latest') }}
),

holders as (
    select * from {{ ref('int_quarter_holders') }}
),

contracts as (
    select * from {{ ref('int_contracts') }}
),

periods as (
    select * from {{ achievement_periods() }}
),

-- A line has a row for a period when it is in force in the period's last quarter.
anchors as (
    select
        lq.*,
        p.period,
        p.period_order,
        p.period_first_quarter,
        p.period_last_quarter
    from line_quarters as lq
    inner join periods as p
        on lq.quarter = p.period_last_quarter
),

-- Each quarter a line is in force, with its latest realisation (joined once per quarter).
-- Reports for quarters where the line is not in force never join here: they do not score.
quarter_members as (
    select
        lq.contract_id,
        lq.iku_code,
        lq.quarter,
        lq.target,
        lq.is_komplemen_remaining,
        r.value as realisation,
        r.report_id,
        r.reports_count
    from line_quarters as lq
    left join realisations as r
        on r.contract_id = lq.contract_id
        and r.iku_code = lq.iku_code
        and r.quarter = lq.quarter
),

-- The quarters of each period in which the line is in force. Periods not anchored on their last
-- quarter get aggregates too; the inner join with the anchors in `consolidated` drops them.
members as (
    select m.*, p.period
    from quarter_members as m
    inner join periods as p
        on m.quarter between p.period_first_quarter and p.period_last_quarter
),

-- Aggregates over the quarters that have a target (the ones a composite consolidates); "last"
-- is the latest quarter of the period that has a target (take_last_known). One row per quarter
-- and line (tested unique), so a filter on the quarter picks that quarter's row.
quarter_slots as (
    select
        contract_id,
        iku_code,
        period,
        count(*) as quarters_in_force,
        count(*) filter (where target is not null) as quarters_with_target,
        count(*) filter (where target is not null and realisation is null) as quarters_missing_realisation,
        count(realisation) filter (where target is not null) as quarters_with_realisation,
        max(quarter) filter (where target is not null) as last_target_quarter,
        max(target) filter (where quarter = 1) as t1,
        max(target) filter (where quarter = 2) as t2,
        max(target) filter (where quarter = 3) as t3,
        max(target) filter (where quarter = 4) as t4,
        max(realisation) filter (where quarter = 1 and target is not null) as r1,
        max(realisation) filter (where quarter = 2 and target is not null) as r2,
        max(realisation) filter (where quarter = 3 and target is not null) as r3,
        max(realisation) filter (where quarter = 4 and target is not null) as r4,
        max(report_id) filter (where quarter = 1 and target is not null) as id1,
        max(report_id) filter (where quarter = 2 and target is not null) as id2,
        max(report_id) filter (where quarter = 3 and target is not null) as id3,
        max(report_id) filter (where quarter = 4 and target is not null) as id4,
        max(reports_count) filter (where quarter = 1 and target is not null) as n1,
        max(reports_count) filter (where quarter = 2 and target is not null) as n2,
        max(reports_count) filter (where quarter = 3 and target is not null) as n3,
        max(reports_count) filter (where quarter = 4 and target is not null) as n4,
        bool_or(coalesce(is_komplemen_remaining, false)) filter (where target is not null)
            as any_komplemen_remaining
    from members
    group by contract_id, iku_code, period
),

-- Sums run in quarter order (Q1 + Q2 + ...; an absent quarter adds an exact 0), so a composite
-- value is the same float on every run and equals the Python reference's sum(values).
period_aggregates as (
    select
        contract_id,
        iku_code,
        period,
        quarters_in_force,
        quarters_with_target,
        quarters_missing_realisation,
        last_target_quarter,
        any_komplemen_remaining,
        case when quarters_with_target > 0 then
            coalesce(t1, 0) + coalesce(t2, 0) + coalesce(t3, 0) + coalesce(t4, 0) end as target_sum,
        case when quarters_with_target > 0 then
            (coalesce(t1, 0) + coalesce(t2, 0) + coalesce(t3, 0) + coalesce(t4, 0))
            / quarters_with_target end as target_avg,
        case last_target_quarter when 1 then t1 when 2 then t2 when 3 then t3 when 4 then t4 end
            as target_last,
        case when quarters_with_realisation > 0 then
            coalesce(r1, 0) + coalesce(r2, 0) + coalesce(r3, 0) + coalesce(r4, 0) end as realisation_sum,
        case when quarters_with_realisation > 0 then
            (coalesce(r1, 0) + coalesce(r2, 0) + coalesce(r3, 0) + coalesce(r4, 0))
            / quarters_with_realisation end as realisation_avg,
        case last_target_quarter when 1 then r1 when 2 then r2 when 3 then r3 when 4 then r4 end
            as realisation_last,
        list_filter([id1, id2, id3, id4], lambda x: x is not null) as target_quarter_report_ids,
        case last_target_quarter when 1 then id1 when 2 then id2 when 3 then id3 when 4 then id4 end
            as last_target_quarter_report_id,
        -- hugeint like the sum() these replace
        cast(coalesce(n1, 0) + coalesce(n2, 0) + coalesce(n3, 0) + coalesce(n4, 0) as hugeint)
            as target_quarter_reports_count,
        cast(coalesce(case last_target_quarter when 1 then n1 when 2 then n2 when 3 then n3
            when 4 then n4 end, 0) as hugeint) as last_target_quarter_reports_count
    from quarter_slots
),

consolidated as (
    select
        a.*,
        agg.quarters_in_force,
        agg.quarters_with_target,
        agg.quarters_missing_realisation,
        agg.last_target_quarter,
        a.period_first_quarter = a.period_last_quarter as is_quarter_period,
        case
            when a.period_first_quarter = a.period_last_quarter then a.target
            when a.period = 'Y' and a.target_y is not null then a.target_y
            else {{ consolidate('a.consolidation', 'agg.target_sum', 'agg.target_avg', 'agg.target_last') }}
        end as period_target,
        case
            when a.period_first_quarter = a.period_last_quarter then qr.value
            -- a composite realisation needs every quarter with a target reported
            -- (take_last_known: only the latest quarter with a target)
            when agg.quarters_with_target = 0 then null
            when a.consolidation in ('sum', 'average') and agg.quarters_missing_realisation > 0 then null
            else {{ consolidate('a.consolidation', 'agg.realisation_sum', 'agg.realisation_avg', 'agg.realisation_last') }}
        end as period_realisation,
        case
            when a.period_first_quarter = a.period_last_quarter then coalesce(a.is_komplemen_remaining, false)
            when a.period = 'Y' and a.target_y is not null then coalesce(a.is_komplemen_remaining, false)
            else coalesce(agg.any_komplemen_remaining, false)
        end as target_is_komplemen_remaining,
        case
            when a.period_first_quarter = a.period_last_quarter
                then case when qr.report_id is null then [] else [qr.report_id] end
            when a.consolidation = 'take_last_known'
                then case when agg.last_target_quarter_report_id is null then []
                    else [agg.last_target_quarter_report_id] end
            else coalesce(agg.target_quarter_report_ids, [])
        end as realisation_report_ids,
        -- every report (corrections included) behind those latest ones
        case
            when a.period_first_quarter = a.period_last_quarter then coalesce(qr.reports_count, 0)
            when a.consolidation = 'take_last_known' then agg.last_target_quarter_reports_count
            else agg.target_quarter_reports_count
        end as realisation_reports_count
    from anchors as a
    inner join period_aggregates as agg
        on agg.contract_id = a.contract_id
        and agg.iku_code = a.iku_code
        and agg.period = a.period
    -- a quarter period shows its report even where the quarter has no target
    left join realisations as qr
        on qr.contract_id = a.contract_id
        and qr.iku_code = a.iku_code
        and qr.quarter = a.period_last_quarter
),

scored as (
    select
        *,
        {{ ici('polarity', 'period_realisation', 'period_target', 'tolerance', 'target_is_max') }} as period_ici
    from consolidated
)

select
    c.year,
    s.contract_id,
    c.position_id,
    c.unit_id,
    c.is_unit_head,
    h.holder_nip,
    s.iku_code,
    s.iku_name,
    s.ss_code,
    s.perspective,
    s.polarity,
    s.consolidation,
    s.progress,
    s.tolerance,
    s.target_is_max,
    s.weight,
    s.period,
    s.period_order,
    s.period_first_quarter,
    s.period_last_quarter,
    s.period_target as target,
    s.period_realisation as realisation,
    s.period_ici as ici,
    {{ ici_colour('s.period_ici') }} as colour,
    -- for the audit rule TARGET_NOT_SCORABLE (DOMAIN.md 4): a 0 that is a komplemen's computed
    -- remaining target is exempt
    (s.period_target is not null and s.period_target <= 0 and not s.target_is_komplemen_remaining)
        as target_not_scorable,
    s.target_is_komplemen_remaining,
    s.version,
    s.event_id as version_event_id,
    s.target_event_id,
    s.quarters_in_force,
    s.quarters_with_target,
    s.quarters_missing_realisation,
    s.last_target_quarter,
    -- the latest reports the realisation is made of (take_last_known: the latest quarter's)
    s.realisation_report_ids,
    s.realisation_reports_count
from scored as s
inner join contracts as c
    on c.contract_id = s.contract_id
left join holders as h
    on h.contract_id = s.contract_id
    and h.quarter = s.period_last_quarter
