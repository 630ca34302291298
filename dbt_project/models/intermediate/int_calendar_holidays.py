"""Indonesian national holidays (the `holidays` package), one row per date, for every year the
landing contract allows (2000..2100) plus the next year, so deadlines near 31 December resolve.

Python because the Islamic and lunar holidays move every year: the package computes them; a seed
would have to be maintained by hand.
"""
import holidays
import pandas as pd

FIRST_YEAR = 2000
LAST_YEAR = 2101


def model(dbt, session):
    dbt.config(materialized="table")
    calendar = holidays.country_holidays("ID", years=range(FIRST_YEAR, LAST_YEAR + 1))
    rows = sorted(calendar.items())
    return pd.DataFrame(
        {
            "holiday_date": pd.to_datetime([d for d, _ in rows]).date,
            # several holidays can fall on one day; the package already joins their names
            "holiday_name": [name for _, name in rows],
        }
    )
