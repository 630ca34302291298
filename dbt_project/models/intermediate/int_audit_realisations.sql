-- Audit findings about realisation reports (DOMAIN.md section 8), per line and quarter:
-- REALISATION_UNKNOWN_IKU: the latest report for (contract, IKU, quarter) names an IKU that is not
--   in force in that KK in that quarter (or a KK that does not exist); event_id carries its
--   report_id, the record to correct.
-- REALISATION_MISSING: a line with a target in a quarter has no report at an as-of date after the
--   due date (the 15th calendar day after the quarter's last day).
-- One full outer join pairs every latest report with the line quarter it scores in (both sides are
-- unique on (contract, IKU, quarter)): a report without a line quarter is UNKNOWN_IKU, a line
-- quarter without a report MISSING. The detail names the due date, not the as-of date, so a
-- finding's row only changes when its facts do.
with reports as not materialized (
    select * from {{ ref('int_realisations_latest') }}
),

line_quarters as not materialized (
    select * from {{ ref('int_line_quarters') }}
),

contracts as (
    select contract_id, year, start_quarter, end_quarter from {{ ref('int_contracts') }}
),

paired as (
    select
        lq.year as lq_year,
        lq.contract_id as lq_contract_id,
        lq.iku_code as lq_iku_code,
        lq.quarter as lq_quarter,
        lq.target as lq_target,
        r.contract_id,
        r.iku_code,
        r.quarter,
        r.report_id,
        r.reported_at,
        r.value
    from line_quarters as lq
    full outer join reports as r
        on lq.contract_id = r.contract_id and lq.iku_code = r.iku_code and lq.quarter = r.quarter
),

unknown as (
    select
        'REALISATION_UNKNOWN_IKU' as rule,
        c.year,
        r.contract_id,
        r.iku_code,
        'Q' || cast(r.quarter as varchar) as period,
        r.report_id as event_id,
        r.iku_code || '|Q' || cast(r.quarter as varchar) as natural_key,
        'Report ' || r.report_id || ' (reported ' || strftime(r.reported_at, '%Y-%m-%d %H:%M')
            || ') gives ' || r.iku_code || ' Q' || cast(r.quarter as varchar) || ' = '
            || cast(r.value as varchar) || ' but '
            || case
                when c.contract_id is null then 'KK ' || r.contract_id || ' does not exist'
                when r.quarter < c.start_quarter or r.quarter > c.end_quarter
                    then 'KK ' || r.contract_id || ' does not cover Q' || cast(r.quarter as varchar)
                        || ' (it covers Q' || cast(c.start_quarter as varchar) || '..Q'
                        || cast(c.end_quarter as varchar) || ')'
                else 'that IKU is not in force in KK ' || r.contract_id || ' in Q' || cast(r.quarter as varchar)
            end
            || '; the report does not score.' as detail
    from paired as r
    left join contracts as c on r.contract_id = c.contract_id
    where r.lq_contract_id is null
),

missing as (
    select
        'REALISATION_MISSING' as rule,
        p.lq_year as year,
        p.lq_contract_id as contract_id,
        p.lq_iku_code as iku_code,
        'Q' || cast(p.lq_quarter as varchar) as period,
        cast(null as varchar) as event_id,
        p.lq_iku_code || '|Q' || cast(p.lq_quarter as varchar) as natural_key,
        'KK ' || p.lq_contract_id || ' line ' || p.lq_iku_code || ' has a Q' || cast(p.lq_quarter as varchar)
            || ' target of ' || cast(p.lq_target as varchar) || ' but no realisation report; it was due on '
            || cast({{ realisation_due_date('p.lq_year', 'p.lq_quarter') }} as varchar) || '.' as detail
    from paired as p
    where p.contract_id is null
        and p.lq_contract_id is not null
        and p.lq_target is not null
        and {{ as_of_date() }} > {{ realisation_due_date('p.lq_year', 'p.lq_quarter') }}
)

select * from unknown
union all
select * from missing
