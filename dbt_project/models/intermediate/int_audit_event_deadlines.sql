-- The signing deadline of every signed, addendum and komplemen event (DOMAIN.md section 6), in
-- one place so the audit models and their unit tests share it. deadline_date is the last day the
-- signature may carry; is_late compares signed_date with it (null when either is unknown).
with events as (
    select
        event_id,
        event_type,
        contract_id,
        year,
        position_level,
        reason,
        effective_date,
        effective_period,
        signed_date,
        {{ cutoff_date('year') }} as cutoff_date
    from {{ ref('stg_contract_events') }}
    where event_type in ('signed', 'addendum', 'komplemen')
),

deadlines as (
    select
        *,
        -- a KK or komplemen whose holder starts after 18 October must not exist (KK_AFTER_CUTOFF,
        -- KOMPLEMEN_AFTER_CUTOFF); it then has no deadline of its own
        event_type in ('signed', 'komplemen') and effective_date > cutoff_date as is_after_cutoff,
        -- staffing_change addenda are allowed only for level 5 (pelaksana / fungsional) KKs
        not (event_type = 'addendum' and reason = 'staffing_change' and position_level <> 5)
            as is_allowed,
        case
            when event_type = 'signed' and reason in ('returning', 'transfer_in')
                then {{ calendar_days_after('effective_date', 15) }}
            when event_type = 'signed' and reason = 'new_cpns'
                then {{ working_days_after('effective_date', 15) }}
            when event_type = 'signed'
                then make_date(year, 1, 31)
            when event_type = 'komplemen'
                then {{ working_days_after('effective_date', 15) }}
            when reason in ('regulation', 'minister_policy')
                then cutoff_date
            when reason = 'staffing_change'
                then least({{ calendar_days_after('effective_date', 15) }}, cutoff_date)
            else make_date(year, 7, 20)
        end as deadline_date,
        case
            when event_type = 'signed' and reason in ('returning', 'transfer_in')
                then '15 calendar days after the start of work'
            when event_type = 'signed' and reason = 'new_cpns'
                then '15 working days after the CPNS appointment was received'
            when event_type = 'signed'
                then '31 January of the year (ordinary yearly KK)'
            when event_type = 'komplemen'
                then '15 working days after the start of work'
            when reason in ('regulation', 'minister_policy')
                then '18 October (addendum for ' || reason || ')'
            when reason = 'staffing_change'
                then '15 days after the staffing change and not after 18 October'
            else '20 July (addendum)'
        end as deadline_rule
    from events
)

select
    *,
    signed_date > deadline_date as is_late
from deadlines
