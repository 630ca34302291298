-- Audit findings about realisation reports (DOMAIN.md section 8), per line and quarter:
-- REALISATION_UNKNOWN_IKU: the latest report for (contract, IKU, quarter) names an IKU that is not
--   in force in that KK in that quarter (or a KK that does not exist); event_id carries its
--   report_id, the record to correct.
-- REALISATION_MISSING: a line with a target in a quarter has no report at an as-of date after the
--   due date (the 15th calendar day after the quarter's last day).
with reports as (
    select * from {{ ref('int_realisations_latest') }}
),

line_quarters as (
    select * from {{ ref('int_line_quarters') }}
),

contracts as (
    select contract_id, year, start_quarter, end_quarter from {{ ref('int_contracts') }}
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
    from reports as r
    left join contracts as c on r.contract_id = c.contract_id
    where not exists (
        select 1 from line_quarters as lq
        where lq.contract_id = r.contract_id and lq.iku_code = r.iku_code and lq.quarter = r.quarter
    )
),

missing as (
    select
        'REALISATION_MISSING' as rule,
        lq.year,
        lq.contract_id,
        lq.iku_code,
        'Q' || cast(lq.quarter as varchar) as period,
        cast(null as varchar) as event_id,
        lq.iku_code || '|Q' || cast(lq.quarter as varchar) as natural_key,
        'KK ' || lq.contract_id || ' line ' || lq.iku_code || ' has a Q' || cast(lq.quarter as varchar)
            || ' target of ' || cast(lq.target as varchar) || ' but no realisation report; it was due on '
            || cast({{ realisation_due_date('lq.year', 'lq.quarter') }} as varchar) || ' (as of '
            || cast({{ as_of_date() }} as varchar) || ').' as detail
    from line_quarters as lq
    where lq.target is not null
        and {{ as_of_date() }} > {{ realisation_due_date('lq.year', 'lq.quarter') }}
        and not exists (
            select 1 from reports as r
            where r.contract_id = lq.contract_id and r.iku_code = lq.iku_code and r.quarter = lq.quarter
        )
)

select * from unknown
union all
select * from missing
