-- Achievement of every IKU line per report period (DOMAIN.md sections 3, 4, 8): one row per
-- (contract_id, iku_code, period) for the periods whose last quarter the line is in force.
-- Each quarter of a period counts with the version in force in that quarter (addenda never
-- revise earlier quarters); the row's attributes (name, polarity, consolidation, weight, ...)
-- are those of the version in force in the period's last quarter.
--
-- Plan (docs/BENCHMARKS.md): the quarters of a line are pivoted once into four slots (one row per
-- line, ~1 M); every (line, quarter) row then gets its periods (those ending in that quarter) and
-- the period aggregates are scalar expressions over the slots of the period's quarters. No
-- aggregate or join keyed by period, no window, no ordered list(). The CTEs are not materialized:
-- each is read once (line_quarters twice, as a scan of the table).
with line_quarters as not materialized (
    select * from {{ ref('int_line_quarters') }}
),

realisations as not materialized (
    select * from {{ ref('int_realisations_latest') }}
),

holders as not materialized (
    select * from {{ ref('int_quarter_holders') }}
),

contracts as not materialized (
    select * from {{ ref('int_contracts') }}
),

periods as (
    select * from {{ achievement_periods() }}
),

-- Each quarter a line is in force, with its latest realisation (joined once per quarter).
-- Reports for quarters where the line is not in force never join here: they do not score.
quarter_members as (
    select
        lq.contract_id,
        lq.iku_code,
        lq.quarter,
        lq.target,
        coalesce(lq.is_komplemen_remaining, false) as is_komplemen_remaining,
        r.value as realisation,
        r.report_id,
        r.reports_count
    from line_quarters as lq
    left join realisations as r
        on r.contract_id = lq.contract_id
        and r.iku_code = lq.iku_code
        and r.quarter = lq.quarter
),

-- One row per line, its quarters as slots 1..4 (one row per line and quarter, tested unique, so
-- a filter on the quarter picks that quarter's row): in force (f), target (t), realisation (r),
-- report id (id), reports behind it (n), komplemen remaining (k).
line_slots as (
    select
        contract_id,
        iku_code,
        {{ quarter_slots('true', 'f') }},
        {{ quarter_slots('target', 't') }},
        {{ quarter_slots('realisation', 'r') }},
        {{ quarter_slots('report_id', 'id') }},
        {{ quarter_slots('reports_count', 'n') }},
        {{ quarter_slots('is_komplemen_remaining', 'k') }}
    from quarter_members
    group by contract_id, iku_code
),

-- A line has a row for a period when it is in force in the period's last quarter: the
-- (line, quarter) row of that quarter, with the version in force there.
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

-- The slots of the quarters of the period: a quarter outside the period or not in force is null
-- (in = in force in the period; tt = has a target there, the quarters a composite consolidates).
masked as (
    select
        a.*,
        {%- for q in range(1, 5) %}
        coalesce(s.f{{ q }} and a.period_first_quarter <= {{ q }} and {{ q }} <= a.period_last_quarter, false)
            as in{{ q }},
        case when a.period_first_quarter <= {{ q }} and {{ q }} <= a.period_last_quarter then s.t{{ q }} end
            as t{{ q }},
        case when a.period_first_quarter <= {{ q }} and {{ q }} <= a.period_last_quarter
            and s.t{{ q }} is not null then s.r{{ q }} end as r{{ q }},
        case when a.period_first_quarter <= {{ q }} and {{ q }} <= a.period_last_quarter
            and s.t{{ q }} is not null then s.id{{ q }} end as id{{ q }},
        case when a.period_first_quarter <= {{ q }} and {{ q }} <= a.period_last_quarter
            and s.t{{ q }} is not null then s.n{{ q }} end as n{{ q }},
        case when a.period_first_quarter <= {{ q }} and {{ q }} <= a.period_last_quarter
            and s.t{{ q }} is not null then s.k{{ q }} end as k{{ q }},
        {%- endfor %}
        -- the period's last quarter as it is (a quarter period shows its report even without target)
        case a.period_last_quarter when 1 then s.r1 when 2 then s.r2 when 3 then s.r3 else s.r4 end
            as last_quarter_realisation,
        case a.period_last_quarter when 1 then s.id1 when 2 then s.id2 when 3 then s.id3 else s.id4 end
            as last_quarter_report_id,
        case a.period_last_quarter when 1 then s.n1 when 2 then s.n2 when 3 then s.n3 else s.n4 end
            as last_quarter_reports_count
    from anchors as a
    inner join line_slots as s
        on s.contract_id = a.contract_id
        and s.iku_code = a.iku_code
),

counted as (
    select
        *,
        cast(in1 as bigint) + cast(in2 as bigint) + cast(in3 as bigint) + cast(in4 as bigint)
            as quarters_in_force,
        cast(t1 is not null as bigint) + cast(t2 is not null as bigint)
            + cast(t3 is not null as bigint) + cast(t4 is not null as bigint) as quarters_with_target,
        cast(t1 is not null and r1 is null as bigint) + cast(t2 is not null and r2 is null as bigint)
            + cast(t3 is not null and r3 is null as bigint) + cast(t4 is not null and r4 is null as bigint)
            as quarters_missing_realisation,
        cast(r1 is not null as bigint) + cast(r2 is not null as bigint)
            + cast(r3 is not null as bigint) + cast(r4 is not null as bigint) as quarters_with_realisation,
        cast(case when t4 is not null then 4 when t3 is not null then 3 when t2 is not null then 2
            when t1 is not null then 1 end as bigint) as last_target_quarter,
        -- null when no quarter of the period has a target; coalesced like the flag it replaces
        coalesce(k1 or k2 or k3 or k4, false) as any_komplemen_remaining
    from masked
),

-- Sums run in quarter order (Q1 + Q2 + ...; an absent quarter adds an exact 0), so a composite
-- value is the same float on every run and equals the Python reference's sum(values).
period_aggregates as (
    select
        *,
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
    from counted
),

consolidated as (
    select
        a.*,
        a.period_first_quarter = a.period_last_quarter as is_quarter_period,
        case
            when a.period_first_quarter = a.period_last_quarter then a.target
            when a.period = 'Y' and a.target_y is not null then a.target_y
            else {{ consolidate('a.consolidation', 'a.target_sum', 'a.target_avg', 'a.target_last') }}
        end as period_target,
        case
            when a.period_first_quarter = a.period_last_quarter then a.last_quarter_realisation
            -- a composite realisation needs every quarter with a target reported
            -- (take_last_known: only the latest quarter with a target)
            when a.quarters_with_target = 0 then null
            when a.consolidation in ('sum', 'average') and a.quarters_missing_realisation > 0 then null
            else {{ consolidate('a.consolidation', 'a.realisation_sum', 'a.realisation_avg', 'a.realisation_last') }}
        end as period_realisation,
        case
            when a.period_first_quarter = a.period_last_quarter then coalesce(a.is_komplemen_remaining, false)
            when a.period = 'Y' and a.target_y is not null then coalesce(a.is_komplemen_remaining, false)
            else a.any_komplemen_remaining
        end as target_is_komplemen_remaining,
        case
            when a.period_first_quarter = a.period_last_quarter
                then case when a.last_quarter_report_id is null then [] else [a.last_quarter_report_id] end
            when a.consolidation = 'take_last_known'
                then case when a.last_target_quarter_report_id is null then []
                    else [a.last_target_quarter_report_id] end
            else coalesce(a.target_quarter_report_ids, [])
        end as realisation_report_ids,
        -- every report (corrections included) behind those latest ones
        case
            when a.period_first_quarter = a.period_last_quarter
                then cast(coalesce(a.last_quarter_reports_count, 0) as hugeint)
            when a.consolidation = 'take_last_known' then a.last_target_quarter_reports_count
            else a.target_quarter_reports_count
        end as realisation_reports_count
    from period_aggregates as a
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
