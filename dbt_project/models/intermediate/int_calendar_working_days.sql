-- One row per calendar day 2000-01-01..2101-12-31 with whether it is a working day (DOMAIN.md
-- section 6): Monday to Friday, minus Indonesian national holidays, minus configured
-- collective-leave days (seed collective_leave_days).
-- working_day_seq counts the working days up to and including the day, so "the N-th working day
-- after X" is the working day whose seq is seq(X) + N (macro working_days_after).
-- The range is a var only so that a unit test can look at a short window.
with days as (
    select cast(d as date) as calendar_date
    from generate_series(
        cast('{{ var("calendar_start", "2000-01-01") }}' as date),
        cast('{{ var("calendar_end", "2101-12-31") }}' as date),
        interval 1 day
    ) as t(d)
),

flags as (
    select
        days.calendar_date,
        isodow(days.calendar_date) >= 6 as is_weekend,
        h.holiday_name,
        l.leave_date is not null as is_collective_leave
    from days
    left join {{ ref('int_calendar_holidays') }} as h
        on days.calendar_date = cast(h.holiday_date as date)
    left join {{ ref('collective_leave_days') }} as l
        on days.calendar_date = l.leave_date
)

select
    calendar_date,
    is_weekend,
    holiday_name,
    is_collective_leave,
    not is_weekend and holiday_name is null and not is_collective_leave as is_working_day,
    cast(sum(case when not is_weekend and holiday_name is null and not is_collective_leave then 1 else 0 end)
        over (order by calendar_date rows between unbounded preceding and current row) as integer)
        as working_day_seq
from flags
