"""Run one step in a fresh child process and measure its wall time and peak memory.

Peak RSS is the largest of (a) the sum of the resident memory of the child and all its
descendants, sampled every 50 ms with psutil, (b) the child's own peak (VmHWM, reported by
step.py) and (c) its largest waited-for child's getrusage maximum (dbt). (a) sees the batch
process and dbt at the same time; (b) and (c) see a peak shorter than the sampling interval.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

SAMPLE_SECONDS = 0.05  # CPU time of the child tree is read from getrusage, not sampled
MIB = 1024 * 1024


class StepFailed(RuntimeError):
    pass


@dataclass
class Measure:
    step: str
    wall_s: float
    peak_rss_mib: float
    sampled_tree_rss_mib: float
    maxrss_self_mib: float
    maxrss_children_mib: float
    cpu_s: float
    result: dict[str, Any] = field(default_factory=dict)


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure_step(step: str, args: dict, log=None) -> Measure:
    cmd = [sys.executable, "-m", "kinerja.bench.step", step, json.dumps(args, default=str)]
    started = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            proc = psutil.Process(child.pid)
        except psutil.Error:
            return
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc))
            stop.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = child.communicate()
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise StepFailed(f"bench step {step} failed (exit {child.returncode}): {err.strip()[-3000:]}")
    report = json.loads(out.strip().splitlines()[-1])
    self_mib = report["maxrss_self_kib"] / 1024
    children_mib = report["maxrss_children_kib"] / 1024
    m = Measure(step, round(wall, 2), round(max(peak / MIB, self_mib, children_mib), 1),
                round(peak / MIB, 1), round(self_mib, 1), round(children_mib, 1), report["cpu_s"], report["result"])
    if log:
        log(f"  {step:8s} {m.wall_s:8.2f} s wall  {m.cpu_s:8.2f} s CPU  peak RSS {m.peak_rss_mib:8.1f} MiB")
    return m
