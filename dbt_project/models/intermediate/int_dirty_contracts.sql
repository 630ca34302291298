-- The contracts an incremental build recomputes (docs/INCREMENTAL.md); empty in a full build.
-- in_fold: the contract's own rows may change, because since the previous build (its as-of and
-- its ingestion watermark in build.runs) a row of it became visible: an event or a report newly
-- ingested, or recorded after the previous as-of; or the as-of passed a date on which a rule
-- about the as-of itself changes its verdict (then its whole year). Closed over komplemen
-- chains, since a successor's targets and a predecessor's end depend on each other.
-- in_changed_year: every contract of a year with an in_fold contract; the cascading models,
-- which compare KKs across the year, recompute these (kinerja/build_state.py then finds the
-- cascading parents and children whose edges or findings really changed).
-- one_year_per_contract: no KK has events of two years (the same on every row).
{{ config(materialized='table', meta={'changed_by': 'never'}) }}

{% if build_mode() == 'incremental' %}
{#- the previous build's as-of and watermark as literals, so the scans of the raw store skip the
    row groups ingested or reported before them (zone maps); no watermark (an empty store then):
    every row is new -#}
{%- set prev = run_query("select prev_as_of, prev_watermark from " ~ source('build', 'runs')
                         ~ " where status = 'running' order by build_id desc limit 1").rows[0] -%}
{%- set newly_ingested = "ingested_at > timestamp '" ~ prev[1] ~ "'" if prev[1] is not none
                         else 'true' -%}
{%- set after_prev_as_of = "(date '" ~ prev[0] ~ "' + interval 1 day)" -%}
with recursive build as (
    select as_of, prev_as_of
    from {{ source('build', 'runs') }}
    where status = 'running'
    order by build_id desc
    limit 1
),

events as (
    select e.contract_id, e.year, e.event_type, e.replaces_contract_id,
           e.recorded_at, e.ingested_at
    from {{ source('raw', 'contract_events') }} as e
    where e.recorded_at < {{ knowledge_cutoff() }}
),

contract_years as (
    select contract_id, min(year) as year, count(distinct year) as years
    from events group by contract_id
),

-- one branch per column, each a range the scan can prune on
new_rows as (
    select contract_id from events where {{ newly_ingested }}
    union
    select contract_id from events where recorded_at >= {{ after_prev_as_of }}
    union
    select contract_id
    from {{ source('raw', 'realisations') }}
    where reported_at < {{ knowledge_cutoff() }} and {{ newly_ingested }}
    union
    select contract_id
    from {{ source('raw', 'realisations') }}
    where reported_at < {{ knowledge_cutoff() }} and reported_at >= {{ after_prev_as_of }}
),

rule_date_years as (
    select y.year
    from (select distinct year from contract_years) as y, build as b
    where len(list_filter({{ as_of_rule_dates('y.year') }},
                          lambda d: d >= b.prev_as_of and d < b.as_of)) > 0
),

seeds as (
    select contract_id from new_rows
    union
    select c.contract_id from contract_years as c inner join rule_date_years using (year)
),

-- komplemen links, both ways
chain_links as (
    select contract_id as a, replaces_contract_id as b
    from events where event_type = 'komplemen' and replaces_contract_id is not null
    union
    select replaces_contract_id, contract_id
    from events where event_type = 'komplemen' and replaces_contract_id is not null
),

fold(contract_id) as (
    select contract_id from seeds
    union
    select l.b from fold inner join chain_links as l on l.a = fold.contract_id
),

changed_years as (
    select distinct c.year
    from fold inner join contract_years as c using (contract_id)
),

listed as (
    select contract_id from fold
    union
    select contract_id from contract_years where year in (select year from changed_years)
)

select
    l.contract_id,
    c.year,
    l.contract_id in (select contract_id from fold) as in_fold,
    coalesce(c.year in (select year from changed_years), false) as in_changed_year,
    -- every KK's events name one year: then a model's `year` column says which KKs are in a
    -- changed year (macros/incremental.sql changed_years_condition)
    not exists (select 1 from contract_years where years > 1) as one_year_per_contract
from listed as l
left join contract_years as c using (contract_id)
where l.contract_id is not null

{% else %}
select cast(null as varchar) as contract_id, cast(null as integer) as year,
       cast(null as boolean) as in_fold,
       cast(null as boolean) as in_changed_year,
       cast(null as boolean) as one_year_per_contract
where false
{% endif %}
