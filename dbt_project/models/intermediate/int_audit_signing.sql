-- Audit findings about signing a KK (DOMAIN.md section 6 "signed"), one per event:
-- KK_SIGNED_LATE, KK_AFTER_CUTOFF, and MISSING_APPROVAL for every signed, komplemen and addendum
-- event below level 0 that the direct superior did not co-sign.
with deadlines as (
    select * from {{ ref('int_audit_event_deadlines') }}
),

events as (
    select * from {{ ref('stg_contract_events') }}
),

signed_late as (
    select
        'KK_SIGNED_LATE' as rule,
        year,
        contract_id,
        cast(null as varchar) as iku_code,
        cast(null as varchar) as period,
        event_id,
        event_id as natural_key,
        'KK ' || contract_id || ' (event ' || event_id || ', reason ' || coalesce(reason, 'annual')
            || ') was signed on ' || cast(signed_date as varchar) || ', after its deadline '
            || cast(deadline_date as varchar) || ' (' || deadline_rule || '; start '
            || cast(effective_date as varchar) || ').' as detail
    from deadlines
    where event_type = 'signed'
        and is_late
        -- a KK that should not exist at all is reported as KK_AFTER_CUTOFF, not as late
        and not is_after_cutoff
),

after_cutoff as (
    select
        'KK_AFTER_CUTOFF' as rule,
        year,
        contract_id,
        cast(null as varchar) as iku_code,
        cast(null as varchar) as period,
        event_id,
        event_id as natural_key,
        'KK ' || contract_id || ' (event ' || event_id || ', reason ' || coalesce(reason, 'annual')
            || ') starts on ' || cast(effective_date as varchar) || ', after the cutoff '
            || cast(cutoff_date as varchar)
            || ': no new KK may be signed; the holder continues the predecessor''s KK.' as detail
    from deadlines
    where event_type = 'signed'
        and is_after_cutoff
),

missing_approval as (
    select
        'MISSING_APPROVAL' as rule,
        year,
        contract_id,
        cast(null as varchar) as iku_code,
        cast(null as varchar) as period,
        event_id,
        event_id as natural_key,
        case event_type
            when 'addendum' then 'Addendum ' || event_id || ' of KK ' || contract_id
                || ' (effective ' || coalesce(effective_period, '?') || ', reason '
                || coalesce(reason, 'none') || ', signed ' || coalesce(cast(signed_date as varchar), '?')
                || ') has no approval by the direct superior (supervisor_nip is empty).'
            else (case event_type when 'signed' then 'Signed' else 'Komplemen' end) || ' event ' || event_id || ' of KK ' || contract_id
                || ' (level ' || cast(position_level as varchar) || ', signed '
                || coalesce(cast(signed_date as varchar), '?')
                || ') is not co-signed by the direct superior (supervisor_nip is empty).'
        end as detail
    from events
    where event_type in ('signed', 'komplemen', 'addendum')
        and position_level > 0
        and supervisor_nip is null
        -- a change of the yearly target caused by a change of the state budget law needs no approval
        and not (event_type = 'addendum' and coalesce(reason, '') = 'apbn_change')
)

select * from signed_late
union all
select * from after_cutoff
union all
select * from missing_approval
