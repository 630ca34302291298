"""Indonesian national holidays (the `holidays` package), one row per date, for every year the
landing contract allows (2000..2100) plus the next year, so deadlines near 31 December resolve.

Python because the Islamic and lunar holidays move every year: the package computes them; a seed
would have to be maintained by hand. The rows go back as a DuckDB relation (no pandas: importing
it costs seconds on every build).
"""
FIRST_YEAR = 2000
LAST_YEAR = 2101


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def model(dbt, session):
    # Built once per warehouse: a change of this file or of the package list makes the next
    # build full (kinerja/build_state.py), which recreates the table.
    dbt.config(materialized="incremental")
    if dbt.is_incremental:
        return session.sql(f"select * from {dbt.this} where false")
    import holidays  # here: only a full build pays for the import

    calendar = holidays.country_holidays("ID", years=range(FIRST_YEAR, LAST_YEAR + 1))
    # several holidays on one day come back as one entry with the names joined
    values = ",\n".join(
        f"(date '{day.isoformat()}', {_sql_text(name)})" for day, name in sorted(calendar.items())
    )
    return session.sql(
        f"select * from (values {values}) as h(holiday_date, holiday_name)"
    )
