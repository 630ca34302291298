-- Audit findings about komplemen KKs (DOMAIN.md section 6 "komplemen"):
-- KOMPLEMEN_LATE and KOMPLEMEN_AFTER_CUTOFF per komplemen event, KOMPLEMEN_TARGET_MISMATCH per
-- line and period where a declared remaining target differs from the computed one.
with deadlines as (
    select * from {{ ref('int_audit_event_deadlines') }}
    where event_type = 'komplemen'
),

events as (
    select event_id, replaces_contract_id
    from {{ ref('stg_contract_events') }}
),

late as (
    select
        'KOMPLEMEN_LATE' as rule,
        d.year,
        d.contract_id,
        cast(null as varchar) as iku_code,
        cast(null as varchar) as period,
        d.event_id,
        d.event_id as natural_key,
        'Komplemen KK ' || d.contract_id || ' (event ' || d.event_id || ', replaces '
            || coalesce(e.replaces_contract_id, '?') || ') was signed on '
            || cast(d.signed_date as varchar) || ', after its deadline '
            || cast(d.deadline_date as varchar) || ' (' || d.deadline_rule || ' on '
            || cast(d.effective_date as varchar) || ').' as detail
    from deadlines as d
    left join events as e on d.event_id = e.event_id
    where d.is_late
        -- a komplemen that should not exist at all is reported as KOMPLEMEN_AFTER_CUTOFF only
        and not d.is_after_cutoff
),

after_cutoff as (
    select
        'KOMPLEMEN_AFTER_CUTOFF' as rule,
        d.year,
        d.contract_id,
        cast(null as varchar) as iku_code,
        cast(null as varchar) as period,
        d.event_id,
        d.event_id as natural_key,
        'Komplemen KK ' || d.contract_id || ' (event ' || d.event_id || ', replaces '
            || coalesce(e.replaces_contract_id, '?') || ') starts on '
            || cast(d.effective_date as varchar) || ', after the cutoff ' || cast(d.cutoff_date as varchar)
            || ': no komplemen is allowed; the successor should continue KK '
            || coalesce(e.replaces_contract_id, '?') || ' (the komplemen is still built as given).'
            as detail
    from deadlines as d
    left join events as e on d.event_id = e.event_id
    where d.is_after_cutoff
),

targets as (
    select
        t.*,
        c.creating_event_id
    from {{ ref('komplemen_targets') }} as t
    inner join {{ ref('int_contracts') }} as c on t.contract_id = c.contract_id
    where t.declared_target is not null
        and t.computed_target is not null
        -- relative tolerance 1e-6 (DOMAIN.md); a computed 0 needs an exact declared 0
        and {{ audit_values_differ('t.declared_target', 't.computed_target') }}
),

target_mismatch as (
    select
        'KOMPLEMEN_TARGET_MISMATCH' as rule,
        year,
        contract_id,
        iku_code,
        period,
        creating_event_id as event_id,
        iku_code || '|' || period as natural_key,
        'Komplemen KK ' || contract_id || ' (event ' || creating_event_id || ', handover Q'
            || cast(handover_quarter as varchar) || ', replaces ' || replaces_contract_id
            || ') declares ' || iku_code || ' ' || period || ' target ' || cast(declared_target as varchar)
            || ' but the remaining-target rule gives ' || cast(computed_target as varchar)
            || ' (predecessor realisation ' || coalesce(cast(r_prev as varchar), 'none')
            || '); the declared target is used.' as detail
    from targets
)

select * from late
union all
select * from after_cutoff
union all
select * from target_mismatch
