"""The landing factory writes files with exactly the worked examples' Arrow types."""
from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from tests.conftest import EXAMPLE_LANDING
from tests.landing_factory import line, minimal_landing, signed_event, write_feed

EXAMPLE_FILES = {
    "contract_events": "ce_01_events.parquet",
    "realisations": "re_01_reports.parquet",
    "units": "un_01_tree.parquet",
}


@pytest.mark.parametrize("feed", sorted(EXAMPLE_FILES))
def test_factory_schema_matches_example_files(tmp_path, feed):
    minimal_landing(tmp_path)
    ours = pq.read_schema(tmp_path / feed / f"{feed}.parquet")
    theirs = pq.read_schema(EXAMPLE_LANDING / feed / EXAMPLE_FILES[feed])
    assert ours.equals(theirs, check_metadata=False)


def test_target_is_max_only_when_set(tmp_path):
    path = write_feed(tmp_path, "contract_events",
                      [signed_event(lines=[line("A", target_is_max=True), line("B")])], name="t.parquet")
    lines = pq.read_table(path).column("lines").to_pylist()[0]
    assert [ln["target_is_max"] for ln in lines] == [True, None]


def test_retyped_string_column_gets_iso_text(tmp_path):
    import pyarrow as pa

    from tests.landing_factory import report, write_feed as write

    path = write(tmp_path, "realisations", [report("RP-1", reported_at="2026-04-10T03:00")],
                 types={"reported_at": pa.string(), "value": pa.string()})
    row = pq.read_table(path).to_pylist()[0]
    assert (row["reported_at"], row["value"]) == ("2026-04-10T03:00:00+00:00", "90.0")


def test_bad_date_strings_are_kept_for_invalid_files():
    from tests.landing_factory import report

    assert report("RP-1", reported_at="tomorrow")["reported_at"] == "tomorrow"
