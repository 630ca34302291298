"""Smoke test of the benchmark machinery (`make bench`): the tiny scale, one run, two years.

Speed is never asserted here; the test checks that every figure of docs/benchmarks.json is
produced, that peak memory includes the dbt child, and that the raw-SQL floor reproduces
marts.iku_achievement.
"""
from __future__ import annotations

import json
import os

import pytest

from kinerja.bench.cache import DROP_CACHES, read_back
from kinerja.bench.report import BEGIN, END
from kinerja.bench.run import main

pytestmark = pytest.mark.slow

FIGURES = ("batch", "ingest", "build", "floor", "check", "publish", "night", "multiyear_night",
           "night_paired")


def test_bench_tiny_writes_every_figure(tmp_path):
    out, md = tmp_path / "bench.json", tmp_path / "BENCH.md"
    md.write_text("# Benchmarks\n\nprose kept\n")
    assert main(["--scale", "tiny", "--runs", "1", "--years", "2", "--cache",
                 str(tmp_path / "cache"), "--json", str(out), "--markdown", str(md)]) == 0
    result = json.loads(out.read_text())
    for key in FIGURES:
        for metric in ("wall_s", "cpu_s", "peak_rss_mib"):
            fig = result["figures"][key][metric]
            assert fig["runs"] == 1 and fig["min"] <= fig["median"] <= fig["max"], (key, metric)
            assert fig["median"] > 0, (key, metric)
    for step in ("ingest", "build", "check", "publish"):
        assert result["batch_steps_inside_full_batch"][step]["runs"] == 1
    assert set(result["ratios"]) == {
        f"{r}{suffix}" for r in ("build_over_floor", "night_over_full_batch",
                                 "multiyear_night_over_night") for suffix in ("", "_cpu")} | {
        "night_over_full_batch_paired", "multiyear_night_over_night_paired"}
    # a pair's ratio is its two measures' wall times (one run each here)
    f = result["figures"]
    assert result["ratios"]["multiyear_night_over_night_paired"]["median"] == round(
        f["multiyear_night"]["wall_s"]["median"] / f["night_paired"]["wall_s"]["median"], 3)
    assert result["ratios"]["night_over_full_batch_paired"]["runs"] == 1
    # dbt runs as a child of the build step: its memory is counted
    build = result["figures"]["build"]["peak_rss_mib"]["median"]
    assert build >= result["figures"]["ingest"]["peak_rss_mib"]["median"] * 0.5
    assert result["floor_vs_dbt"]["equal"], result["floor_vs_dbt"]
    assert result["night_rows"]["events"] >= 1 and result["night_rows"]["reports"] >= 1
    assert result["multiyear_full_batch"]["wall_s"] > 0
    # the nights are incremental builds and publications on top of the full batch
    # the paired 1-year night runs on a restored copy of run 1's built warehouse: still a night
    for night in ("night_steps", "paired_night_steps", "multiyear_night_steps"):
        assert result[night]["build"]["mode"] == "incremental", result[night]
        assert result[night]["publish"]["mode"] == "incremental", result[night]
    assert result["batch_steps_inside_full_batch"]  # the full batch itself was full
    assert "(incremental, " in md.read_text()
    assert result["dbt_nodes_full_build"][0]["total_nodes"] > 0
    for night in ("night_steps", "multiyear_night_steps"):  # the full batch's check recorded
        assert result[night]["check"]["scope"] == "changed", result[night]
    assert result["machine"]["cpus"] >= 1 and result["load_average"]["end"]
    assert 0 < result["cpu_probe_s"]["start"] and 0 < result["cpu_probe_s"]["end"]
    # every measured step started from a settled cache (dropped where the bench may: root)
    assert result["page_cache"]["dropped_before_each_step"] == os.access(DROP_CACHES, os.W_OK)
    text = md.read_text()
    assert text.startswith("# Benchmarks\n\nprose kept\n") and BEGIN in text and END in text
    assert "dbt build / floor" in text and "measured just before it" in text


def test_read_back_reads_every_file_under_a_path(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.bin").write_bytes(b"1" * 1000)
    (tmp_path / "y.bin").write_bytes(b"2" * 24)
    assert read_back([tmp_path]) == 1024
    assert read_back([tmp_path / "y.bin"]) == 24
